//! The built widget from `dist/`, served the way production should serve it.
//!
//! - Precompressed files: `foo.wasm.br` or `foo.wasm.gz` next to `foo.wasm` is sent (with
//!   `Content-Encoding`) to a client that accepts it; the server never compresses at run time.
//! - Hashed file names (trunk's `livequeue-<16 hex>_bg.wasm`, `livequeue-<16 hex>.js`) never
//!   change content, so they are cached for a year as `immutable`.
//! - HTML (`index.html`, and the fallback for client-side routes) is `no-cache`: it names the
//!   hashed files, so a browser must revalidate it to find a new release.
//! - Every file varies on `Accept-Encoding`, so a cache never hands a brotli body to a client
//!   that did not ask for one.
//! - HTML carries the widget's Content-Security-Policy ([`crate::security::widget_csp`]),
//!   computed from the `index.html` being served, so the hash of trunk's inline module
//!   script is always the current build's (the page is 2 KB: it is read again per page
//!   answer rather than cached, so a rebuilt `dist/` needs no restart).

use std::path::Path;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::config::Config;
use crate::error::AppError;
use crate::security;

/// `Cache-Control` of a file whose name carries its content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: use it only after revalidating (`Last-Modified`).
pub const REVALIDATE: &str = "no-cache";

/// Length of trunk's content hash in file names, in hex digits.
const HASH_LEN: usize = 16;

/// Serves `request` from `config.dist`, falling back to `index.html` for paths that name no
/// file; every HTML answer carries the widget's Content-Security-Policy.
pub async fn serve(config: &Config, request: Request) -> Response {
    let csp = |page: &str| security::widget_csp(page, &config.connect_src, &config.frame_ancestors);
    serve_built(
        &config.dist,
        request,
        csp,
        "The widget is not built. Run `cargo xtask demo` (or `trunk build`) first.\n",
    )
    .await
}

/// Serves `request` (its path relative to `dir`) from a trunk build in `dir`, by the rules
/// in the module docs, falling back to `dir/index.html` for paths that name no file; every
/// HTML answer carries the policy `csp` makes of that page. Without an `index.html`, a
/// `404` saying `not_built`.
pub async fn serve_built(
    dir: &Path,
    request: Request,
    csp: impl Fn(&str) -> String,
    not_built: &'static str,
) -> Response {
    let index = dir.join("index.html");
    if !index.exists() {
        return (StatusCode::NOT_FOUND, not_built).into_response();
    }
    let hashed = is_hashed(file_name(request.uri().path()));
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(&index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    let mut response = match files.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(e) => return AppError::internal(e).into_response(),
    };
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        set_cache_headers(response.headers_mut(), hashed);
    }
    // A `304` has no `Content-Type`, yet a browser replaces the cached page's headers with
    // its headers: it must carry the page's policy too (rather than the deny-all default of
    // `security::layer`, which would then block the cached page).
    if is_html(response.headers()) || status == StatusCode::NOT_MODIFIED {
        match tokio::fs::read_to_string(&index).await {
            Ok(page) => match HeaderValue::try_from(csp(&page)) {
                Ok(csp) => {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, csp);
                }
                Err(e) => return AppError::internal(e).into_response(),
            },
            // Without the page's hashes the page could not run: refuse rather than serve it
            // with a policy that blocks it (or none).
            Err(e) => return AppError::internal(e).into_response(),
        }
    }
    response
}

/// Whether an answer is HTML.
fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"))
}

/// Sets `Cache-Control` and `Vary` on a file answer: immutable only for a hashed name that
/// was answered with itself (never for HTML, which a fallback may have answered instead).
fn set_cache_headers(headers: &mut HeaderMap, hashed: bool) {
    let cache = if hashed && !is_html(headers) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
}

/// The last segment of a URL path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

/// Whether a file name carries a content hash: a segment of exactly [`HASH_LEN`] lowercase
/// hex digits after a `-`, ending the name or followed by `.`, `_` or `-`
/// (`livequeue-0123456789abcdef_bg.wasm`, `livequeue-0123456789abcdef.js`).
pub fn is_hashed(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        let Some(digits) = bytes.get(i + 1..i + 1 + HASH_LEN) else {
            return false;
        };
        b == b'-'
            && digits
                .iter()
                .all(|d| d.is_ascii_digit() || (b'a'..=b'f').contains(d))
            && bytes
                .get(i + 1 + HASH_LEN)
                .is_none_or(|end| matches!(end, b'.' | b'_' | b'-'))
    })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn trunk_names_are_hashed_and_plain_names_are_not() {
        for hashed in [
            "livequeue-0123456789abcdef_bg.wasm",
            "livequeue-0123456789abcdef.js",
            "style-fedcba9876543210.css",
        ] {
            assert!(is_hashed(hashed), "{hashed} should be cached as immutable");
        }
        for plain in [
            "index.html",
            "favicon.ico",
            "livequeue_bg.wasm",
            "livequeue-0123456789abcde.js",
            "livequeue-0123456789abcdef0.js",
            "livequeue-0123456789ABCDEF.js",
            "livequeue-0123456789abcdeg.js",
        ] {
            assert!(!is_hashed(plain), "{plain} must not be cached as immutable");
        }
    }
}
