//! `GET /embed.js`: the loader a shop pastes into its page (`public/embed.js`, see
//! `docs/EMBEDDING.md`).
//!
//! The server serves it itself, compiled in, rather than from `dist/`: the loader then
//! works with any `--dist` (or none built yet), and always matches the server's own
//! contract. It keeps one URL for every release, so it is `no-cache` (a browser revalidates
//! with its `ETag` and gets `304` while it is unchanged), never `immutable`.

use std::sync::LazyLock;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The loader's path.
pub const ROUTE: &str = "/embed.js";

/// The loader's source.
pub const SOURCE: &str = include_str!("../../../../public/embed.js");

/// The loader's `ETag`: a hash of its source, quoted.
static ETAG: LazyLock<String> = LazyLock::new(|| {
    let hash = crate::security::sha256_base64(SOURCE);
    format!("\"{}\"", &hash[..22])
});

/// The loader, or `304` when the browser's copy is current.
pub async fn script(headers: HeaderMap) -> Response {
    let etag = ETAG.as_str();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let headers = [
        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
        (header::CACHE_CONTROL, crate::widget::REVALIDATE),
        (header::ETAG, etag),
    ];
    if fresh {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, SOURCE).into_response()
    }
}
