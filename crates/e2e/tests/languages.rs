//! The widget in the shopper's language and colours, in headless Chromium against the real
//! server: `?locale=de` is German everywhere (plural forms included), `?theme=dark` is dark.

use livequeue_e2e::browser::{Browser, PATIENCE};
use livequeue_e2e::server::QueueServer;

/// English words of the widget's own texts (not the drop's name, which the server gives):
/// none may be left on a German page.
const ENGLISH: [&str; 14] = [
    "line",
    "Join",
    "Leave",
    "Estimated",
    "Stock",
    "minute",
    "Updated",
    "Notify",
    "Virtual",
    "queue",
    "Live (",
    "left",
    "ahead",
    "turn",
];

/// The page's visible text once the shopper has a place (joined at once, `join=auto`).
async fn in_line(browser: &Browser, url: &str) -> String {
    browser.goto(url).await;
    browser
        .wait_js(
            "the widget shows a place in line",
            r#"const v = document.querySelector(".lq-position-value");
               return v && /[0-9]/.test(v.textContent) && document.querySelector(".lq-wait") !== null;"#,
            PATIENCE,
        )
        .await;
    browser
        .js(r#"return document.querySelector(".lq-widget").innerText;"#)
        .await
        .as_str()
        .expect("text")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locale_de_shows_german_everywhere_with_german_plurals() {
    let server = QueueServer::start("languages-de", "'self'").await;
    let browser = Browser::start().await;
    let text = in_line(
        &browser,
        &server.url("/?experience=demo-drop&locale=de&join=auto"),
    )
    .await;
    let page = browser
        .js(r#"return {
              lang: document.documentElement.lang,
              title: document.title,
              eyebrow: document.querySelector(".lq-eyebrow").textContent,
              wait: document.querySelector(".lq-wait").textContent,
              place: document.querySelector(".lq-position-number .lq-visually-hidden").textContent,
              leave: document.querySelector("[data-action=leave]").textContent,
            };"#)
        .await;
    assert_eq!(page["lang"], "de", "screen readers read it as German");
    assert_eq!(page["eyebrow"], "Virtuelle Warteschlange");
    assert_eq!(page["leave"], "Warteschlange verlassen");
    // "Sie sind Nummer 5.000 in der Warteschlange": German words and German digit groups.
    let place = page["place"].as_str().expect("place");
    assert!(
        place.starts_with("Sie sind Nummer ") && place.contains('.'),
        "{place}"
    );
    // The big drop's wait is tens of minutes: "Etwa 40 Minuten", never "Minute" for many.
    let wait = page["wait"].as_str().expect("wait");
    let minutes: Vec<(u64, &str)> = wait
        .split(|c: char| !c.is_alphanumeric())
        .collect::<Vec<_>>()
        .windows(2)
        .filter_map(|w| Some((w[0].parse().ok()?, w[1])))
        .filter(|(_, unit)| unit.starts_with("Minute"))
        .collect();
    assert!(!minutes.is_empty(), "a wait in minutes: {wait}");
    for (n, unit) in minutes {
        assert_eq!(unit, if n == 1 { "Minute" } else { "Minuten" }, "{wait}");
    }
    for word in ENGLISH {
        assert!(
            !text.contains(word),
            "English `{word}` left on the German page:\n{text}"
        );
    }
    assert_eq!(
        page["title"], "Virtuelle Warteschlange",
        "the tab's title too"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn theme_dark_is_dark_and_theme_light_is_light() {
    let server = QueueServer::start("languages-theme", "'self'").await;
    let browser = Browser::start().await;
    // Relative luminance (WCAG) of the page's and the card's backgrounds, and of the text.
    const LUMINANCE: &str = r#"
      const lum = (el, prop) => {
        const [r, g, b] = getComputedStyle(el)[prop].match(/[0-9.]+/g).map(Number)
          .map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const card = document.querySelector(".lq-widget");
      return { page: lum(document.body, "backgroundColor"), card: lum(card, "backgroundColor"),
               text: lum(card, "color"), scheme: getComputedStyle(document.documentElement).colorScheme };"#;
    let mut seen = Vec::new();
    for theme in ["dark", "light"] {
        in_line(
            &browser,
            &server.url(&format!("/?experience=demo-drop&theme={theme}&join=auto")),
        )
        .await;
        let l = browser.js(LUMINANCE).await;
        let (page, card, text) = (
            l["page"].as_f64().unwrap(),
            l["card"].as_f64().unwrap(),
            l["text"].as_f64().unwrap(),
        );
        // WCAG contrast of the card's text on the card.
        let contrast = (card.max(text) + 0.05) / (card.min(text) + 0.05);
        assert!(contrast >= 7.0, "{theme}: text contrast {contrast:.1}");
        match theme {
            "dark" => assert!(page < 0.05 && card < 0.05 && text > 0.7, "{theme}: {l}"),
            _ => assert!(page > 0.8 && card > 0.9 && text < 0.05, "{theme}: {l}"),
        }
        assert_eq!(l["scheme"], theme, "form controls and scroll bars follow");
        seen.push(page);
    }
    browser.close().await;
}
