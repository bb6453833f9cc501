//! The operator console (`/operator/`) in headless Chromium against the real server: the
//! token, the live figures and controls, and a line of 1,000,000 whose every row is
//! reachable by scrolling, by keyboard and by "go to place" (in headless Firefox too, whose
//! cap on an element's height is lower).

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use livequeue_e2e::browser::{Browser, PATIENCE};
use livequeue_e2e::server::{OPERATOR, QueueServer};
use livequeue_protocol::api::{ExperienceSummary, SyntheticJoins};
use livequeue_protocol::paths::Endpoint;
use serde_json::Value as Json;

/// Rows in view (480 px of 40 px rows, one more when cut) plus 4 of overscan on each side.
const MOST_ROWS: u64 = 12 + 1 + 2 * 4;

/// Types `value` into the input `selector` as a person would (an `input` event).
fn type_into(selector: &str, value: &str) -> String {
    format!(
        r##"const el = document.querySelector({selector:?});
           el.value = {value:?};
           el.dispatchEvent(new Event("input", {{ bubbles: true }}));"##
    )
}

/// Signs in on a fresh console page and waits for the live figures.
async fn signed_in(browser: &Browser, server: &QueueServer) {
    browser.goto(&server.url("/operator/")).await;
    browser
        .wait_js(
            "the sign-in form",
            r##"return document.querySelector("#lq-token") !== null;"##,
            PATIENCE,
        )
        .await;
    browser
        .js(&(type_into("#lq-token", OPERATOR)
            + r##"document.querySelector(".sign-in form").requestSubmit();"##))
        .await;
    live(browser).await;
}

/// Waits until the figures are live.
async fn live(browser: &Browser) {
    browser
        .wait_js(
            "the console is live",
            r##"const l = document.querySelector(".link");
               return { ok: !!l && l.textContent === "Live", link: l && l.textContent };"##,
            PATIENCE,
        )
        .await;
}

/// Picks `id` in the experience menu.
async fn choose(browser: &Browser, id: &str) {
    browser
        .wait_js(
            "the experience is in the menu",
            &format!(
                r##"const s = document.querySelector("#lq-experience");
                   if (![...s.options].some(o => o.value === {id:?})) return false;
                   s.value = {id:?};
                   s.dispatchEvent(new Event("change", {{ bubbles: true }}));
                   return true;"##
            ),
            PATIENCE,
        )
        .await;
    live(browser).await;
}

/// The rows the list shows whole inside its view: `{place, label, pending}` top to bottom,
/// and how many row elements the DOM holds.
const ROWS_IN_VIEW: &str = r##"
    const list = document.querySelector(".list");
    const box = list.getBoundingClientRect();
    const all = [...list.querySelectorAll(".row")];
    const shown = all
      .filter(r => r.style.display !== "none")
      .map(r => ({ r, b: r.getBoundingClientRect() }))
      .filter(({ b }) => b.top >= box.top - 1 && b.bottom <= box.bottom + 1)
      .sort((a, b) => a.b.top - b.b.top)
      .map(({ r }) => ({
        place: r.querySelector(".place").textContent,
        label: r.querySelector(".label").textContent,
        pending: r.classList.contains("pending"),
      }));
    return { shown, elements: all.length,
             displayed: all.filter(r => r.style.display !== "none").length };
"##;

/// Waits until a row with `place` (as shown: `#1,000,000`) is whole in view with its data.
async fn wait_for_row(browser: &Browser, place: &str) -> Json {
    browser
        .wait_js(
            &format!("row {place} in view, loaded"),
            &format!(
                r##"const v = (() => {{ {ROWS_IN_VIEW} }})();
                   const row = v.shown.find(r => r.place === {place:?});
                   return {{ ok: !!row && !row.pending, view: v }};"##
            ),
            PATIENCE,
        )
        .await
}

async fn million_line(server: &QueueServer) {
    server.still_experience("million").await;
    let path = Endpoint::Synthetic.path(&"million".parse().unwrap());
    let answer = reqwest::Client::new()
        .post(server.url(&path))
        .bearer_auth(OPERATOR)
        .json(&SyntheticJoins { count: 1_000_000 })
        .send()
        .await
        .expect("synthetic joins");
    assert!(
        answer.status().is_success(),
        "synthetic joins: {}",
        answer.status()
    );
    let summary: ExperienceSummary = answer.json().await.expect("summary");
    assert_eq!(summary.waiting, 1_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_says_so_and_the_right_one_is_kept_for_the_tab_only() {
    let server = QueueServer::start("console-token", "'self'").await;
    let browser = Browser::start().await;
    browser.goto(&server.url("/operator/")).await;
    browser
        .wait_js(
            "the sign-in form",
            r##"return document.querySelector("#lq-token") !== null;"##,
            PATIENCE,
        )
        .await;
    browser
        .js(&(type_into("#lq-token", "not-the-token")
            + r##"document.querySelector(".sign-in form").requestSubmit();"##))
        .await;
    let refused = browser
        .wait_js(
            "a wrong token is refused in words",
            r##"const e = document.querySelector("#lq-token-error");
               return { ok: !!e && /refused/.test(e.textContent), text: e && e.textContent };"##,
            PATIENCE,
        )
        .await;
    assert!(refused["ok"] == true);
    browser
        .js(&(type_into("#lq-token", OPERATOR)
            + r##"document.querySelector(".sign-in form").requestSubmit();"##))
        .await;
    live(&browser).await;
    let kept = browser
        .js(r##"return { url: location.href,
                        stored: sessionStorage.getItem("livequeue.operator-token"),
                        local: localStorage.length };"##)
        .await;
    assert_eq!(
        kept["stored"], OPERATOR,
        "the token is not kept for the tab"
    );
    assert_eq!(kept["local"], 0, "the token went beyond the tab");
    assert!(
        !kept["url"].as_str().unwrap().contains(OPERATOR),
        "the token is in the address: {}",
        kept["url"]
    );
    // A reload keeps the tab signed in.
    browser.goto(&server.url("/operator/")).await;
    live(&browser).await;
    // A kept token the server no longer takes is forgotten, and the page says why.
    browser
        .js(r##"sessionStorage.setItem("livequeue.operator-token", "a-stale-token");"##)
        .await;
    browser.goto(&server.url("/operator/")).await;
    let stale = browser
        .wait_js(
            "a kept token that is refused is forgotten, saying so",
            r##"const e = document.querySelector("#lq-token-error");
               return { ok: !!e && /kept for this tab was refused/.test(e.textContent)
                          && sessionStorage.getItem("livequeue.operator-token") === null,
                        text: e && e.textContent };"##,
            PATIENCE,
        )
        .await;
    assert!(stale["ok"] == true);
    let log = server.log_text();
    assert!(
        !log.contains(OPERATOR),
        "the operator token reached the server's log"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_line_moves_live_and_pause_and_open_are_confirmed() {
    let server = QueueServer::start("console-controls", "'self'").await;
    let browser = Browser::start().await;
    signed_in(&browser, &server).await;
    let figures = r##"return [...document.querySelectorAll(".figure")].map(f =>
                       [f.querySelector("dt").textContent, f.querySelector(".value").textContent]);"##;
    let first = browser.js(figures).await;
    let waiting = first[0][1].as_str().unwrap().to_owned();
    assert_eq!(first[0][0], "Waiting");
    assert!(
        waiting.replace(',', "").parse::<u64>().unwrap() > 4_000,
        "the demo's 5,000 are not waiting: {waiting}"
    );
    browser
        .wait_js(
            "the admitted figure moves",
            &format!(
                r##"const a = document.querySelectorAll(".figure .value")[1].textContent;
                   return {{ ok: a !== {:?}, admitted: a }};"##,
                first[1][1].as_str().unwrap()
            ),
            PATIENCE,
        )
        .await;
    let sparkline = browser
        .js(r##"return document.querySelector(".sparkline polyline").getAttribute("points");"##)
        .await;
    assert!(
        sparkline.as_str().is_some_and(|p| p.contains(',')),
        "no sparkline: {sparkline}"
    );

    browser
        .js(r##"[...document.querySelectorAll("button.status")].find(b => b.textContent === "Pause").click();"##)
        .await;
    browser
        .wait_js(
            "pausing is confirmed",
            r##"const n = document.querySelector(".notice").textContent;
               const p = [...document.querySelectorAll("button.status")]
                 .find(b => b.textContent === "Pause").getAttribute("aria-pressed");
               return { ok: /is now paused/.test(n) && p === "true", notice: n, pressed: p };"##,
            PATIENCE,
        )
        .await;
    // Paused, nobody is admitted: the figure stands still across several frames.
    let admitted = r##"return document.querySelectorAll(".figure .value")[1].textContent;"##;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let still = browser.js(admitted).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        browser.js(admitted).await,
        still,
        "admissions went on while paused"
    );

    browser
        .js(r##"[...document.querySelectorAll("button.status")].find(b => b.textContent === "Open").click();"##)
        .await;
    browser
        .wait_js(
            "opening is confirmed",
            r##"return /is now open/.test(document.querySelector(".notice").textContent);"##,
            PATIENCE,
        )
        .await;
    // A refused change says why.
    browser
        .js(&(type_into("#lq-rate", "-3")
            + r##"document.querySelector("#lq-rate").form.requestSubmit();"##))
        .await;
    browser
        .wait_js(
            "a bad rate is refused with the reason",
            r##"const n = document.querySelector(".notice");
               return n.classList.contains("refused") && /rate from 0/.test(n.textContent);"##,
            PATIENCE,
        )
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_one_of_a_million_rows_is_reachable() {
    let server = QueueServer::start("console-million", "'self'").await;
    million_line(&server).await;
    let browser = Browser::start().await;
    reach_every_row(&browser, &server).await;
    browser.close().await;
}

/// Firefox caps an element's height at about 17.9 million px, half of Chromium's, and
/// stops moving a sticky element at 8.95 million px of scroll: the million rows' scroll
/// space must fit under both (this test found the second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_one_of_a_million_rows_is_reachable_in_firefox() {
    let server = QueueServer::start("console-million-firefox", "'self'").await;
    million_line(&server).await;
    let browser = Browser::start_firefox().await;
    reach_every_row(&browser, &server).await;
    browser.close().await;
}

/// Signs in to the console of `server` (with [`million_line`]'s experience) and reaches
/// the first row, the last by scrolling, 777,777 by "go to place", then the first and the
/// last again by keyboard, with never more row elements than a view needs.
async fn reach_every_row(browser: &Browser, server: &QueueServer) {
    signed_in(browser, server).await;
    choose(browser, "million").await;
    let top = wait_for_row(browser, "#1").await;
    let elements = top["view"]["elements"].as_u64().unwrap();
    assert!(
        elements <= MOST_ROWS,
        "{elements} row elements in the DOM for a view of {MOST_ROWS}"
    );

    // Scrolled to the end: row 1,000,000 is there.
    browser
        .js(r##"const l = document.querySelector(".list"); l.scrollTop = l.scrollHeight;"##)
        .await;
    let end = wait_for_row(browser, "#1,000,000").await;
    let shown = end["view"]["shown"].as_array().unwrap();
    assert_eq!(
        shown.last().unwrap()["place"],
        "#1,000,000",
        "the last row is not at the bottom"
    );

    // Go to place 777,777: it is at the top of the view.
    browser
        .js(&(type_into("#lq-jump", "777,777")
            + r##"document.querySelector(".jump").requestSubmit();"##))
        .await;
    let jumped = wait_for_row(browser, "#777,777").await;
    assert_eq!(jumped["view"]["shown"][0]["place"], "#777,777");

    // Home, then End from the keyboard.
    let list = browser
        .client
        .find(Locator::Css(".list"))
        .await
        .expect("the list");
    list.send_keys(&char::from(Key::Home).to_string())
        .await
        .expect("Home");
    wait_for_row(browser, "#1").await;
    list.send_keys(&char::from(Key::End).to_string())
        .await
        .expect("End");
    wait_for_row(browser, "#1,000,000").await;
    let count = browser.js(ROWS_IN_VIEW).await;
    assert!(count["elements"].as_u64().unwrap() <= MOST_ROWS);
    let grid = browser
        .js(r##"const l = document.querySelector(".list");
               return { count: l.getAttribute("aria-rowcount"), role: l.getAttribute("role"),
                        active: document.getElementById(l.getAttribute("aria-activedescendant"))
                                  ?.getAttribute("aria-rowindex") };"##)
        .await;
    assert_eq!(grid["role"], "grid");
    assert_eq!(grid["count"], "1000000");
    assert_eq!(
        grid["active"], "1000000",
        "the keyboard is not on the last row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admission_moves_the_rows_up_and_the_shopper_in_view_stays() {
    let server = QueueServer::start("console-live", "'self'").await;
    server.still_experience("still").await;
    let path = Endpoint::Synthetic.path(&"still".parse().unwrap());
    let answer = reqwest::Client::new()
        .post(server.url(&path))
        .bearer_auth(OPERATOR)
        .json(&SyntheticJoins { count: 5_000 })
        .send()
        .await
        .expect("synthetic joins");
    assert!(answer.status().is_success());
    let browser = Browser::start().await;
    signed_in(&browser, &server).await;
    choose(&browser, "still").await;
    browser
        .js(&(type_into("#lq-jump", "2000")
            + r##"document.querySelector(".jump").requestSubmit();"##))
        .await;
    let before = wait_for_row(&browser, "#2,000").await;
    let shopper = before["view"]["shown"][0]["label"]
        .as_str()
        .unwrap()
        .to_owned();
    server.admit("still", 7).await;
    let after = browser
        .wait_js(
            "the shopper in view moved up seven places and stayed at the top",
            &format!(
                r##"const v = (() => {{ {ROWS_IN_VIEW} }})();
                   const top = v.shown[0];
                   return {{ ok: top.place === "#1,993" && top.label === {shopper:?}, top }};"##
            ),
            PATIENCE,
        )
        .await;
    assert_eq!(after["top"]["label"], shopper.as_str());
    // The row numbers follow the line: row 1 is the new first shopper.
    let waiting = browser
        .wait_js(
            "the waiting figure follows",
            r##"return document.querySelectorAll(".figure .value")[0].textContent === "4,993";"##,
            PATIENCE,
        )
        .await;
    assert!(waiting == true);
    browser.close().await;
}
