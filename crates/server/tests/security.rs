//! The security headers on every kind of answer, the widget page's policy, and startup
//! errors for bad origin lists.

mod common;

use clap::Parser;
use common::{TempDir, TestServer};
use livequeue_server::Args;
use livequeue_server::security::{Sources, sha256_base64};

const INLINE: &str = "\nimport init from '/livequeue-0123456789abcdef.js';\nawait init();\n";

/// A `dist/` whose `index.html` has one inline module script, as trunk writes it.
fn dist(name: &str) -> TempDir {
    let dist = TempDir::new(&format!("sec-{name}"));
    std::fs::write(
        dist.0.join("index.html"),
        format!("<!doctype html><head><script type=\"module\">{INLINE}</script></head>"),
    )
    .unwrap();
    dist
}

async fn demo_server(dist: &TempDir) -> TestServer {
    let mut config = common::config();
    config.dist = dist.0.clone();
    config.demo = true;
    config.frame_ancestors = Sources::frame_ancestors("https://shop.example").unwrap();
    let server = TestServer::with_config(config).await;
    server.experience("e1", 10).await;
    server
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name}", r.url()))
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_kind_of_answer_has_nosniff_a_referrer_policy_and_a_csp() {
    let dist = dist("every");
    let s = demo_server(&dist).await;
    for path in [
        "/?experience=e1",
        "/some/client/route",
        "/embed.js",
        "/api/queue/e1",
        "/api/nothing-here",
        "/healthz",
        "/checkout/e1?grant=g",
    ] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        let referrer = header(&r, "referrer-policy");
        assert!(
            ["no-referrer", "same-origin"].contains(&referrer.as_str()),
            "{path}: Referrer-Policy {referrer}"
        );
        let csp = header(&r, "content-security-policy");
        assert!(csp.contains("frame-ancestors"), "{path}: {csp}");
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src") || d.trim().starts_with("default-src"));
        assert!(
            scripts.is_some_and(|d| !d.contains("unsafe-inline")),
            "{path}: scripts may run inline: {csp}"
        );
    }
}

#[tokio::test]
async fn the_widget_page_allows_its_inline_script_by_hash_and_only_the_configured_framers() {
    let dist = dist("widget");
    let s = demo_server(&dist).await;
    for path in ["/?experience=e1", "/index.html", "/a/route/of/the/widget"] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = header(&r, "content-security-policy");
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.split(' ').next() == Some(name))
                .unwrap_or_else(|| panic!("{path}: no {name} in {csp}"))
                .to_owned()
        };
        let scripts = directive("script-src");
        assert!(
            scripts.contains(&format!("'sha256-{}'", sha256_base64(INLINE))),
            "{path}: the inline script's hash is missing: {csp}"
        );
        assert!(!scripts.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            directive("frame-ancestors"),
            "frame-ancestors https://shop.example"
        );
        assert_eq!(directive("connect-src"), "connect-src 'self'");
        assert_eq!(header(&r, "referrer-policy"), "no-referrer");
    }
}

#[tokio::test]
async fn the_loader_is_javascript_revalidated_and_answered_304_when_unchanged() {
    let dist = dist("embed");
    let s = demo_server(&dist).await;
    let r = s.http.get(s.url("/embed.js")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&r, "cache-control"), "no-cache");
    let etag = header(&r, "etag");
    assert!(r.text().await.unwrap().contains("livequeue"));
    let again = s
        .http
        .get(s.url("/embed.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "an unchanged loader is sent again");
}

#[test]
fn a_malformed_frame_ancestor_stops_the_server_at_start_naming_it() {
    for (flag, junk) in [
        ("--frame-ancestors", "shop.example"),
        ("--frame-ancestors", "*"),
        ("--frame-ancestors", "https://shop.example/path"),
        ("--connect-src", "javascript:alert(1)"),
    ] {
        let error = Args::try_parse_from(["livequeue-server", flag, junk])
            .expect_err(&format!("{flag} {junk} was accepted"))
            .to_string();
        assert!(
            error.contains(junk) && error.contains(flag),
            "the error does not name {flag} {junk}: {error}"
        );
    }
    let ok = Args::try_parse_from([
        "livequeue-server",
        "--frame-ancestors",
        "'self' https://shop.example,http://127.0.0.1:9000",
    ])
    .unwrap();
    assert_eq!(
        ok.frame_ancestors.to_string(),
        "'self' https://shop.example http://127.0.0.1:9000"
    );
}
