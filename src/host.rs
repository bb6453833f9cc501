//! The host page: the shop that embeds the widget in an iframe (`public/embed.js` makes it),
//! spoken to through `postMessage` and only with the origin it named (`parentOrigin`).
//!
//! To the host, always with `parentOrigin` as the target (never `*`, so no other page that
//! framed the widget can read the shopper's place), each message
//! `{source: "livequeue", type, …}`:
//! - `ready` (`experience`) once the page is up;
//! - `position` (`position`, `stage`, `estimatedWaitSeconds`, each `null` when unknown)
//!   whenever one of them changes;
//! - `admitted` (`checkoutUrl` with the grant, `expiresAt`) once per turn;
//! - `resize` (`height` in CSS pixels) whenever the widget's height changes, so the host
//!   sizes the iframe to it.
//!
//! From the host: `{source: "livequeue", type: "join"}` (the shop's own "Queue now"
//! button), taken only from the parent window and only from `parentOrigin`; anything else,
//! from anywhere else, is ignored.
//!
//! [`Report`] is what the messages say, derived from the state (pure, tested natively); the
//! [`Host`] guard posts it and listens, and releases its listener and observer when dropped.

use livequeue_protocol::{AdmissionStatus, QueueState, Stage};

use crate::format;

/// The `source` of every message both ways, so neither side mistakes another script's
/// messages for these.
pub const SOURCE: &str = "livequeue";

/// What the host is told about the shopper.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The place in line, while in line.
    pub position: Option<u64>,
    /// The stage.
    pub stage: Option<Stage>,
    /// The server's estimated wait, while in line.
    pub wait: Option<u64>,
    /// The turn, while one is active: `(grant, checkout URL with the grant, expiry)`.
    pub turn: Option<(String, String, Option<u64>)>,
}

impl Report {
    /// The report of a state (`None`: nothing known yet).
    pub fn of(state: Option<&QueueState>) -> Self {
        let Some(state) = state else {
            return Self::default();
        };
        let in_line = matches!(state.stage, Some(Stage::Queued | Stage::Paused));
        Self {
            position: state.position.filter(|&p| p > 0 && in_line),
            stage: state.stage,
            wait: state.estimated_wait_seconds.filter(|_| in_line),
            turn: state
                .admission
                .as_ref()
                .filter(|a| a.status == AdmissionStatus::Active && !a.checkout_url.is_empty())
                .map(|a| {
                    let href = format::checkout_href(&a.checkout_url, &a.grant);
                    (a.grant.clone(), href, a.expires_at)
                }),
        }
    }

    /// Whether `position` should be posted again: what it says changed.
    pub fn position_changed(&self, before: &Report) -> bool {
        (self.position, self.stage, self.wait) != (before.position, before.stage, before.wait)
    }

    /// Whether this report starts a turn `before` did not have.
    pub fn new_turn(&self, before: &Report) -> bool {
        self.turn
            .as_ref()
            .is_some_and(|(grant, ..)| before.turn.as_ref().map(|(g, ..)| g) != Some(grant))
    }
}

/// `href` as the host page must read it: a path (`/checkout/x?grant=…`, as a server may give
/// its checkout) is the widget's, so it gets the widget's `origin`; anything else is as the
/// server wrote it. A host resolving a bare path would send the shopper to its own site.
pub fn absolute(href: &str, origin: &str) -> String {
    if href.starts_with('/') && !href.starts_with("//") {
        format::concat(&[origin, href])
    } else {
        href.to_owned()
    }
}

/// The height the host should give the iframe: the widget's box and the margin above it,
/// twice (the page's margins are symmetric), rounded up. Not the document's height, which is
/// at least the iframe's own and so would never let it shrink.
pub fn frame_height(top: f64, height: f64) -> u32 {
    (2.0 * top.max(0.0) + height.max(0.0)).ceil() as u32
}

pub use browser::Host;

mod browser {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use js_sys::{Object, Reflect};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{Element, MessageEvent, ResizeObserver, Window};

    use super::{Report, SOURCE, frame_height};
    use crate::timer::Listener;

    /// The host page, while the widget is framed by one that named its origin.
    pub struct Host {
        /// Where every message goes.
        to: Rc<Target>,
        /// What the host was last told.
        told: RefCell<Report>,
        /// The host's commands.
        _commands: Listener,
        /// Watches the widget's height; disconnected on drop.
        observer: ResizeObserver,
        /// The observer's callback, alive as long as the observer.
        _on_resize: Closure<dyn FnMut()>,
    }

    /// The parent window and its origin.
    struct Target {
        parent: Window,
        origin: String,
        height: Cell<u32>,
    }

    impl Target {
        /// Posts `{source, type, …fields}` to the parent, to its origin only.
        fn post(&self, kind: &str, fields: &[(&str, JsValue)]) {
            let message = Object::new();
            // Setting a property on a fresh plain object cannot fail.
            let _ = Reflect::set(&message, &"source".into(), &SOURCE.into());
            let _ = Reflect::set(&message, &"type".into(), &kind.into());
            for (key, value) in fields {
                let _ = Reflect::set(&message, &(*key).into(), value);
            }
            // A parent that navigated elsewhere gets nothing: the browser drops the message
            // (a mismatched origin is not an error).
            let _ = self.parent.post_message(&message, &self.origin);
        }

        fn resize(&self, root: &Element) {
            let Some(root) = root.dyn_ref::<web_sys::HtmlElement>() else {
                return;
            };
            let height = frame_height(
                f64::from(root.offset_top()),
                root.get_bounding_client_rect().height(),
            );
            if self.height.replace(height) != height {
                self.post("resize", &[("height", JsValue::from(height))]);
            }
        }
    }

    fn number(n: Option<u64>) -> JsValue {
        n.map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64))
    }

    impl Host {
        /// The host of this page, when it is framed and `parent_origin` names one; says
        /// `ready` for `experience` and starts following `root`'s height. `on_join` runs
        /// when the host asks the widget to join.
        pub fn connect(
            parent_origin: Option<&str>,
            experience: &str,
            root: &Element,
            on_join: impl Fn() + 'static,
        ) -> Option<Self> {
            let origin = parent_origin?.to_owned();
            let window = web_sys::window()?;
            let parent = window.parent().ok().flatten()?;
            if Object::is(&parent, &window) {
                return None;
            }
            let to = Rc::new(Target {
                parent,
                origin,
                height: Cell::new(0),
            });
            let commands = Listener::new(&window, "message", {
                let to = Rc::clone(&to);
                move |event| {
                    let Some(event) = event.dyn_ref::<MessageEvent>() else {
                        return;
                    };
                    let from_parent = event
                        .source()
                        .is_some_and(|source| Object::is(&source, &to.parent));
                    if !from_parent || event.origin() != to.origin {
                        return;
                    }
                    let data = event.data();
                    let field = |key: &str| {
                        Reflect::get(&data, &key.into())
                            .ok()
                            .and_then(|v| v.as_string())
                    };
                    if field("source").as_deref() == Some(SOURCE)
                        && field("type").as_deref() == Some("join")
                    {
                        on_join();
                    }
                }
            });
            let on_resize = Closure::<dyn FnMut()>::new({
                let (to, root) = (Rc::clone(&to), root.clone());
                move || to.resize(&root)
            });
            let observer = ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok()?;
            observer.observe(root);
            to.post("ready", &[("experience", experience.into())]);
            Some(Self {
                to,
                told: RefCell::new(Report::default()),
                _commands: commands,
                observer,
                _on_resize: on_resize,
            })
        }

        /// Tells the host what changed since it was last told.
        pub fn report(&self, report: Report) {
            let mut told = self.told.borrow_mut();
            if report.position_changed(&told) {
                self.to.post(
                    "position",
                    &[
                        ("position", number(report.position)),
                        (
                            "stage",
                            report.stage.map_or(JsValue::NULL, |s| s.as_str().into()),
                        ),
                        ("estimatedWaitSeconds", number(report.wait)),
                    ],
                );
            }
            if report.new_turn(&told)
                && let Some((_, href, expires_at)) = &report.turn
            {
                let origin = web_sys::window()
                    .and_then(|w| w.location().origin().ok())
                    .unwrap_or_default();
                self.to.post(
                    "admitted",
                    &[
                        ("checkoutUrl", super::absolute(href, &origin).into()),
                        ("expiresAt", number(*expires_at)),
                    ],
                );
            }
            *told = report;
        }
    }

    impl Drop for Host {
        fn drop(&mut self) {
            self.observer.disconnect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::Admission;

    fn queued(position: u64) -> QueueState {
        QueueState {
            position: Some(position),
            estimated_wait_seconds: Some(90),
            stage: Some(Stage::Queued),
            ..QueueState::default()
        }
    }

    #[test]
    fn the_host_hears_of_a_place_only_when_something_it_says_changed() {
        let first = Report::of(Some(&queued(12)));
        assert_eq!((first.position, first.wait), (Some(12), Some(90)));
        assert!(first.position_changed(&Report::default()));
        assert!(!Report::of(Some(&queued(12))).position_changed(&first));
        assert!(Report::of(Some(&queued(11))).position_changed(&first));
        assert_eq!(Report::of(None), Report::default());
    }

    #[test]
    fn a_turn_is_reported_once_with_the_grant_in_the_checkout_url() {
        let mut state = queued(1);
        state.stage = Some(Stage::Admitted);
        state.admission = Some(Admission {
            grant: "g_1".into(),
            expires_at: Some(5_000),
            checkout_url: "https://shop.example/checkout".into(),
            status: AdmissionStatus::Active,
            reserved: 0,
        });
        let turn = Report::of(Some(&state));
        assert_eq!(turn.position, None, "no place in line during a turn");
        assert_eq!(
            turn.turn,
            Some((
                "g_1".into(),
                "https://shop.example/checkout?grant=g_1".into(),
                Some(5_000)
            ))
        );
        assert!(turn.new_turn(&Report::default()));
        assert!(!Report::of(Some(&state)).new_turn(&turn), "once per grant");
        if let Some(a) = state.admission.as_mut() {
            a.status = AdmissionStatus::Redeemed;
        }
        assert_eq!(
            Report::of(Some(&state)).turn,
            None,
            "an ended turn is no turn"
        );
    }

    #[test]
    fn a_checkout_path_is_the_widgets_for_the_host() {
        let origin = "https://queue.example";
        assert_eq!(
            absolute("/checkout/d?grant=g", origin),
            "https://queue.example/checkout/d?grant=g"
        );
        for kept in ["https://shop.example/c?grant=g", "//cdn.example/c"] {
            assert_eq!(absolute(kept, origin), kept);
        }
    }

    #[test]
    fn the_frame_is_as_tall_as_the_widget_and_its_margins() {
        assert_eq!(frame_height(16.0, 400.4), 433);
        assert_eq!(frame_height(0.0, 320.0), 320);
        assert_eq!(frame_height(-3.0, -1.0), 0);
    }
}
