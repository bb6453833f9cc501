//! The security headers of every answer, and the widget page's Content-Security-Policy.
//!
//! - [`layer`] sets, in one place for every route (widget, API, errors, `/embed.js`, the demo
//!   checkout, the demo shop), the headers every answer carries unless its handler chose
//!   its own: `X-Content-Type-Options`, `Referrer-Policy` and a deny-all CSP.
//! - [`widget_csp`] is the widget page's policy: its scripts by hash (no `unsafe-inline`),
//!   its connections to its own origin and configured extra origins, and the pages allowed
//!   to frame it (`frame-ancestors`, from `LIVEQUEUE_FRAME_ANCESTORS`).
//! - [`console_csp`] is the operator console's policy: the same, but never framed and
//!   connecting only to its own origin.
//! - [`Sources`] are those configured origin lists, each entry checked at start so a typo is
//!   a startup error rather than a policy the browser silently drops.

use std::fmt;

use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::set_header::SetResponseHeaderLayer;

/// `X-Content-Type-Options: nosniff`: browsers take every answer as the type it says
/// (a JSON error or a text file is never run as a script or rendered as HTML).
pub const NOSNIFF: &str = "nosniff";

/// `Referrer-Policy: no-referrer`: the widget's address names the experience (and older
/// embeds put credentials in its query), so no page it links to or loads learns it. Pages
/// that need their origin on a form's `POST` (the demo checkout) set `same-origin` themselves.
pub const REFERRER_POLICY: &str = "no-referrer";

/// The policy of every answer that is not a page (JSON, errors, scripts, files): it may
/// load nothing and no page may frame it.
pub const DENY_ALL_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The headers every answer gets unless its handler already set them (`if_not_present`, so
/// the widget page's own CSP and the checkout's `Referrer-Policy` stand).
pub type Layer = Stack<
    SetResponseHeaderLayer<HeaderValue>,
    Stack<
        SetResponseHeaderLayer<HeaderValue>,
        Stack<SetResponseHeaderLayer<HeaderValue>, Identity>,
    >,
>;

/// The one place the common security headers are set (see [`Layer`]).
pub fn layer() -> Layer {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    ServiceBuilder::new()
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF))
        .layer(header(header::REFERRER_POLICY, REFERRER_POLICY))
        .layer(header(header::CONTENT_SECURITY_POLICY, DENY_ALL_CSP))
        .into_inner()
}

/// What a list of configured sources may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `frame-ancestors`: origins, `'self'`, or `'none'` alone.
    FrameAncestors,
    /// `connect-src` besides `'self'`: origins only (http, https, ws, wss).
    Connect,
}

/// A checked list of CSP sources, in the order configured, written as CSP writes them
/// (lowercase scheme and host, no trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sources(Vec<String>);

impl Sources {
    /// `frame-ancestors`: origins such as `https://shop.example` or `http://127.0.0.1:9000`,
    /// `https://*.shop.example` for every subdomain, `'self'`, or `'none'` alone. Entries are
    /// separated by spaces or commas. `*` is refused: it would let any site frame the queue
    /// and trick shoppers into clicks (clickjacking); list the shops instead.
    pub fn frame_ancestors(list: &str) -> Result<Self, String> {
        Self::parse(list, Kind::FrameAncestors)
    }

    /// Extra `connect-src` origins (the widget always may connect to its own): for a widget
    /// told to use another `api`. Each http(s) origin also allows its ws(s) twin, which
    /// WebSocket needs.
    pub fn connect(list: &str) -> Result<Self, String> {
        Self::parse(list, Kind::Connect)
    }

    fn parse(list: &str, kind: Kind) -> Result<Self, String> {
        let mut sources: Vec<String> = Vec::new();
        for entry in list.split([',', ' ', '\t']).filter(|e| !e.is_empty()) {
            let source = match entry {
                "'self'" if kind == Kind::FrameAncestors => entry.to_owned(),
                "'none'" if kind == Kind::FrameAncestors => entry.to_owned(),
                "*" => {
                    return Err(format!(
                        "`*` is not accepted: list the origins ({})",
                        match kind {
                            Kind::FrameAncestors => "any site could frame the queue",
                            Kind::Connect => "the widget would talk to any server",
                        }
                    ));
                }
                other => origin(other, kind)?,
            };
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
        if sources.len() > 1 && sources.iter().any(|s| s == "'none'") {
            return Err("`'none'` must stand alone".into());
        }
        if kind == Kind::Connect {
            let twins: Vec<String> = sources.iter().filter_map(|s| ws_twin(s)).collect();
            for twin in twins {
                if !sources.contains(&twin) {
                    sources.push(twin);
                }
            }
        }
        Ok(Self(sources))
    }

    /// Only `'self'`: the default of `frame-ancestors`.
    pub fn self_only() -> Self {
        Self(vec!["'self'".to_owned()])
    }

    /// Adds `origin` (already checked, e.g. the demo shop's own address) unless present;
    /// replaces a lone `'none'`.
    pub fn add(&mut self, origin: String) {
        self.0.retain(|s| s != "'none'");
        if !self.0.contains(&origin) {
            self.0.push(origin);
        }
    }

    /// The entries.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// `entry` checked as an origin (`scheme://host[:port]`) and written as CSP writes it.
fn origin(entry: &str, kind: Kind) -> Result<String, String> {
    let bad = |why: &str| {
        Err(format!(
            "`{entry}` is not an origin ({why}); write it like https://shop.example or http://127.0.0.1:9000"
        ))
    };
    let Some((scheme, rest)) = entry.split_once("://") else {
        return bad("no scheme");
    };
    let scheme = scheme.to_ascii_lowercase();
    let schemes: &[&str] = match kind {
        Kind::FrameAncestors => &["http", "https"],
        Kind::Connect => &["http", "https", "ws", "wss"],
    };
    if !schemes.contains(&scheme.as_str()) {
        return bad("the scheme must be one of http, https (ws, wss for connect-src)");
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@', '\'', '"', ';']) {
        return bad("an origin has no path, query, fragment or user");
    }
    let (host, port) = if rest.starts_with('[') {
        // `[ipv6]` or `[ipv6]:port`: the colons inside the brackets are the address's.
        let Some(close) = rest.find(']') else {
            return bad("an IPv6 address needs its closing `]`");
        };
        match &rest[close + 1..] {
            "" => (&rest[..=close], None),
            tail => match tail.strip_prefix(':') {
                Some(port) => (&rest[..=close], Some(port)),
                None => return bad("only `:port` may follow an IPv6 address"),
            },
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return bad("the port must be a number up to 65535");
    }
    if !valid_host(host) {
        return bad("the host is not a name, an IPv4 address or a bracketed IPv6 address");
    }
    let host = host.to_ascii_lowercase();
    Ok(match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// A DNS name (optionally `*.` for every subdomain), an IPv4 address, or `[ipv6]`.
fn valid_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `ws://x` for `http://x`, `wss://x` for `https://x`.
fn ws_twin(source: &str) -> Option<String> {
    if let Some(rest) = source.strip_prefix("https://") {
        Some(format!("wss://{rest}"))
    } else {
        source
            .strip_prefix("http://")
            .map(|rest| format!("ws://{rest}"))
    }
}

/// The widget page's Content-Security-Policy, for the page `html` (its inline scripts and
/// styles are allowed by their hashes, nothing else inline):
///
/// - `script-src 'self' 'wasm-unsafe-eval' 'sha256-…'`: the page's own files, compiling its
///   WebAssembly, and trunk's one inline module script by its hash, never `unsafe-inline`;
/// - `style-src 'self'` plus `style-src-attr 'unsafe-inline'`: the widget writes `style`
///   attributes (the meter's width, the accent colour custom property), never style
///   elements; inline `<style>` blocks, if any, by hash;
/// - `connect-src 'self' …`: fetch, EventSource and WebSocket to its own origin (`'self'`
///   matches ws: and wss: of the page's host in CSP level 3 browsers) plus
///   `LIVEQUEUE_CONNECT_SRC` for a widget told to use another `api`;
/// - `img-src 'self' data:` (the page's empty `data:` icon); `base-uri 'none'`,
///   `form-action 'self'`, `default-src 'none'` for everything else;
/// - `frame-ancestors`: the shops allowed to embed it (`LIVEQUEUE_FRAME_ANCESTORS`).
pub fn widget_csp(html: &str, connect: &Sources, frame_ancestors: &Sources) -> String {
    let hashes = |tag: &str| -> String {
        inline_blocks(html, tag)
            .map(|text| format!(" 'sha256-{}'", sha256_base64(text)))
            .collect()
    };
    let connect = if connect.is_empty() {
        String::new()
    } else {
        format!(" {connect}")
    };
    let ancestors = if frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        frame_ancestors.to_string()
    };
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{scripts}; \
         style-src 'self'{styles}; style-src-attr 'unsafe-inline'; \
         connect-src 'self'{connect}; img-src 'self' data:; base-uri 'none'; \
         form-action 'self'; frame-ancestors {ancestors}",
        scripts = hashes("script"),
        styles = hashes("style"),
    )
}

/// The operator console's Content-Security-Policy, for its page `html`: the widget's
/// policy ([`widget_csp`], scripts by hash, WebAssembly, no `unsafe-inline` scripts) with
/// `connect-src 'self'` alone (the console talks only to the server that serves it) and
/// `frame-ancestors 'none'` (the console is never framed, so no page can overlay it to
/// trick an operator into a click).
pub fn console_csp(html: &str) -> String {
    // An empty `frame-ancestors` list is written `'none'` by `widget_csp`.
    widget_csp(html, &Sources::default(), &Sources::default())
}

/// The exact text of each inline `<tag>…</tag>` element of `html` (those without `src`),
/// which is what a browser hashes. Script and style contents are raw text in HTML, so the
/// first `</tag` ends each.
pub fn inline_blocks<'a>(html: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let start = at + lower[at..].find(&open)?;
            let after_name = start + open.len();
            // `<scripts>` or `<styles>` are other tags; `<script>`/`<script type=…>` are ours.
            let next = lower.as_bytes().get(after_name).copied()?;
            if !(next == b'>' || next.is_ascii_whitespace()) {
                at = after_name;
                continue;
            }
            let body = after_name + lower[after_name..].find('>')? + 1;
            let end = body + lower[body..].find(&close)?;
            at = end + close.len();
            let attributes = &lower[after_name..body - 1];
            if tag == "script" && has_src(attributes) {
                continue;
            }
            return Some(&html[body..end]);
        }
    })
}

/// Whether a tag's attributes (lowercased) include `src`.
fn has_src(attributes: &str) -> bool {
    attributes
        .split(|c: char| c.is_ascii_whitespace())
        .any(|a| a == "src" || a.starts_with("src="))
}

/// The base64 of the SHA-256 of `text`, as CSP's `'sha256-…'` sources write it.
pub fn sha256_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_take_origins_self_and_none_separated_by_spaces_or_commas() {
        let list = Sources::frame_ancestors("'self', HTTPS://Shop.Example/ http://127.0.0.1:9000")
            .unwrap();
        assert_eq!(
            list.to_string(),
            "'self' https://shop.example http://127.0.0.1:9000"
        );
        assert_eq!(
            Sources::frame_ancestors("'none'").unwrap().to_string(),
            "'none'"
        );
        assert_eq!(
            Sources::frame_ancestors("https://*.shop.example,http://[::1]:8080")
                .unwrap()
                .to_string(),
            "https://*.shop.example http://[::1]:8080"
        );
        assert!(Sources::frame_ancestors("").unwrap().is_empty());
    }

    #[test]
    fn junk_in_frame_ancestors_is_refused_with_the_entry_named() {
        for junk in [
            "*",
            "shop.example",
            "ftp://shop.example",
            "https://shop.example/checkout",
            "https://shop.example:99999",
            "https://user@shop.example",
            "https://shop..example",
            "https://shop.example;script-src",
            "'unsafe-inline'",
            "'none' https://shop.example",
        ] {
            let error = Sources::frame_ancestors(junk).expect_err(junk);
            assert!(
                error.contains(junk.split(' ').next_back().unwrap()) || error.contains("'none'"),
                "the error for {junk} does not name it: {error}"
            );
        }
    }

    #[test]
    fn connect_sources_add_the_websocket_twin_of_each_http_origin() {
        let list = Sources::connect("https://api.example,http://127.0.0.1:9000").unwrap();
        assert_eq!(
            list.to_string(),
            "https://api.example http://127.0.0.1:9000 wss://api.example ws://127.0.0.1:9000"
        );
        assert!(
            Sources::connect("'self'").is_err(),
            "'self' is always there"
        );
    }

    const TRUNK_PAGE: &str = "<!doctype html><head><noscript>x</noscript>\n\
        <script type=\"module\">\nimport init from '/a.js';\nawait init();\n</script>\n\
        <script src=\"/b.js\"></script><SCRIPT>two()</SCRIPT></head>";

    #[test]
    fn inline_scripts_are_found_with_their_exact_text_and_external_ones_skipped() {
        let found: Vec<&str> = inline_blocks(TRUNK_PAGE, "script").collect();
        assert_eq!(
            found,
            ["\nimport init from '/a.js';\nawait init();\n", "two()"]
        );
        assert_eq!(inline_blocks(TRUNK_PAGE, "style").count(), 0);
    }

    #[test]
    fn the_widget_policy_allows_each_inline_script_by_hash_and_never_unsafe_inline_scripts() {
        let ancestors = Sources::frame_ancestors("https://shop.example").unwrap();
        let csp = widget_csp(TRUNK_PAGE, &Sources::default(), &ancestors);
        // `echo -n 'two()' | openssl dgst -sha256 -binary | base64`
        assert!(
            csp.contains("'sha256-iMrPAWirDC2X0OhZzLsM2MRIWSmepJGI4r7D8ZlwBOw='"),
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe-inline"), "{csp}");
        assert!(
            csp.ends_with("frame-ancestors https://shop.example"),
            "{csp}"
        );
        assert!(csp.contains("connect-src 'self';"), "{csp}");
    }

    #[test]
    fn the_console_policy_is_never_framed_and_connects_only_to_its_origin() {
        let csp = console_csp(TRUNK_PAGE);
        assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
    }
}
