//! The demo shop's checkout, served only with `--demo` (`/checkout/{experience}`).
//!
//! A real shop redeems the grant server to server (`POST /api/experiences/{id}/redeem`)
//! from its own checkout. The demo has no shop, so without this page "Continue to checkout"
//! would land nowhere. `GET` shows the order with a "Place order" form; `POST` redeems the
//! grant through the same engine call as the JSON endpoint and answers, as a page, with the
//! status the JSON endpoint would answer. Plain HTML, no script and no style, so the page
//! needs nothing from its Content-Security-Policy but a form posting to itself.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use livequeue_protocol::ExperienceId;
use serde::Deserialize;

use crate::AppState;
use crate::engine::EngineError;
use crate::engine::experience::{RedeemError, is_grant_shaped};
use crate::error::AppError;

/// The checkout page of an experience.
pub const ROUTE: &str = "/checkout/{experience}";

/// What the pages may do: nothing but post their own form.
const CSP: &str = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The checkout routes; [`crate::app`] merges them only with `--demo`.
pub fn router() -> Router<AppState> {
    Router::new().route(ROUTE, get(page).post(place_order))
}

/// The grant: in the page's query (`?grant=`), then in its form's body.
#[derive(Debug, Default, Deserialize)]
pub struct GrantField {
    /// The shopper's grant; `None` when the link lost it.
    #[serde(default)]
    pub grant: Option<String>,
}

/// `GET /checkout/{experience}?grant=G`: the order, and the form that places it.
pub async fn page(
    State(app): State<AppState>,
    Path(experience): Path<String>,
    query: Result<Query<GrantField>, QueryRejection>,
) -> Response {
    let grant = query.ok().and_then(|Query(q)| q.grant);
    let (id, name, grant) = match checked(&app, &experience, grant).await {
        Ok(order) => order,
        Err(refusal) => return refusal.into_response(),
    };
    let body = format!(
        "<p>You are buying from <strong>{name}</strong>. This is the demo shop: nothing is \
         charged and nothing ships.</p>\n\
         <form method=\"post\" action=\"/checkout/{id}\">\n\
         <input type=\"hidden\" name=\"grant\" value=\"{grant}\">\n\
         <button type=\"submit\">Place order</button>\n</form>",
        name = escape_html(&name),
        id = escape_html(id.as_str()),
        grant = escape_html(&grant),
    );
    Page::new(StatusCode::OK, "Demo checkout", body).into_response()
}

/// `POST /checkout/{experience}` with `grant=G`: redeems the grant and says how it went.
pub async fn place_order(
    State(app): State<AppState>,
    Path(experience): Path<String>,
    form: Result<Form<GrantField>, FormRejection>,
) -> Response {
    let grant = form.ok().and_then(|Form(f)| f.grant);
    let (id, name, grant) = match checked(&app, &experience, grant).await {
        Ok(order) => order,
        Err(refusal) => return refusal.into_response(),
    };
    let page = match app.engine.redeem(id.as_str(), &grant).await {
        Ok(redeemed) => Page::new(
            StatusCode::OK,
            "Your order is placed",
            format!(
                "<p>{name}: one order for {who}, placed at {at} UTC. Nothing is charged and \
                 nothing ships: this is the demo shop.</p>\n\
                 <p><a href=\"/?experience={id}\">Back to the queue</a></p>",
                name = escape_html(&name),
                id = escape_html(id.as_str()),
                who = escape_html(&app.auth.label(&redeemed.consumer_id)),
                at = clock(redeemed.redeemed_at),
            ),
        ),
        Err(e) => refused(e),
    };
    page.into_response()
}

/// The experience id, its name and the grant, or the page refusing them: a malformed id,
/// a missing or malformed grant (400), an unknown experience (404).
async fn checked(
    app: &AppState,
    experience: &str,
    grant: Option<String>,
) -> Result<(ExperienceId, String, String), Page> {
    let id: ExperienceId = experience.parse().map_err(|_| {
        Page::refusal(
            StatusCode::BAD_REQUEST,
            "This checkout link names no valid sale.",
        )
    })?;
    let grant = grant.filter(|g| !g.is_empty()).ok_or_else(|| {
        Page::refusal(
            StatusCode::BAD_REQUEST,
            "This checkout link lacks its grant: go back to the queue and press \
             “Continue to checkout” again.",
        )
    })?;
    if !is_grant_shaped(&grant) {
        return Err(Page::refusal(
            StatusCode::BAD_REQUEST,
            "This checkout link's grant is malformed: go back to the queue and press \
             “Continue to checkout” again.",
        ));
    }
    let name = app.engine.summary(id.as_str()).await.map_err(refused)?.name;
    Ok((id, name, grant))
}

/// The page refusing an order, with the status the JSON redeem endpoint answers for `e`.
fn refused(e: EngineError) -> Page {
    let sentence = match &e {
        EngineError::UnknownExperience(_) => "There is no such sale in this shop.".to_string(),
        EngineError::Redeem(RedeemError::AlreadyRedeemed) => {
            "This grant was used already: its order is placed, and each turn buys once.".to_string()
        }
        EngineError::Redeem(RedeemError::Expired) => {
            "This grant expired before the order was placed: join the line again for a new \
             turn."
                .to_string()
        }
        EngineError::Redeem(RedeemError::Unknown) => {
            "This sale never issued this grant.".to_string()
        }
        other => format!("The order could not be placed ({other}); try again in a moment."),
    };
    Page::refusal(AppError::from(e).status(), &sentence)
}

/// One answer: its status, its heading and its body (HTML whose every text is escaped).
#[derive(Debug)]
struct Page {
    status: StatusCode,
    heading: &'static str,
    body: String,
}

impl Page {
    fn new(status: StatusCode, heading: &'static str, body: String) -> Self {
        Self {
            status,
            heading,
            body,
        }
    }

    /// A refusal saying `sentence`.
    fn refusal(status: StatusCode, sentence: &str) -> Self {
        Self::new(
            status,
            "No order placed",
            format!("<p>{}</p>", escape_html(sentence)),
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>Demo checkout</title>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n{}\n</main>\n\
             </body>\n</html>\n",
            self.heading, self.body
        );
        // The grant is in the URL: keep it out of caches and out of other sites' `Referer`.
        // Not `no-referrer`: with it browsers send the form's POST with `Origin: null`,
        // which the origin guard rightly refuses (seen in Chromium, 2026-12-01).
        let headers = [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ];
        (self.status, headers, Html(html)).into_response()
    }
}

/// `text` made safe as HTML text and as a quoted attribute value.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The time of day of `ms` since the Unix epoch, UTC, as `HH:MM:SS`.
fn clock(ms: u64) -> String {
    let s = ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::{clock, escape_html};

    #[test]
    fn escape_html_leaves_no_markup() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape_html("Demo drop"), "Demo drop");
    }

    #[test]
    fn clock_is_the_utc_time_of_day() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(86_400_000 + 3_723_000 + 999), "01:02:03");
    }
}
