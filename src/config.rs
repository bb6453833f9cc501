//! What the page was asked to show, read from its query string.
//!
//! The widget is embedded as an iframe (`/?experience=ID`), so the query string is its whole
//! configuration: `experience` names the drop (default [`DEFAULT_EXPERIENCE`]) and `api` is the
//! base URL of the livequeue server (default: the page's own origin).

/// The experience shown when the page names none: the demo server's drop.
pub const DEFAULT_EXPERIENCE: &str = "demo-drop";

/// The widget's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetConfig {
    /// The experience (drop) to queue for.
    pub experience: String,
    /// Base URL of the server's API without a trailing slash; `""` means the page's origin.
    pub api_base: String,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        Self {
            experience: DEFAULT_EXPERIENCE.to_owned(),
            api_base: String::new(),
        }
    }
}

impl WidgetConfig {
    /// A configuration for `experience` on the server at `api_base`.
    pub fn new(experience: impl Into<String>, api_base: impl Into<String>) -> Self {
        Self {
            experience: experience.into(),
            api_base: normalize_base(&api_base.into()),
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
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(search) else {
            return Self::default();
        };
        let non_empty = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        Self::new(
            non_empty("experience").unwrap_or_else(|| DEFAULT_EXPERIENCE.to_owned()),
            non_empty("api").unwrap_or_default(),
        )
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

/// Drops surrounding whitespace and trailing slashes so paths can be appended with `/api/…`.
fn normalize_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn an_empty_query_gives_the_demo_drop_on_the_same_origin() {
        assert_eq!(WidgetConfig::from_query(""), WidgetConfig::default());
        assert_eq!(WidgetConfig::default().experience, "demo-drop");
        assert_eq!(WidgetConfig::default().api_base, "");
    }

    #[wasm_bindgen_test]
    fn the_query_names_the_experience_and_the_api_without_trailing_slash() {
        let config = WidgetConfig::from_query("?experience=spring-sneaker&api=http://q.test:8080/");
        assert_eq!(config.experience, "spring-sneaker");
        assert_eq!(config.api_base, "http://q.test:8080");
    }

    #[wasm_bindgen_test]
    fn experience_ids_outside_the_server_alphabet_are_invalid() {
        assert!(WidgetConfig::new("demo-drop_2", "").experience_is_valid());
        assert!(!WidgetConfig::new("../admin", "").experience_is_valid());
        assert!(!WidgetConfig::new("x".repeat(65), "").experience_is_valid());
    }
}
