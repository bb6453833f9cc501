//! The demo shop's checkout (`/checkout/{experience}`, served only with `--demo`) against a
//! real server: the page carries the grant into its form, placing the order redeems the
//! grant once, every refusal says why with the JSON endpoint's status, and without `--demo`
//! there is no such page.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::TestServer;
use common::shopper::admitted;
use livequeue_protocol::api::CreateExperience;
use livequeue_server::{Config, demo};
use reqwest::StatusCode;
use serde_json::json;

/// A well-shaped grant that no experience issued.
const UNKNOWN_GRANT: &str = "g_0123456789abcdef0123456789abcdef";

fn demo_config() -> Config {
    Config {
        demo: true,
        // No widget: a path the checkout does not answer is a plain 404.
        dist: PathBuf::from("no-such-dist"),
        ..common::config()
    }
}

async fn demo_server() -> TestServer {
    TestServer::with_config(demo_config()).await
}

async fn grant_of(s: &TestServer, who: &livequeue_protocol::api::JoinResponse) -> String {
    s.state("drop", who)
        .await
        .admission
        .expect("an admission")
        .grant
}

async fn page(s: &TestServer, path: &str) -> (StatusCode, String) {
    let r = s.http.get(s.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn place(s: &TestServer, experience: &str, grant: &str) -> (StatusCode, String) {
    let r = s
        .http
        .post(s.url(&format!("/checkout/{experience}")))
        .form(&[("grant", grant)])
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_demo_experiences_check_out_on_their_own_checkout_page() {
    let s = demo_server().await;
    demo::start(&s.state.engine).await;
    for id in [demo::EXPERIENCE, demo::QUICK_EXPERIENCE] {
        let summary = s.state.engine.summary(id).await.unwrap();
        assert_eq!(summary.checkout_url, format!("/checkout/{id}"));
        let (status, html) = page(&s, &format!("/checkout/{id}?grant={UNKNOWN_GRANT}")).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(&summary.name), "{html}");
    }
}

#[tokio::test]
async fn the_page_names_the_experience_and_posts_the_grant() {
    let s = demo_server().await;
    let me = admitted(&s, 5).await;
    let grant = grant_of(&s, &me).await;
    let r = s
        .http
        .get(s.url(&format!("/checkout/drop?grant={grant}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    for part in [
        "<title>Demo checkout</title>",
        "Experience drop",
        "<form method=\"post\" action=\"/checkout/drop\">",
        &format!("<input type=\"hidden\" name=\"grant\" value=\"{grant}\">"),
        "Place order",
    ] {
        assert!(html.contains(part), "no `{part}` in {html}");
    }
    assert!(
        !html.contains("<script") && !html.contains("style="),
        "{html}"
    );
}

#[tokio::test]
async fn a_link_without_its_grant_answers_400() {
    let s = demo_server().await;
    s.experience("drop", 5).await;
    for path in ["/checkout/drop", "/checkout/drop?grant="] {
        let (status, html) = page(&s, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(html.contains("lacks its grant"), "{path}: {html}");
    }
    let (status, html) = place(&s, "drop", "").await;
    assert_eq!(status, 400);
    assert!(html.contains("lacks its grant"), "{html}");
}

#[tokio::test]
async fn placing_the_order_redeems_the_grant_once() {
    let s = demo_server().await;
    let me = admitted(&s, 5).await;
    let grant = grant_of(&s, &me).await;
    let (status, html) = place(&s, "drop", &grant).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Your order is placed"), "{html}");
    assert!(html.contains("Experience drop"), "{html}");
    assert_eq!(s.state.engine.summary("drop").await.unwrap().redeemed, 1);
    let (status, html) = place(&s, "drop", &grant).await;
    assert_eq!(status, 409, "a grant bought twice: {html}");
    assert!(html.contains("used already"), "{html}");
    let json = s
        .http
        .post(s.url("/api/experiences/drop/redeem"))
        .json(&json!({ "grant": grant }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 409, "the page and the API disagree");
}

#[tokio::test]
async fn bogus_grants_and_experiences_are_refused_with_their_reason() {
    let s = demo_server().await;
    s.experience("drop", 5).await;
    let (status, html) = place(&s, "drop", "not-a-grant").await;
    assert_eq!(status, 400);
    assert!(html.contains("malformed"), "{html}");
    let (status, html) = place(&s, "drop", UNKNOWN_GRANT).await;
    assert_eq!(status, 404);
    assert!(html.contains("never issued"), "{html}");
    let (status, html) = place(&s, "nowhere", UNKNOWN_GRANT).await;
    assert_eq!(status, 404);
    assert!(html.contains("no such sale"), "{html}");
    let (status, _) = page(&s, &format!("/checkout/nowhere?grant={UNKNOWN_GRANT}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_expired_grant_answers_410() {
    let mut config = demo_config();
    config.engine.grant_ttl = Duration::from_millis(300);
    let s = TestServer::with_config(config).await;
    let me = admitted(&s, 5).await;
    let grant = grant_of(&s, &me).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, html) = place(&s, "drop", &grant).await;
    assert_eq!(status, 410, "{html}");
    assert!(html.contains("expired"), "{html}");
}

#[tokio::test]
async fn the_experience_name_is_escaped() {
    let s = demo_server().await;
    let body = CreateExperience {
        id: "drop".into(),
        name: "<script>alert('x')</script> & co".into(),
        stock: 5,
        admission_rate_per_minute: 0.0,
        checkout_url: "/checkout/drop".into(),
        grant_ttl_seconds: None,
    };
    let r = s
        .admin(reqwest::Method::POST, "/api/admin/experiences")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (status, html) = page(&s, &format!("/checkout/drop?grant={UNKNOWN_GRANT}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"),
        "{html}"
    );
}

#[tokio::test]
async fn without_demo_there_is_no_checkout_and_no_grant_is_redeemed() {
    let s = TestServer::with_config(Config {
        dist: PathBuf::from("no-such-dist"),
        ..common::config()
    })
    .await;
    let me = admitted(&s, 5).await;
    let grant = grant_of(&s, &me).await;
    let (status, html) = page(&s, &format!("/checkout/drop?grant={grant}")).await;
    assert_eq!(status, 404);
    assert!(!html.contains("Demo checkout"), "{html}");
    let (status, html) = place(&s, "drop", &grant).await;
    assert_eq!(status, 404);
    assert!(!html.contains("order"), "{html}");
    assert_eq!(
        s.state.engine.summary("drop").await.unwrap().redeemed,
        0,
        "a server without --demo redeemed a grant at /checkout"
    );
}
