//! What the page was asked to show, read from its query string.
//!
//! The widget is embedded as an iframe (`/?experience=ID`), so the query string is its whole
//! configuration: `experience` names the drop (default [`DEFAULT_EXPERIENCE`]), `api` is the
//! base URL of the livequeue server (default: the page's own origin), `consumerId` and
//! `token` give the shopper's identity when the host page already has one (otherwise the
//! widget joins), `transport` forces one transport (`ws`, `sse` or `poll`), `join=auto` joins
//! without waiting for the shopper's click (a shop that already decided to queue its
//! visitors), and `debug=1` shows the connection's diagnostics.

use std::time::Duration;

use livequeue_protocol::backoff::BackoffPolicy;
use livequeue_protocol::paths;
use livequeue_protocol::polling::PollPolicy;
use livequeue_protocol::supervisor::TransportKind;

use crate::session::Credentials;
use crate::transport::ws::WsOptions;

/// The experience shown when the page names none: the demo server's drop.
pub const DEFAULT_EXPERIENCE: &str = "demo-drop";

/// The widget's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetConfig {
    /// The experience (drop) to queue for.
    pub experience: String,
    /// Base URL of the server's API without a trailing slash; `""` means the page's origin.
    pub api_base: String,
    /// The shopper's identity when the host page gives one; `None` joins (or reuses the
    /// tab's saved place).
    pub identity: Option<Credentials>,
    /// Transports in order of preference. Default WebSocket, SSE, polling.
    pub transports: Vec<TransportKind>,
    /// Show the diagnostics panel.
    pub debug: bool,
    /// When a shopper without a place joins.
    pub join: JoinMode,
    /// Connection timings.
    pub timings: Timings,
}

/// When a shopper without a saved place joins the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinMode {
    /// At once: a program mounting the widget (or `?join=auto`) has decided for the shopper.
    Auto,
    /// When the shopper presses Join: the page's default, so nobody holds a place in line
    /// by merely opening a link.
    OnClick,
}

/// Timings of the connection layer; the defaults are the product's, tests shorten them.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    /// Reconnect backoff (base 1 s, cap 30 s, 10 attempts).
    pub backoff: BackoffPolicy,
    /// Adaptive polling (2 s to 30 s, ×1.5).
    pub poll: PollPolicy,
    /// WebSocket ping and grace (25 s, 10 s).
    pub ws: WsOptions,
    /// An SSE stream silent this long is dead: three missed 15 s heartbeats.
    pub sse_silence: Duration,
    /// How often a feed on a fallback tries to return to push (jittered ±20%).
    pub upgrade_every: Duration,
    /// Failures in a row without opening before the next transport is tried.
    pub switch_after: u32,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            backoff: BackoffPolicy::default(),
            poll: PollPolicy::default(),
            ws: WsOptions::default(),
            sse_silence: Duration::from_secs(45),
            upgrade_every: Duration::from_secs(60),
            switch_after: 2,
        }
    }
}

/// The default order: push first, polling last.
pub const DEFAULT_TRANSPORTS: [TransportKind; 3] = [
    TransportKind::WebSocket,
    TransportKind::Sse,
    TransportKind::Poll,
];

impl Default for WidgetConfig {
    fn default() -> Self {
        Self {
            experience: DEFAULT_EXPERIENCE.to_owned(),
            api_base: String::new(),
            identity: None,
            transports: DEFAULT_TRANSPORTS.to_vec(),
            debug: false,
            join: JoinMode::Auto,
            timings: Timings::default(),
        }
    }
}

impl WidgetConfig {
    /// A configuration for `experience` on the server at `api_base`.
    pub fn new(experience: impl Into<String>, api_base: impl Into<String>) -> Self {
        Self {
            experience: experience.into(),
            api_base: normalize_base(&api_base.into()),
            ..Self::default()
        }
    }

    /// Reads the configuration from the current page's query string, falling back to the
    /// defaults outside a browser or when the query says nothing.
    pub fn from_location() -> Self {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        Self::from_query(&search)
    }

    /// Reads the configuration from a query string such as `?experience=x&api=https://q`.
    pub fn from_query(search: &str) -> Self {
        let params = QueryParams::parse(search);
        let non_empty = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        let mut config = Self::new(
            non_empty("experience").unwrap_or_else(|| DEFAULT_EXPERIENCE.to_owned()),
            non_empty("api").unwrap_or_default(),
        );
        if let Some(consumer_id) = non_empty(paths::CONSUMER_ID) {
            let token = params.get(paths::TOKEN).unwrap_or_default();
            config.identity = Some(Credentials { consumer_id, token });
        }
        if let Some(only) = non_empty("transport").and_then(|t| TransportKind::parse(&t)) {
            config.transports = vec![only];
        }
        config.debug = matches!(params.get("debug").as_deref(), Some("1" | "true"));
        config.join = if params.get("join").as_deref() == Some("auto") {
            JoinMode::Auto
        } else {
            JoinMode::OnClick
        };
        config
    }

    /// Whether the experience id has the shape the server accepts (1–64 characters of
    /// `[A-Za-z0-9_-]`); the widget says so rather than asking the server about a bad link.
    pub fn experience_is_valid(&self) -> bool {
        let id = &self.experience;
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

/// A query string's pairs: in the browser, the browser's own `URLSearchParams`.
///
/// The pure decoder below ([`form_decode`]) stays the native one (tests, and any caller
/// outside a browser); in the widget's bundle it and its lossy UTF-8 conversion were code
/// the browser already has (measured 2026-12-01: gzip 88095 → 86595 B).
#[cfg(target_arch = "wasm32")]
struct QueryParams(Option<web_sys::UrlSearchParams>);

#[cfg(target_arch = "wasm32")]
impl QueryParams {
    fn parse(search: &str) -> Self {
        Self(web_sys::UrlSearchParams::new_with_str(search).ok())
    }

    /// The first value of `key`.
    fn get(&self, key: &str) -> Option<String> {
        self.0.as_ref()?.get(key)
    }
}

/// A query string's pairs, decoded as `URLSearchParams` decodes them
/// (`application/x-www-form-urlencoded`): `+` is a space, `%XX` a byte, malformed escapes
/// are kept as they are, and bytes that are not UTF-8 become U+FFFD.
#[cfg(not(target_arch = "wasm32"))]
struct QueryParams(Vec<(String, String)>);

#[cfg(not(target_arch = "wasm32"))]
impl QueryParams {
    fn parse(search: &str) -> Self {
        let search = search.strip_prefix('?').unwrap_or(search);
        let pairs = search
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (form_decode(key), form_decode(value))
            })
            .collect();
        Self(pairs)
    }

    /// The first value of `key`, like `URLSearchParams.get`.
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        let escaped = match (bytes[i], hex(i + 1), hex(i + 2)) {
            // Two hex digits make one byte: `high * 16 + low` is below 256.
            (b'%', Some(high), Some(low)) => Some((high * 16 + low) as u8),
            _ => None,
        };
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Drops surrounding whitespace and trailing slashes so paths can be appended with `/api/…`.
fn normalize_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn an_empty_query_gives_the_demo_drop_on_the_same_origin() {
        assert_eq!(
            WidgetConfig::from_query(""),
            WidgetConfig {
                join: JoinMode::OnClick,
                ..WidgetConfig::default()
            },
            "a visitor of the page joins by pressing Join"
        );
        assert_eq!(WidgetConfig::from_query("?join=auto").join, JoinMode::Auto);
        assert_eq!(WidgetConfig::default().experience, "demo-drop");
        assert_eq!(WidgetConfig::default().api_base, "");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_query_names_the_experience_and_the_api_without_trailing_slash() {
        let config = WidgetConfig::from_query("?experience=spring-sneaker&api=http://q.test:8080/");
        assert_eq!(config.experience, "spring-sneaker");
        assert_eq!(config.api_base, "http://q.test:8080");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn identity_transport_and_debug_come_from_the_query() {
        let config = WidgetConfig::from_query("?consumerId=c_1&token=t&transport=sse&debug=1");
        assert_eq!(
            config.identity.map(|c| (c.consumer_id, c.token)),
            Some(("c_1".into(), "t".into()))
        );
        assert_eq!(config.transports, vec![TransportKind::Sse]);
        assert!(config.debug);
        let plain = WidgetConfig::from_query("?transport=smoke-signals");
        assert_eq!(
            plain.transports,
            DEFAULT_TRANSPORTS.to_vec(),
            "an unknown transport keeps the default order"
        );
        assert!(plain.identity.is_none() && !plain.debug);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn query_values_are_decoded_as_url_search_params_decodes_them() {
        let config = WidgetConfig::from_query(
            "experience=a%2Db&api=http%3A%2F%2Fq.test%2F&consumerId=c+1&token=x%2By%zz&experience=ignored",
        );
        assert_eq!(config.experience, "a-b", "the first value wins");
        assert_eq!(config.api_base, "http://q.test");
        assert_eq!(
            config.identity.map(|c| (c.consumer_id, c.token)),
            Some(("c 1".into(), "x+y%zz".into())),
            "`+` is a space, `%2B` a plus, a malformed escape stays"
        );
        assert_eq!(form_decode("%C3%A9%FF"), "é\u{fffd}");
        assert!(WidgetConfig::from_query("?&&debug").identity.is_none());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn experience_ids_outside_the_server_alphabet_are_invalid() {
        assert!(WidgetConfig::new("demo-drop_2", "").experience_is_valid());
        assert!(!WidgetConfig::new("../admin", "").experience_is_valid());
        assert!(!WidgetConfig::new("x".repeat(65), "").experience_is_valid());
    }
}
