//! `--demo`: a shop's product page on an origin of its own, embedding the widget exactly
//! as `docs/EMBEDDING.md` tells a shop to, so the demo shows a real cross-origin embed.
//!
//! The page's snippet *is* the guide's first `html` block ([`snippet`]), with the queue's
//! origin and the demo experience put in: when the guide's snippet changes, the demo
//! changes with it. The page has no inline script or style, so its own CSP is strict too:
//! scripts from itself and the queue's `/embed.js` only, frames from the queue only.
//! Its script (`/shop.js`) shows the widget's `livequeue:*` events in the shop's header and
//! makes the shop's "Queue now" button call the embed's `join()`.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::routes::checkout::escape_html;

/// The guide whose first `html` block is the snippet shops paste.
pub const GUIDE: &str = include_str!("../../../docs/EMBEDDING.md");

/// The queue origin the guide's snippet names, replaced by the real one.
pub const GUIDE_ORIGIN: &str = "https://queue.example.com";

/// The experience the guide's snippet names, replaced by the demo's.
pub const GUIDE_EXPERIENCE: &str = "spring-drop";

/// The experience the demo shop queues for: the short line, so a visitor is admitted
/// within about a minute and sees every event.
pub const EXPERIENCE: &str = crate::demo::QUICK_EXPERIENCE;

const SHOP_JS: &str = include_str!("demo_shop/shop.js");
const SHOP_CSS: &str = include_str!("demo_shop/shop.css");

/// The first ```` ```html ```` block of a Markdown text.
pub fn first_html_block(markdown: &str) -> Option<&str> {
    let start = markdown.find("```html\n")? + "```html\n".len();
    let end = start + markdown[start..].find("\n```")?;
    Some(&markdown[start..=end])
}

/// The guide's snippet for a queue at `widget_origin` and `experience`.
pub fn snippet(widget_origin: &str, experience: &str) -> String {
    first_html_block(GUIDE)
        .unwrap_or_default()
        .replace(GUIDE_ORIGIN, &escape_html(widget_origin))
        .replace(GUIDE_EXPERIENCE, &escape_html(experience))
}

/// The shop's routes (`/`, `/shop.js`, `/shop.css`) for a queue at `widget_origin` (such as
/// `http://127.0.0.1:8080`), with the common security headers and the access log.
pub fn app(widget_origin: &str) -> Router {
    let page = page(widget_origin);
    let csp = csp(widget_origin);
    Router::new()
        .route(
            "/",
            get(move || {
                let (page, csp) = (page.clone(), csp.clone());
                async move { ([(header::CONTENT_SECURITY_POLICY, csp)], Html(page)).into_response() }
            }),
        )
        .route("/shop.js", get(|| async { asset("text/javascript; charset=utf-8", SHOP_JS) }))
        .route("/shop.css", get(|| async { asset("text/css; charset=utf-8", SHOP_CSS) }))
        .layer(crate::security::layer())
        .layer(crate::access_log::layer())
}

/// The product page's policy: its own script and style, the queue's loader, frames from
/// the queue only, and no one may frame the shop.
pub fn csp(widget_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' {widget_origin}/embed.js; style-src 'self'; \
         frame-src {widget_origin}; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, crate::widget::REVALIDATE),
        ],
        body,
    )
        .into_response()
}

/// The product page.
fn page(widget_origin: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Fieldnote Trail 01, the spring drop — Fieldnote Supply (livequeue demo shop)</title>
<link rel="stylesheet" href="/shop.css">
<link rel="icon" href="data:,">
<script src="/shop.js" defer></script>
</head>
<body>
<header class="shop-header">
  <a class="brand" href="/">Fieldnote Supply</a>
  <p class="queue-status" id="queue-status" role="status">The spring drop is queueing now.</p>
</header>
<main class="product">
  <div class="product-picture" aria-hidden="true"><span>01</span></div>
  <section class="product-copy">
    <p class="eyebrow">Limited drop · one pair per shopper</p>
    <h1>Fieldnote Trail 01, spring edition</h1>
    <p class="price">€140</p>
    <p>A light trail shoe with a recycled knit upper and a grippy sole, in a colour we make
    once. There are not enough pairs for everyone who wants one, so instead of a race to
    refresh, there is a fair line: join it, keep browsing, and we will tell you here when
    it is your turn.</p>
    <p><button type="button" class="queue-now" id="queue-now">Queue now</button></p>
    <div class="queue-frame">
{snippet}
    </div>
    <p class="fineprint">This is livequeue's demo shop: the queue above is the widget,
    embedded from {origin} with the snippet of docs/EMBEDDING.md. Nothing is sold.</p>
  </section>
</main>
</body>
</html>
"#,
        snippet = snippet(widget_origin, EXPERIENCE),
        origin = escape_html(widget_origin),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_embeds_the_guides_snippet_with_the_queues_origin() {
        let block = first_html_block(GUIDE).expect("EMBEDDING.md has an html block");
        assert!(block.contains(GUIDE_ORIGIN) && block.contains(GUIDE_EXPERIENCE));
        let page = page("http://127.0.0.1:8080");
        assert!(
            page.contains(r#"src="http://127.0.0.1:8080/embed.js""#),
            "{page}"
        );
        assert!(page.contains(r#"data-experience="demo-quick""#), "{page}");
        assert!(!page.contains(GUIDE_ORIGIN), "{page}");
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let page = page("http://127.0.0.1:8080");
        assert_eq!(crate::security::inline_blocks(&page, "script").count(), 0);
        assert_eq!(crate::security::inline_blocks(&page, "style").count(), 0);
        assert!(!page.contains("style="), "{page}");
    }
}
