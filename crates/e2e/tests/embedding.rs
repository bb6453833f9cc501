//! Embedding the widget in a shop's page, in headless Chromium against the real server:
//! the loader, the messages and their origins, credentials in the fragment, the security
//! headers, and who may frame the widget.
//!
//! Each test starts its own server (`--demo`, `LIVEQUEUE_FRAME_ANCESTORS` = the test shop's
//! origin), its shops (other origins: "shop", configured; "foreign", not) and its browser.

use std::time::Duration;

use livequeue_e2e::browser::{Browser, PATIENCE};
use livequeue_e2e::server::QueueServer;
use livequeue_e2e::shop::{Shop, recording_page};
use livequeue_e2e::{snippet, widget};
use serde_json::Value as Json;

/// The demo's short line: about fifteen ahead, people join and leave, so it moves.
const QUICK: &str = "demo-quick";

/// A shop, a foreign origin, and a server that lets the shop (only) frame the widget.
async fn world(name: &str) -> (Shop, Shop, QueueServer) {
    let (shop, foreign) = (Shop::start().await, Shop::start().await);
    let server = QueueServer::start(name, &shop.origin).await;
    (shop, foreign, server)
}

/// Inside the widget's frame, a function `heights()`: the widget's content height as the
/// page needs it (its box and the margins around it), the frame's own height, in CSS px,
/// and whether anything overflows (would need scrolling); `null` before the widget is up.
const HEIGHTS: &str = r#"function heights() {
  const root = document.querySelector(".lq-widget");
  if (!root) return null;
  const box = root.getBoundingClientRect();
  const style = getComputedStyle(root);
  return {
    content: box.height + parseFloat(style.marginTop) + parseFloat(style.marginBottom),
    frame: innerHeight,
    overflows: document.documentElement.scrollHeight > innerHeight + 1,
  };
}"#;

/// Waits until the frame is as tall as the widget's content (within 3 px, nothing cut off)
/// and returns that height.
async fn settled_height(browser: &Browser, what: &str) -> f64 {
    settled(browser, what, None).await
}

/// [`settled_height`] at a height more than 3 px away from `before`.
async fn settled_height_other_than(browser: &Browser, before: f64, what: &str) -> f64 {
    settled(browser, what, Some(before)).await
}

async fn settled(browser: &Browser, what: &str, other_than: Option<f64>) -> f64 {
    let moved = other_than.map_or("true".to_owned(), |b| {
        format!("Math.abs(h.frame - {b}) > 3")
    });
    let check = format!(
        "{HEIGHTS}\nconst h = heights();\n\
         return {{ ok: !!h && {moved} && Math.abs(h.content - h.frame) <= 3 && !h.overflows, h }};"
    );
    let h = browser.wait_in_frame(0, what, &check, PATIENCE).await;
    h["h"]["frame"].as_f64().expect("a height")
}

/// A browser on the shop's page `/`, a [`recording_page`] with `body`.
async fn open(shop: &Shop, body: &str) -> Browser {
    shop.page("/", recording_page(body));
    let browser = Browser::start().await;
    browser.goto(&shop.url("/")).await;
    browser
}

/// The iframe the loader made (`src`, `title`), once it is there.
async fn loader_frame(browser: &Browser) -> Json {
    browser
        .wait_js(
            "the loader creates the iframe inside data-target",
            r#"const f = document.querySelector('#queue > iframe');
               return f && { src: f.src, title: f.title };"#,
            PATIENCE,
        )
        .await
}

/// Waits until the widget in the page's first frame offers its Join button.
async fn join_button(browser: &Browser, what: &str) {
    browser.wait_in_frame(0, what, JOIN_SHOWN, PATIENCE).await;
}

/// Whether the widget offers its Join button.
const JOIN_SHOWN: &str =
    r#"return document.querySelector("[data-action=join]:not([hidden])") !== null;"#;

/// Presses the widget's Join button and waits for the place it shows.
async fn press_join(browser: &Browser, what: &str) -> u64 {
    browser
        .js_in_frame(
            0,
            r#"document.querySelector("[data-action=join]").click();"#,
        )
        .await;
    shown_place(browser, what).await
}

/// The number the widget shows as the place in line, once it shows one.
async fn shown_place(browser: &Browser, what: &str) -> u64 {
    let text = browser
        .wait_in_frame(
            0,
            what,
            r#"const v = document.querySelector(".lq-position-value");
               const digits = v ? v.textContent.replace(/[^0-9]/g, "") : "";
               return digits.length ? digits : null;"#,
            PATIENCE,
        )
        .await;
    text.as_str().and_then(|t| t.parse().ok()).expect("a place")
}

/// Messages of `type` the page received.
fn of_type<'a>(got: &'a Json, kind: &str) -> Vec<&'a Json> {
    got.as_array()
        .expect("got is a list")
        .iter()
        .filter(|m| m["data"]["type"] == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loader_creates_the_frame_and_its_height_follows_the_widget() {
    let (shop, _foreign, server) = world("loader").await;
    // The guide's snippet, with the optional attributes a shop may add.
    let snippet = snippet::for_queue(&server.origin, QUICK).replace(
        "data-target=",
        r##"data-theme="dark" data-accent="#0a7" data-transport="sse" data-target="##,
    );
    let browser = open(&shop, &snippet).await;

    let frame = loader_frame(&browser).await;
    let src = frame["src"].as_str().unwrap();
    assert!(
        src.starts_with(&format!("{}/?", server.origin)),
        "the frame is not the widget's page: {src}"
    );
    assert!(
        src.contains("experience=demo-quick")
            && src.contains(&format!(
                "parentOrigin={}",
                shop.origin.replace(':', "%3A").replace('/', "%2F")
            )),
        "the frame's URL lacks the experience or the page's origin: {src}"
    );
    assert_eq!(
        frame["title"], "Virtual queue",
        "the frame's accessible name"
    );
    for param in ["theme=dark", "accent=%230a7", "transport=sse"] {
        assert!(src.contains(param), "the frame's URL lacks {param}: {src}");
    }

    join_button(
        &browser,
        "the widget shows its Join button inside the frame",
    )
    .await;
    let before = settled_height(&browser, "the frame takes the height of the Join panel").await;

    press_join(&browser, "the widget shows a place after joining").await;
    let after = settled_height_other_than(
        &browser,
        before,
        "the frame's height changes with the widget's content after joining",
    )
    .await;

    assert!(
        after > before,
        "the place card ({after} px) should be taller than the Join panel ({before} px)"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_go_only_to_the_parent_origin_it_names() {
    let (shop, foreign, server) = world("targets").await;
    let frame = |parent: &str| {
        format!(
            r#"<iframe src="{}/?experience=demo-quick&join=auto&parentOrigin={}" title="Queue" width="500" height="600"></iframe>"#,
            server.origin, parent
        )
    };
    // The page is the shop's, but tells the widget another origin is its parent.
    shop.page("/wrong", recording_page(&frame(&foreign.origin)));
    shop.page("/right", recording_page(&frame(&shop.origin)));
    let browser = Browser::start().await;

    browser.goto(&shop.url("/wrong")).await;
    shown_place(
        &browser,
        "the widget framed with a wrong parentOrigin runs and joins",
    )
    .await;
    // Long enough for a ready, a position and a resize to have been posted and delivered.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = browser.js("return window.got;").await;
    assert_eq!(
        got.as_array().map(Vec::len),
        Some(0),
        "a page that is not parentOrigin received the widget's messages: {got}"
    );

    browser.goto(&shop.url("/right")).await;
    let got = browser
        .wait_js(
            "the page named as parentOrigin receives ready, position and resize",
            r#"const types = got.map(m => m.data.type);
               return { ok: ["ready", "position", "resize"].every(t => types.includes(t)), got };"#,
            PATIENCE,
        )
        .await;
    let got = &got["got"];
    for message in got.as_array().unwrap() {
        assert_eq!(
            message["origin"].as_str(),
            Some(server.origin.as_str()),
            "a message from elsewhere than the widget: {message}"
        );
    }
    let ready = of_type(got, "ready");
    assert_eq!(ready[0]["data"]["experience"], "demo-quick", "{got}");
    let position = of_type(got, "position");
    assert!(
        position
            .iter()
            .any(|m| m["data"]["position"].as_u64().is_some()),
        "no position message carries a place: {got}"
    );
    let resize = of_type(got, "resize");
    assert!(
        resize
            .iter()
            .all(|m| m["data"]["height"].as_f64().is_some_and(|h| h > 0.0)),
        "a resize without a height: {got}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_turn_is_posted_once_with_a_checkout_url_the_shop_can_follow() {
    let (shop, _foreign, server) = world("turn").await;
    // A line that moves only when the operator admits: the turn comes when the test says.
    server.still_experience("turn").await;
    let browser = open(
        &shop,
        &format!(
            r#"<iframe src="{}/?experience=turn&join=auto&parentOrigin={}" title="Queue" width="500" height="700"></iframe>"#,
            server.origin, shop.origin
        ),
    )
    .await;
    // Alone in the line: the place reads "You're next", not a number.
    browser
        .wait_in_frame(
            0,
            "the widget joins the still line",
            r#"const v = document.querySelector(".lq-position-value");
               return v !== null && v.textContent.length > 0;"#,
            PATIENCE,
        )
        .await;
    let before = browser
        .js(r#"return got.filter(m => m.data.type === "admitted").length;"#)
        .await;
    assert_eq!(before, 0, "no turn before the operator admits");
    server.admit("turn", 1).await;
    let turn = browser
        .wait_js(
            "the shop hears of the turn",
            r#"const a = got.filter(m => m.data.type === "admitted");
               return a.length ? a[0] : null;"#,
            PATIENCE,
        )
        .await;
    assert_eq!(turn["origin"].as_str(), Some(server.origin.as_str()));
    // The server's checkout is a path of the widget's origin: the shop gets it whole, so it
    // does not send the shopper to a checkout of its own site.
    let url = turn["data"]["checkoutUrl"]
        .as_str()
        .expect("a checkout URL");
    assert!(
        url.starts_with(&format!("{}/checkout/turn?grant=", server.origin)),
        "{turn}"
    );
    let left_ms = browser
        .js(&format!(
            "return {} - Date.now();",
            turn["data"]["expiresAt"].as_f64().expect("an expiry")
        ))
        .await
        .as_f64()
        .expect("a number");
    assert!(left_ms > 0.0 && left_ms <= 300_000.0, "{turn}");
    // Later updates of the same turn (its countdown, the page's ticks) say nothing new.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let count = browser
        .js(r#"return got.filter(m => m.data.type === "admitted").length;"#)
        .await;
    assert_eq!(count, 1, "one admitted message per turn");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_is_taken_from_the_shop_and_ignored_from_another_origin() {
    let (shop, foreign, server) = world("join").await;
    // A frame of a third origin in the shop's page, posting `join` to the widget's window
    // (its sibling, `parent.frames[0]`) four times a second, and forged widget messages to
    // the shop's page, which the loader must not believe.
    foreign.page(
        "/",
        r#"<!doctype html><title>Foreign</title><script>
window.sent = 0;
setInterval(function () {
  parent.frames[0].postMessage({ source: "livequeue", type: "join" }, "*");
  parent.postMessage({ source: "livequeue", type: "resize", height: 7 }, "*");
  parent.postMessage({ source: "livequeue", type: "position", position: 999999 }, "*");
  window.sent += 1;
}, 250);
</script>"#
            .to_owned(),
    );
    let page = format!(
        r#"{}<iframe src="{}/" title="Someone else"></iframe>"#,
        snippet::for_queue(&server.origin, QUICK),
        foreign.origin
    );
    let browser = open(&shop, &page).await;

    join_button(&browser, "the widget shows its Join button").await;
    browser
        .wait_in_frame(
            1,
            "the foreign frame has posted join a dozen times",
            "return window.sent >= 12;",
            PATIENCE,
        )
        .await;
    let still = browser
        .js_in_frame(
            0,
            r#"return {
                 join: document.querySelector("[data-action=join]:not([hidden])") !== null,
                 place: (document.querySelector(".lq-position-value") || {}).textContent || "",
               };"#,
        )
        .await;
    assert_eq!(
        still["join"], true,
        "a join posted by another origin made the widget join: {still}"
    );
    assert_eq!(still["place"], "", "{still}");
    let loader = browser
        .js(r#"return {
                 height: document.querySelector('#queue > iframe').getBoundingClientRect().height,
                 forged: events.filter(e => e.detail.position === 999999).length,
               };"#)
        .await;
    assert!(
        loader["height"].as_f64().is_some_and(|h| h > 7.5) && loader["forged"] == 0,
        "the loader believed messages from another frame: {loader}"
    );

    browser
        .js(r#"document.querySelector('#queue > iframe').livequeue.join();"#)
        .await;
    shown_place(&browser, "the shop's own join() makes the widget join").await;
    let events = browser
        .wait_js(
            "livequeue:position reaches the shop's document",
            r#"return events.some(e => e.type === "position" && e.target === "IFRAME") ? events : null;"#,
            PATIENCE,
        )
        .await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "ready"),
        "no livequeue:ready event: {events}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_fragment_are_used_and_never_logged() {
    let (shop, _foreign, server) = world("fragment").await;
    // A line that does not move, so the place is exact: three ahead, ours 4th, three after.
    let experience = "e2e-still";
    server.still_experience(experience).await;
    for _ in 0..3 {
        server.join(experience).await;
    }
    let shopper = server.join(experience).await;
    for _ in 0..3 {
        server.join(experience).await;
    }
    let place = server
        .state(experience, &shopper)
        .await
        .position
        .expect("a place");
    assert_eq!(place, 4);

    let snippet = snippet::for_queue(&server.origin, experience).replace(
        "data-target=",
        &format!(
            r#"data-consumer-id="{}" data-token="{}" data-target="#,
            shopper.consumer_id, shopper.token
        ),
    );
    let browser = open(&shop, &snippet).await;

    let frame = loader_frame(&browser).await;
    let src = frame["src"].as_str().unwrap();
    let (query, fragment) = src.split_once('#').expect("the frame's URL has a fragment");
    assert!(
        !query.contains(&shopper.token) && !query.contains("token="),
        "the token is in the frame's query: {src}"
    );
    assert!(
        fragment.contains(&shopper.consumer_id) && fragment.contains("token="),
        "the credentials are not in the fragment: {src}"
    );

    // The number eases to each place: wait for it to come to rest on the shopper's (a
    // widget that joined anew would rest on 8, behind everyone).
    browser
        .wait_in_frame(
            0,
            "the widget shows the shopper's place, 4",
            &widget::shows_place(place),
            PATIENCE,
        )
        .await;
    let address = browser.js_in_frame(0, "return location.href;").await;
    assert!(
        !address.as_str().unwrap().contains("token"),
        "the token stays in the widget's address bar: {address}"
    );

    // The widget has made its requests; the log has them, without the token.
    let log = server.log_text();
    assert!(
        log.contains("livequeue_server::access_log")
            && log.contains(&format!("consumerId={}", shopper.consumer_id))
            && log.contains("token=[redacted]"),
        "no access line for the widget's requests in the log (was the log on?):\n{log}"
    );
    assert!(
        !log.contains(&shopper.token),
        "the shopper's token is in the server's log"
    );
    browser.close().await;
}

/// Each of `name: value` of an answer's headers the tests look at.
fn headers(r: &reqwest::Response) -> (String, String, String) {
    let get = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{} has no {name}", r.url()))
            .to_owned()
    };
    (
        get("content-security-policy"),
        get("x-content-type-options"),
        get("referrer-policy"),
    )
}

/// The directive `name` of a policy, if there.
fn directive<'a>(csp: &'a str, name: &str) -> Option<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find(|d| d.split(' ').next() == Some(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_sends_the_security_headers() {
    let (shop, foreign, server) = world("headers").await;
    let http = &server.http;
    let pages = [
        (server.url("/?experience=demo-quick"), true),
        (server.url("/a/client/route"), true),
        (server.url("/embed.js"), false),
        (server.url("/checkout/demo-quick?grant=g_0"), false),
        (server.url("/api/queue/demo-quick"), false),
        (format!("{}/", server.demo_shop), false),
    ];
    for (url, widget) in pages {
        let r = http.get(&url).send().await.expect(&url);
        let (csp, nosniff, referrer) = headers(&r);
        assert_eq!(nosniff, "nosniff", "{url}");
        assert!(
            [
                "no-referrer",
                "same-origin",
                "strict-origin",
                "strict-origin-when-cross-origin"
            ]
            .contains(&referrer.as_str()),
            "{url}: Referrer-Policy {referrer}"
        );
        let scripts = directive(&csp, "script-src").or_else(|| directive(&csp, "default-src"));
        assert!(
            scripts.is_some_and(|d| !d.contains("'unsafe-inline'")),
            "{url}: scripts may run inline: {csp}"
        );
        let ancestors = directive(&csp, "frame-ancestors")
            .unwrap_or_else(|| panic!("{url}: no frame-ancestors: {csp}"));
        if widget {
            assert!(
                ancestors.split(' ').any(|a| a == shop.origin),
                "{url}: the configured shop may not frame the widget: {csp}"
            );
            assert!(
                !ancestors.contains(&foreign.origin) && !ancestors.contains('*'),
                "{url}: {csp}"
            );
            assert!(
                directive(&csp, "script-src").is_some_and(|d| d.contains("'sha256-")),
                "{url}: trunk's inline script is not allowed by its hash: {csp}"
            );
        }
    }
}

/// Starts collecting the page's CSP violations into `window.__violations`, including
/// those before it ran (`buffered`), once per page.
const OBSERVE_VIOLATIONS: &str = r#"
if (!window.__violations) {
  window.__violations = [];
  new ReportingObserver(function (reports) {
    reports.forEach(function (r) { window.__violations.push(r.body.effectiveDirective + " " + r.body.blockedURL); });
  }, { types: ["csp-violation"], buffered: true }).observe();
}"#;

/// The page's CSP violations so far.
async fn violations(browser: &Browser) -> Json {
    browser
        .js(&format!(
            "{OBSERVE_VIOLATIONS}\nreturn window.__violations;"
        ))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_runs_under_its_policy_and_only_configured_origins_can_frame_it() {
    let (shop, foreign, server) = world("framing").await;
    let browser = Browser::start().await;

    // On its own, live and in line (the place card writes style attributes).
    browser
        .goto(&server.url("/?experience=demo-quick&join=auto"))
        .await;
    browser
        .wait_js(
            "the widget shows a place under its CSP",
            r#"const v = document.querySelector(".lq-position-value");
               return v && /[0-9]/.test(v.textContent);"#,
            PATIENCE,
        )
        .await;
    violations(&browser).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let violations = violations(&browser).await;
    assert_eq!(
        violations.as_array().map(Vec::len),
        Some(0),
        "the widget breaks its own policy: {violations}"
    );
    // The observer does see a violation: an image from another origin is refused.
    browser
        .js(&format!(
            r#"const i = document.createElement("img"); i.src = "{}/pixel.png"; document.body.append(i);"#,
            foreign.origin
        ))
        .await;
    browser
        .wait_js(
            "the policy refuses an image of another origin, and the observer sees it",
            r#"return (window.__violations || []).some(v => v.startsWith("img-src"));"#,
            PATIENCE,
        )
        .await;

    let frame_page = |origin_note: &str| {
        recording_page(&format!(
            r#"<p>{origin_note}</p><iframe src="{}/?experience=demo-quick" title="Queue" width="500" height="600"></iframe>"#,
            server.origin
        ))
    };
    shop.page("/", frame_page("configured"));
    foreign.page("/", frame_page("foreign"));

    browser.goto(&shop.url("/")).await;
    browser
        .wait_in_frame(
            0,
            "the configured shop's frame shows the widget",
            r#"return document.querySelector(".lq-widget [data-action]") !== null;"#,
            PATIENCE,
        )
        .await;

    browser.goto(&foreign.url("/")).await;
    browser
        .wait_js(
            "the foreign page's frame has finished loading",
            r#"return document.readyState === "complete";"#,
            PATIENCE,
        )
        .await;
    // As long as the configured shop's frame needed, and more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The refused frame holds the browser's error page, or nothing a script can reach.
    let inside = browser
        .try_js_in_frame(
            0,
            r#"return document.querySelector(".lq-widget, [data-action]") !== null;"#,
        )
        .await;
    assert!(
        !matches!(inside, Ok(Json::Bool(true))),
        "a page of an origin not configured framed the widget"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shop_embeds_the_widget_and_follows_its_events() {
    let (_shop, _foreign, server) = world("demo-shop").await;
    let browser = Browser::start().await;
    // The demo shop's own origin is allowed to frame the widget without configuration.
    browser.goto(&format!("{}/", server.demo_shop)).await;
    join_button(&browser, "the demo shop's page shows the embedded widget").await;

    browser
        .js(r#"document.getElementById("queue-now").click();"#)
        .await;
    let status = browser
        .wait_js(
            "the shop's header tells the place the widget reports",
            r#"const t = document.getElementById("queue-status").textContent;
               return /^You are [0-9,]+(st|nd|rd|th) in line|^You're next/.test(t) && t;"#,
            PATIENCE,
        )
        .await;
    // The line moves every two seconds: the shop's figure is the widget's of a moment ago.
    shown_place(&browser, "the widget shows the place the shop reports").await;
    assert!(status.is_string(), "{status}");
    let violations = violations(&browser).await;
    assert_eq!(
        violations.as_array().map(Vec::len),
        Some(0),
        "the demo shop breaks its own policy: {violations}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_320_px_the_frame_grows_and_shrinks_with_the_widget() {
    let (shop, _foreign, server) = world("narrow").await;
    let page = format!(
        r#"<div style="width: 320px">{}</div>"#,
        snippet::for_queue(&server.origin, QUICK)
    );
    let browser = open(&shop, &page).await;
    join_button(&browser, "the widget shows its Join button at 320 px").await;
    let joining = settled_height(&browser, "the frame takes the Join panel's height").await;

    press_join(&browser, "the widget shows a place at 320 px").await;
    let waiting =
        settled_height_other_than(&browser, joining, "the frame grows with the place card").await;

    browser
        .js_in_frame(
            0,
            r#"document.querySelector("[data-action=leave]").click();"#,
        )
        .await;
    join_button(&browser, "the widget offers Join again after leaving").await;
    let left =
        settled_height_other_than(&browser, waiting, "the frame shrinks after leaving").await;
    assert!(
        left < waiting && waiting > joining,
        "heights: joining {joining}, in line {waiting}, after leaving {left}"
    );
    browser.close().await;
}

/// Top level: whether the widget shows a place or a CSP violation happened, with both.
const PLACE_OR_VIOLATION: &str = r#"
const v = document.querySelector(".lq-position-value");
return {
  ok: !!v && /[0-9]/.test(v.textContent) || window.__violations.length > 0,
  place: v ? v.textContent : null,
  violations: window.__violations,
};"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_widget_given_another_api_connects_only_where_connect_src_allows() {
    let (api_port, allowed_port, plain_port) = (
        livequeue_e2e::free_port(),
        livequeue_e2e::free_port(),
        livequeue_e2e::free_port(),
    );
    let origin = |port: u16| format!("http://127.0.0.1:{port}");
    let pages = format!("{},{}", origin(allowed_port), origin(plain_port));
    let api = QueueServer::launch("api", api_port, &[("LIVEQUEUE_ALLOWED_ORIGINS", &pages)]).await;
    // The widget's page from a server told the API's origin (its WebSocket twin follows)...
    let allowed = QueueServer::launch(
        "connect-src",
        allowed_port,
        &[("LIVEQUEUE_CONNECT_SRC", &api.origin)],
    )
    .await;
    // ... and from one that was not.
    let plain = QueueServer::launch("plain", plain_port, &[]).await;
    let browser = Browser::start().await;
    // The widget of `server` told to use the other API, once it shows a place or is refused.
    let open_widget = async |server: &QueueServer, what: &str| {
        let url = format!(
            "/?experience=demo-quick&join=auto&transport=ws&api={}",
            api.origin
        );
        browser.goto(&server.url(&url)).await;
        let check = format!("{OBSERVE_VIOLATIONS}\n{PLACE_OR_VIOLATION}");
        browser.wait_js(what, &check, PATIENCE).await
    };

    let seen = open_widget(
        &allowed,
        "the widget joins through the other API over WebSocket",
    )
    .await;
    assert_eq!(
        seen["violations"].as_array().map(Vec::len),
        Some(0),
        "connect-src refused the configured API: {seen}"
    );
    assert!(
        api.log_text().contains("uri=/ws/queue?"),
        "the widget's WebSocket did not reach the other API"
    );

    let seen = open_widget(
        &plain,
        "the widget of a server not told the API is refused by its CSP",
    )
    .await;
    assert!(
        seen["violations"].as_array().is_some_and(|v| v
            .iter()
            .any(|v| v.as_str().is_some_and(|v| v.starts_with("connect-src")))),
        "a page without LIVEQUEUE_CONNECT_SRC reached another API: {seen}"
    );
    browser.close().await;
}
