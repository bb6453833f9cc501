//! What the page was asked to show, read from its query string.
//!
//! The widget is embedded as an iframe (`/?experience=ID`), so its address is its whole
//! configuration (`docs/EMBEDDING.md` lists it for integrators):
//!
//! - `experience` names the drop (default [`DEFAULT_EXPERIENCE`]); `api` is the base URL of
//!   the livequeue server (default: the page's own origin);
//! - `transport` forces one transport (`ws`, `sse` or `poll`); `join=auto` joins without
//!   waiting for the shopper's click (a shop that already decided to queue its visitors);
//!   `debug=1` shows the connection's diagnostics; `share=0` gives this tab a connection
//!   of its own instead of sharing one with the browser's other tabs of the same shopper;
//! - `locale` picks the language (else the browser's), `theme` (`light`, `dark`, default
//!   `auto`: the system's) and `accent` (`#rgb` or `#rrggbb`) the look;
//! - `parentOrigin` is the host page's origin, the only one the widget talks to
//!   (`crate::host`);
//! - `consumerId` and `token` give the shopper's identity when the host page already has one
//!   (otherwise the widget joins). They belong in the **fragment** (`#consumerId=…&token=…`),
//!   which browsers never send to a server, so they reach no server's access log and no
//!   `Referer`; the query is still read for servers written from the guide.

use std::time::Duration;

use livequeue_protocol::backoff::BackoffPolicy;
use livequeue_protocol::paths;
use livequeue_protocol::polling::PollPolicy;
use livequeue_protocol::supervisor::TransportKind;

use crate::format;
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
    /// Share one feed with the browser's other tabs showing the same shopper (one of them
    /// connects, the others follow it). Off for a program mounting the widget, which
    /// decides for itself; on for the page unless `?share=0`.
    pub share: bool,
    /// When a shopper without a place joins.
    pub join: JoinMode,
    /// Connection timings.
    pub timings: Timings,
    /// The language asked for (`de`, `de-AT`); `None` follows the browser.
    pub locale: Option<String>,
    /// Light, dark, or the system's.
    pub theme: Theme,
    /// The shop's accent colour, checked: `#rgb` or `#rrggbb`, lowercase.
    pub accent: Option<String>,
    /// The host page's origin (`https://shop.example`), checked: the widget posts its
    /// messages there and accepts commands only from there. `None`: no messages at all.
    pub parent_origin: Option<String>,
    /// Parameters given with a value the widget refused (`parentOrigin`, `accent`): the
    /// integrator's mistakes, which the page reports on the console.
    pub refused: Vec<&'static str>,
}

/// The colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// The system's (`prefers-color-scheme`).
    #[default]
    Auto,
    /// Light whatever the system says.
    Light,
    /// Dark whatever the system says.
    Dark,
}

impl Theme {
    /// `theme=light|dark`; anything else follows the system.
    pub fn parse(value: &str) -> Self {
        match value {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::Auto,
        }
    }

    /// The `data-theme` of the page's root element; none follows the system.
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            Theme::Auto => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }
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
            share: false,
            join: JoinMode::Auto,
            timings: Timings::default(),
            locale: None,
            theme: Theme::Auto,
            accent: None,
            parent_origin: None,
            refused: Vec::new(),
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

    /// Reads the configuration from the current page's address (query and fragment),
    /// falling back to the defaults outside a browser or when it says nothing.
    pub fn from_location() -> Self {
        let location = web_sys::window().map(|w| w.location());
        let part = |hash: bool| {
            location
                .as_ref()
                .and_then(|l| if hash { l.hash() } else { l.search() }.ok())
                .unwrap_or_default()
        };
        Self::from_address(&part(false), &part(true))
    }

    /// Reads the configuration from a query string such as `?experience=x&api=https://q`.
    pub fn from_query(search: &str) -> Self {
        Self::from_address(search, "")
    }

    /// Reads the configuration from a query string and a fragment (`#consumerId=…&token=…`);
    /// credentials in the fragment win over any in the query.
    pub fn from_address(search: &str, fragment: &str) -> Self {
        let params = QueryParams::parse(search);
        let non_empty = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        let mut config = Self::new(
            non_empty("experience").unwrap_or_else(|| DEFAULT_EXPERIENCE.to_owned()),
            non_empty("api").unwrap_or_default(),
        );
        let secret = QueryParams::parse(fragment.strip_prefix('#').unwrap_or(fragment));
        for source in [&params, &secret] {
            if let Some(consumer_id) = source
                .get(paths::CONSUMER_ID)
                .filter(|v| !v.trim().is_empty())
            {
                let token = source.get(paths::TOKEN).unwrap_or_default();
                config.identity = Some(Credentials { consumer_id, token });
            }
        }
        config.locale = non_empty("locale");
        config.theme = Theme::parse(&params.get("theme").unwrap_or_default());
        for (key, check, field) in [
            (
                "accent",
                colour as fn(&str) -> Option<String>,
                &mut config.accent,
            ),
            ("parentOrigin", origin, &mut config.parent_origin),
        ] {
            if let Some(given) = non_empty(key) {
                *field = check(&given);
                if field.is_none() {
                    config.refused.push(key);
                }
            }
        }
        if let Some(only) = non_empty("transport").and_then(|t| TransportKind::parse(&t)) {
            config.transports = vec![only];
        }
        config.debug = matches!(params.get("debug").as_deref(), Some("1" | "true"));
        config.share = !matches!(params.get("share").as_deref(), Some("0" | "false"));
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

/// A CSS hex colour as the shop wrote it (`#E11D48`, `#f0a`), lowercased; anything else is
/// refused, so nothing but a colour reaches the page's style.
pub fn colour(value: &str) -> Option<String> {
    let hex = value.trim().strip_prefix('#')?;
    (matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format::concat(&["#", &hex.to_ascii_lowercase()]))
}

/// The text colour on the accent: black or white, whichever stands out more (by the
/// colour's perceived brightness, YIQ weights: integers, no float code in the bundle).
pub fn on_colour(accent: &str) -> &'static str {
    let hex = accent.trim_start_matches('#').as_bytes();
    let digit = |i: usize| {
        hex.get(i)
            .and_then(|&d| char::from(d).to_digit(16))
            .unwrap_or(0)
    };
    // `#rgb` is `#rrggbb` with each digit twice: 0xf → 0xff is ×17.
    let channel = |i: usize| match hex.len() {
        3 => digit(i) * 17,
        _ => digit(2 * i) * 16 + digit(2 * i + 1),
    };
    let brightness = (299 * channel(0) + 587 * channel(1) + 114 * channel(2)) / 1000;
    if brightness > 150 { "#000" } else { "#fff" }
}

/// An origin as `postMessage` compares it (`https://shop.example`, `http://127.0.0.1:9000`):
/// `http` or `https`, a host, an optional port, nothing after; lowercased, without a
/// trailing slash. Anything else (a path, a query, `*`, `null`) is refused: the widget then
/// talks to no page at all.
pub fn origin(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    (host_ok && port_ok).then_some(value)
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
                share: true,
                ..WidgetConfig::default()
            },
            "a visitor of the page joins by pressing Join, sharing the tabs' feed"
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
    fn the_page_shares_its_feed_with_other_tabs_unless_told_not_to() {
        assert!(WidgetConfig::from_query("?experience=x").share);
        assert!(WidgetConfig::from_query("?share=1").share);
        assert!(!WidgetConfig::from_query("?share=0").share);
        assert!(!WidgetConfig::from_query("?share=false").share);
        assert!(
            !WidgetConfig::new("x", "").share,
            "a program mounting the widget decides for itself"
        );
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

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn credentials_in_the_fragment_win_over_the_query() {
        let config = WidgetConfig::from_address(
            "?experience=x&consumerId=old&token=o",
            "#consumerId=c_9&token=a.b%2Bc",
        );
        assert_eq!(
            config.identity.map(|c| (c.consumer_id, c.token)),
            Some(("c_9".into(), "a.b+c".into()))
        );
        let only_fragment = WidgetConfig::from_address("?experience=x", "consumerId=c_2&token=t");
        assert_eq!(
            only_fragment.identity.map(|c| c.consumer_id).as_deref(),
            Some("c_2")
        );
        assert!(
            WidgetConfig::from_address("", "#token=t")
                .identity
                .is_none()
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn locale_theme_and_accent_come_from_the_query_and_are_checked() {
        let config = WidgetConfig::from_query(
            "?locale=de-AT&theme=dark&accent=%23E11D48&parentOrigin=https://Shop.example/",
        );
        assert_eq!(config.locale.as_deref(), Some("de-AT"));
        assert_eq!(config.theme, Theme::Dark);
        assert_eq!(config.accent.as_deref(), Some("#e11d48"));
        assert_eq!(
            config.parent_origin.as_deref(),
            Some("https://shop.example")
        );
        let plain = WidgetConfig::from_query("?theme=neon&accent=red;x:y&locale=");
        assert_eq!(
            (plain.theme, plain.accent, plain.locale),
            (Theme::Auto, None, None)
        );
        assert_eq!(
            plain.refused,
            ["accent"],
            "a refused value is reported, not silent"
        );
        assert!(config.refused.is_empty());
        let bad_parent = WidgetConfig::from_query("?parentOrigin=*");
        assert_eq!(
            (bad_parent.parent_origin, bad_parent.refused),
            (None, vec!["parentOrigin"])
        );
        for bad in ["#12", "#12345g", "e11d48", "#e11d48;background:url(x)"] {
            assert_eq!(colour(bad), None, "{bad}");
        }
        assert_eq!(colour("#F0a").as_deref(), Some("#f0a"));
        assert_eq!(on_colour("#4f46e5"), "#fff", "white on indigo");
        assert_eq!(on_colour("#ffd400"), "#000", "black on yellow");
        assert_eq!(on_colour("#fff"), "#000");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn only_a_plain_origin_is_a_parent_origin() {
        for (given, wanted) in [
            ("https://shop.example", "https://shop.example"),
            ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
            ("HTTP://LOCALHOST:8090", "http://localhost:8090"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(origin(given).as_deref(), Some(wanted), "{given}");
        }
        for bad in [
            "*",
            "null",
            "",
            "shop.example",
            "https://",
            "https://shop.example/path",
            "https://shop.example?x=1",
            "javascript:alert(1)",
            "https://shop.example:80a",
            "ftp://shop.example",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
    }
}
