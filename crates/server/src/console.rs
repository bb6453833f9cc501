//! The operator console's page, from trunk's build in `dist/operator/`, at `/operator/`.
//!
//! The same rules as the widget ([`crate::widget`]: precompressed files, hashed names
//! cached for a year, HTML revalidated, `Vary: Accept-Encoding`), with the console's own
//! policy ([`crate::security::console_csp`]: never framed, connecting only to its own
//! origin). `/operator` redirects to `/operator/`, so the page's relative URLs resolve
//! under it; every other path under `/operator/` that names no file is the page (the
//! console's own routes).

use axum::extract::Request;
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};

use crate::config::Config;
use crate::error::AppError;
use crate::security;
use crate::widget;

/// Where the console is served.
pub const PREFIX: &str = "/operator";

/// The console's folder inside `dist/`.
pub const DIR: &str = "operator";

/// Whether `path` is the console's: [`PREFIX`] itself or anything under `PREFIX/`
/// (`/operatorx` is not).
pub fn owns(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The answer for a path the console [`owns`].
pub async fn serve(config: &Config, request: Request) -> Response {
    let uri = request.uri().clone();
    let rest = uri.path().strip_prefix(PREFIX).unwrap_or_default();
    if rest.is_empty() {
        let to = match uri.query() {
            Some(query) => format!("{PREFIX}/?{query}"),
            None => format!("{PREFIX}/"),
        };
        return Redirect::permanent(&to).into_response();
    }
    // The files are looked up relative to `dist/operator/`: nothing outside it is
    // reachable from here (`ServeDir` refuses `..` too).
    let relative = match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let (mut parts, body) = request.into_parts();
    parts.uri = match relative.parse::<Uri>() {
        Ok(uri) => uri,
        Err(e) => return AppError::bad_request(format!("bad path: {e}")).into_response(),
    };
    widget::serve_built(
        &config.dist.join(DIR),
        Request::from_parts(parts, body),
        security::console_csp,
        "The operator console is not built: dist/operator/index.html is missing.\n",
    )
    .await
}
