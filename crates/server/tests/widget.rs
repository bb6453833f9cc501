//! The built widget from `dist/`: precompressed variants, cache headers and `Vary`.

mod common;

use common::{TempDir, TestServer};

const WASM: &str = "/livequeue-0123456789abcdef_bg.wasm";

/// A `dist/` with a hashed `.wasm`, its `.br` and `.gz` (bodies that say which one was
/// sent), and an `index.html`; removed on drop.
struct Dist(TempDir);

impl Dist {
    fn new(name: &str) -> Self {
        let tmp = TempDir::new(&format!("dist-{name}"));
        let dir = &tmp.0;
        let wasm = dir.join(WASM.trim_start_matches('/'));
        std::fs::write(&wasm, "identity").unwrap();
        std::fs::write(wasm.with_extension("wasm.br"), "brotli").unwrap();
        std::fs::write(wasm.with_extension("wasm.gz"), "gzip").unwrap();
        std::fs::write(dir.join("index.html"), "<html>widget</html>").unwrap();
        Self(tmp)
    }

    async fn server(&self) -> TestServer {
        let mut config = common::config();
        config.dist = self.0.0.clone();
        TestServer::with_config(config).await
    }
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

/// `(Content-Encoding, body)` of the wasm fetched with `accept` as `Accept-Encoding`.
async fn fetch_wasm(s: &TestServer, accept: Option<&str>) -> (Option<String>, String) {
    let mut request = s.http.get(s.url(WASM));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), 200, "the wasm is not served");
    (header(&r, "content-encoding"), r.text().await.unwrap())
}

#[tokio::test]
async fn the_wasm_is_sent_brotli_when_the_client_takes_brotli() {
    let dist = Dist::new("br");
    let s = dist.server().await;
    assert_eq!(
        fetch_wasm(&s, Some("br, gzip")).await,
        (Some("br".into()), "brotli".into()),
        "a client taking br and gzip did not get the .br file"
    );
}

#[tokio::test]
async fn the_wasm_is_sent_gzip_when_the_client_takes_only_gzip() {
    let dist = Dist::new("gz");
    let s = dist.server().await;
    assert_eq!(
        fetch_wasm(&s, Some("gzip")).await,
        (Some("gzip".into()), "gzip".into()),
        "a client taking only gzip did not get the .gz file"
    );
}

#[tokio::test]
async fn the_wasm_is_sent_as_is_when_the_client_takes_no_encoding() {
    let dist = Dist::new("identity");
    let s = dist.server().await;
    assert_eq!(
        fetch_wasm(&s, None).await,
        (None, "identity".into()),
        "a client taking no encoding got a compressed body"
    );
}

#[tokio::test]
async fn hashed_files_are_cached_for_a_year_and_vary_on_encoding() {
    let dist = Dist::new("immutable");
    let s = dist.server().await;
    let r = s
        .http
        .get(s.url(WASM))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable"),
        "a hashed file is not cached as immutable"
    );
    assert!(
        header(&r, "vary").is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "a precompressed file does not vary on Accept-Encoding"
    );
}

#[tokio::test]
async fn html_is_revalidated_on_every_load() {
    let dist = Dist::new("html");
    let s = dist.server().await;
    for path in ["/", "/index.html", "/console"] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path} is not served");
        assert_eq!(
            header(&r, "cache-control").as_deref(),
            Some("no-cache"),
            "{path}: HTML cached without revalidation would pin an old release"
        );
        assert!(
            r.text().await.unwrap().contains("widget"),
            "{path} is not the widget"
        );
    }
}
