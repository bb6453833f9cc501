//! The operator console's page from `dist/operator/` at `/operator/`: redirect, fallback,
//! precompression, caching, and its own Content-Security-Policy.

mod common;

use common::{TempDir, TestServer};
use livequeue_server::security::sha256_base64;

const JS: &str = "/operator/livequeue-console-0123456789abcdef.js";
const SCRIPT: &str =
    "\nimport init from '/operator/livequeue-console-0123456789abcdef.js';\nawait init();\n";

/// A `dist/` with the widget's page and the console's build (page, hashed glue and its
/// `.br`); removed on drop.
struct Dist(TempDir);

impl Dist {
    fn new(name: &str, with_console: bool) -> Self {
        let tmp = TempDir::new(&format!("console-{name}"));
        let dir = &tmp.0;
        std::fs::write(dir.join("index.html"), "<html>widget</html>").unwrap();
        if with_console {
            let console = dir.join("operator");
            std::fs::create_dir_all(&console).unwrap();
            let page = format!(
                "<!doctype html><html><head><script type=\"module\">{SCRIPT}</script></head><body>console</body></html>"
            );
            std::fs::write(console.join("index.html"), page).unwrap();
            let js = dir.join(JS.trim_start_matches('/'));
            std::fs::write(&js, "identity").unwrap();
            std::fs::write(js.with_extension("js.br"), "brotli").unwrap();
        }
        Self(tmp)
    }

    async fn server(&self) -> TestServer {
        let mut config = common::config();
        config.dist = self.0.0.clone();
        TestServer::with_config(config).await
    }
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn operator_without_a_slash_redirects_to_the_console_keeping_the_query() {
    let dist = Dist::new("redirect", true);
    let s = dist.server().await;
    let r = no_redirects()
        .get(s.url("/operator?experience=drop"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(header(&r, "location"), "/operator/?experience=drop");
}

#[tokio::test]
async fn the_console_page_is_served_with_its_own_policy_and_revalidated() {
    let dist = Dist::new("page", true);
    let s = dist.server().await;
    for path in [
        "/operator/",
        "/operator/index.html",
        "/operator/experiences/drop",
    ] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path} is cached");
        let csp = header(&r, "content-security-policy");
        assert!(
            csp.contains(&format!("'sha256-{}'", sha256_base64(SCRIPT))),
            "{path}: the inline script is not allowed by its hash: {csp}"
        );
        assert!(
            csp.ends_with("frame-ancestors 'none'"),
            "{path} may be framed: {csp}"
        );
        assert!(csp.contains("connect-src 'self';"), "{path}: {csp}");
        assert!(
            r.text().await.unwrap().contains("console"),
            "{path} is not the console's page"
        );
    }
    // The widget keeps its own page and policy.
    let r = s.http.get(s.url("/")).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("widget"));
}

#[tokio::test]
async fn the_consoles_hashed_files_are_precompressed_and_immutable() {
    let dist = Dist::new("files", true);
    let s = dist.server().await;
    let r = s
        .http
        .get(s.url(JS))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "br");
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(
        header(&r, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert_eq!(r.text().await.unwrap(), "brotli");
}

#[tokio::test]
async fn a_server_without_the_console_built_says_so() {
    let dist = Dist::new("missing", false);
    let s = dist.server().await;
    let r = s.http.get(s.url("/operator/")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("dist/operator/index.html"));
    // A path that only starts like the console's is the widget's.
    let r = s.http.get(s.url("/operators")).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("widget"));
}
