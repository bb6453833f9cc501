//! The widget's page: the header, the part that fits the shopper's stage, and the stock.
//!
//! Everything shown is the view model of [`crate::components::model`]. The page writes the
//! parts' static markup once; one effect computes the model from the feed and the shopper's
//! actions and applies the parts' binding tables ([`crate::components::bind`]) whenever they
//! change. Beside the tables the effect does what is not a binding: it hands the place to
//! the moving number, writes the live regions when they should speak, and on the shopper's
//! turn moves focus to the checkout, flashes the tab's title while the tab is in the
//! background and shows the notification the shopper asked for.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use livequeue_protocol::{AdmissionStatus, QueueState};
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::actions::{self, Action, Actions, Notify, Step};
use crate::announce::Announcer;
use crate::clock;
use crate::components::animated_number::{self, AnimatedNumber};
use crate::components::bind::{self, Bind, Markup};
use crate::components::model::{DebugInputs, Inputs, Model};
use crate::components::{
    admission_panel, connection_indicator, debug_panel, join_panel, live_regions, position_card,
    problem_notice, stage_badge, stock_meter,
};
use crate::config::WidgetConfig;
use crate::feed::{Presence, QueueFeed, use_queue_feed};
use crate::host::{self, Host};
use crate::resources;
use crate::timer::{Interval, Listener};
use crate::wait::WaitEstimate;

/// How often the page's clock ticks while a countdown shows. Half a second keeps the
/// displayed second from skipping when the timer fires slightly late.
const COUNTDOWN_TICK: Duration = Duration::from_millis(500);
/// How often it ticks otherwise while the shopper holds a place ("Updated 12 s ago").
const TICK: Duration = Duration::from_secs(1);
/// How often the tab's title changes while it flashes.
const FLASH: Duration = Duration::from_millis(1000);
/// Before the title shown in turn with the page's own while the shopper's turn waits in a
/// background tab (the catalog's `turn_title`).
const FLASH_BELL: &str = "🔔 ";

/// The parts in page order: markup and bindings.
const PARTS: [(Markup, &[Bind]); 8] = [
    (connection_indicator::html, connection_indicator::BINDINGS),
    (problem_notice::html, problem_notice::BINDINGS),
    (join_panel::html, join_panel::BINDINGS),
    (position_card::html, position_card::BINDINGS),
    (admission_panel::html, admission_panel::BINDINGS),
    (stage_badge::html, stage_badge::BINDINGS),
    (stock_meter::html, stock_meter::BINDINGS),
    (live_regions::html, live_regions::BINDINGS),
];

/// The root's own attributes.
const ROOT: &[Bind] = &[
    Bind::Attr("", "data-experience-id", |m| m.experience_id.as_deref()),
    Bind::Attr("", "data-stage", |m| m.stage),
];

/// The whole page, configured from the address bar (`?experience=`, `?api=`).
#[component]
pub fn App() -> impl IntoView {
    let config = WidgetConfig::from_location();
    forget_fragment();
    view! { <QueueWidget config=config /> }
}

/// Takes credentials given in the fragment out of the address bar once read: out of sight
/// of a shopper copying the link, of the history, and of any script that reads the address
/// later.
fn forget_fragment() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    if location.hash().is_ok_and(|h| h.len() > 1)
        && let (Ok(path), Ok(search), Ok(history)) =
            (location.pathname(), location.search(), window.history())
    {
        let address = crate::format::concat(&[&path, &search]);
        // A refused `replaceState` (a sandboxed frame) leaves the fragment where it was.
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&address));
    }
}

/// Applies what the page was told about its looks and words to the whole document: the
/// language (`<html lang>`, so screen readers read it in it), the theme (`data-theme`),
/// the shop's accent colour, and `data-embedded` when a host page frames it (the widget then
/// lets the host size it rather than filling the window).
fn apply_page(config: &WidgetConfig) {
    // The browser's first language (`navigator.language`): its whole list would add the
    // array's glue for a second choice that a shop's `locale` covers.
    let browser: Vec<String> = web_sys::window()
        .and_then(|w| w.navigator().language())
        .into_iter()
        .collect();
    let catalog = crate::i18n::choose(config.locale.as_deref(), &browser);
    crate::i18n::use_catalog(catalog);
    let Some(document) = document() else {
        return;
    };
    // The tab's title, in the page's language (the drop's name is the page's heading).
    document.set_title(catalog.texts.eyebrow);
    let Some(html) = document.document_element() else {
        return;
    };
    // Attribute names are constants and the values checked: setting them cannot fail.
    let _ = html.set_attribute("lang", catalog.lang);
    if let Some(theme) = config.theme.attribute() {
        let _ = html.set_attribute("data-theme", theme);
    }
    if let Some(accent) = &config.accent {
        let on = crate::config::on_colour(accent);
        let style = crate::format::concat(&["--lq-accent:", accent, ";--lq-on-accent:", on]);
        let _ = html.set_attribute("style", &style);
        let _ = html.set_attribute("data-accent", "");
    }
    if config.parent_origin.is_some() {
        let _ = html.set_attribute("data-embedded", "");
    }
    // The integrator's mistakes, said where they look (the console), not to the shopper.
    for &key in &config.refused {
        let what = if key == "accent" {
            " is not a #rgb or #rrggbb colour: the widget keeps its own"
        } else {
            " is not an origin (https://shop.example): the widget sends the page no messages"
        };
        crate::log::warn(&crate::format::concat(&["livequeue: ", key, what]));
    }
}

/// The queue widget for one experience: joins, follows the live stream, and shows where the
/// shopper stands. Tests mount it with an explicit configuration.
#[component]
pub fn QueueWidget(
    /// Which experience, on which server.
    config: WidgetConfig,
) -> impl IntoView {
    let debug = config.debug;
    apply_page(&config);
    let feed = use_queue_feed(config.clone());
    let actions = RwSignal::new(Actions {
        notify: notifications::initial(),
        ..Actions::default()
    });
    // Ticked only while the shopper holds a place; the model reads it.
    let now = RwSignal::new(clock::local_now());
    let hidden = RwSignal::new(crate::feed::page_hidden());
    let mut markup = String::new();
    let mut tables: Vec<&'static [Bind]> = vec![ROOT];
    for (html, bindings) in PARTS {
        markup.push_str(&html(crate::i18n::t()));
        tables.push(bindings);
    }
    if debug {
        markup.push_str(&debug_panel::html());
        tables.push(debug_panel::BINDINGS);
    }

    let root = NodeRef::<leptos::html::Main>::new();
    let held = Rc::new(Held::new());
    let cleanup = SendWrapper::new(Rc::clone(&held));
    let config = Rc::new(config);
    // No `Memo<Model>` between the feed and the DOM: the tables compare with the DOM anyway,
    // and a memo of the model added its comparison, clone and arena code (measured
    // 2026-12-01: gzip 94160 → 92995 B without it).
    Effect::new(move |_| {
        let Some(root) = root.get() else { return };
        if held.listeners.borrow().is_empty() {
            let on_click = Listener::new(root.unchecked_ref(), "click", {
                let config = Rc::clone(&config);
                move |event| on_action(event, &config, feed, actions)
            });
            let mut listeners = vec![on_click];
            if let Some(document) = document() {
                listeners.push(Listener::new(&document, "visibilitychange", move |_| {
                    hidden.set(crate::feed::page_hidden());
                }));
            }
            held.listeners.replace(listeners);
            *held.host.borrow_mut() = Host::connect(
                config.parent_origin.as_deref(),
                &config.experience,
                &root,
                move || feed.join(),
            );
        }
        let now_ms = now.get();
        let is_hidden = hidden.get();
        let presence = feed.presence.get();
        let heard = feed.heard.get();
        let model = {
            let problem = feed.problem.read();
            let actions = actions.read();
            feed.with_state(|state| {
                let wait = held.observe_wait(state, now_ms);
                let grant = state
                    .and_then(|s| s.admission.as_ref())
                    .filter(|a| a.status == AdmissionStatus::Active)
                    .map(|a| a.grant.clone());
                let model = Model::of(&Inputs {
                    state,
                    status: feed.status.get(),
                    problem: problem.as_ref(),
                    skew: feed.skew.get(),
                    now: now_ms,
                    heard,
                    presence,
                    wait,
                    actions: &actions,
                    debug: debug.then(|| DebugInputs {
                        transport: feed.transport.get(),
                        diagnostics: feed.diagnostics.get(),
                        // Resources move when the diagnostics do, which are read just above.
                        live: resources::snapshot(),
                    }),
                });
                (model, grant, host::Report::of(state))
            })
        };
        let (model, grant, report) = model;
        bind::apply(&root, &model, &tables);
        held.show_position(&root, &model, now_ms);
        held.show_turn(&root, &model, grant, is_hidden, actions);
        if let Some(host) = &*held.host.borrow() {
            host.report(report);
        }
        let period = match (presence, model.countdown.is_some()) {
            (_, true) => Some(COUNTDOWN_TICK),
            (Presence::Holding, false) => Some(TICK),
            _ => None,
        };
        if held.tick_period.get() != period {
            held.tick_period.set(period);
            // Replacing the guard clears the old interval.
            *held.ticker.borrow_mut() =
                period.map(|period| Interval::new(period, move || now.set(clock::local_now())));
        }
    });
    // The widget runs on the browser's one thread, so the wrapper's thread check always passes.
    on_cleanup(move || cleanup.release());

    view! { <main class="lq-widget" node_ref=root inner_html=markup></main> }
}

/// The page's document (the widget runs only in one).
fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// A click on the page: the `data-action` of the button (or link) it landed in.
fn on_action(
    event: &web_sys::Event,
    config: &WidgetConfig,
    feed: QueueFeed,
    actions: RwSignal<Actions>,
) {
    let action = event
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|t| t.closest("[data-action]").ok().flatten())
        .and_then(|t| t.get_attribute("data-action"));
    match action.as_deref() {
        Some("retry") => feed.reconnect(),
        Some("join") => feed.join(),
        Some("leave") => actions::run(Action::Leave, config, feed, actions),
        Some("rejoin") => actions::run(Action::Rejoin, config, feed, actions),
        Some("extend") => actions::run(Action::Extend, config, feed, actions),
        Some("add") => actions::run(Action::AddToCart, config, feed, actions),
        Some("notify") => notifications::ask(actions),
        _ => {}
    }
}

/// The `(position, wait in seconds)` of a state, as the wait estimate took it.
type Taken = (Option<u64>, u64);

/// What the page's effect holds beside the DOM, released with the page.
///
/// The listeners are [`Listener`] guards set up by the effect rather than `on:click` in
/// `view!`: the renderer's typed event code cost more than the guard, which the widget has
/// anyway (measured 2026-12-01: gzip 82799 → 82308 B). Plain cells rather than
/// `StoredValue`s: fewer arena types.
struct Held {
    /// The page's clock ticker while the shopper holds a place: the widget's own guard
    /// (counted with the other timers), not Leptos' `set_interval`.
    ticker: RefCell<Option<Interval>>,
    /// The ticker's period.
    tick_period: Cell<Option<Duration>>,
    /// The root's click listener and the document's visibility listener.
    listeners: RefCell<Vec<Listener>>,
    /// The smoothed wait, and the `(position, wait)` it last took.
    wait: RefCell<(WaitEstimate, Option<Taken>)>,
    /// The moving place in line.
    number: AnimatedNumber,
    /// When the place is read out.
    announcer: Cell<Announcer>,
    /// The grant of the turn the page shows, once seen (focus, alert, notification once).
    grant: RefCell<Option<String>>,
    /// The title flashing in a background tab, and the page's own title it alternates with.
    flash: RefCell<Option<(Interval, String)>>,
    /// The host page, when one frames the widget and named its origin.
    host: RefCell<Option<Host>>,
}

impl Held {
    fn new() -> Self {
        Self {
            ticker: RefCell::new(None),
            tick_period: Cell::new(None),
            listeners: RefCell::new(Vec::new()),
            wait: RefCell::new((WaitEstimate::default(), None)),
            number: AnimatedNumber::new(animated_number::prefers_reduced_motion),
            announcer: Cell::new(Announcer::default()),
            grant: RefCell::new(None),
            flash: RefCell::new(None),
            host: RefCell::new(None),
        }
    }

    /// Feeds the wait estimate each new `(position, wait)` of the state and answers what it
    /// says at `now_ms`.
    fn observe_wait(&self, state: Option<&QueueState>, now_ms: f64) -> crate::wait::WaitView {
        let mut wait = self.wait.borrow_mut();
        let seen = state.map(|s| (s.position, s.estimated_wait_seconds));
        match seen {
            Some((position, Some(seconds))) => {
                if wait.1 != Some((position, seconds)) {
                    wait.1 = Some((position, seconds));
                    wait.0.observe(Some(seconds), now_ms);
                }
            }
            _ => {
                wait.1 = None;
                wait.0.observe(None, now_ms);
            }
        }
        wait.0.view(now_ms)
    }

    /// Hands the place to the moving number and, when due, to the polite live region.
    fn show_position(&self, root: &Element, model: &Model, now_ms: f64) {
        let Some(target) = model.position_target else {
            return;
        };
        if let Ok(Some(element)) = root.query_selector(".lq-position-value") {
            self.number.show(element, target);
        }
        let mut announcer = self.announcer.get();
        if let Some(place) = announcer.next(target, now_ms) {
            write(root, ".lq-announce", &crate::format::announcement(place));
        }
        self.announcer.set(announcer);
    }

    /// The turn, once per grant: focus on the checkout, the assertive announcement, the
    /// notification; and the title flashing while the tab is in the background.
    fn show_turn(
        &self,
        root: &Element,
        model: &Model,
        grant: Option<String>,
        hidden: bool,
        actions: RwSignal<Actions>,
    ) {
        // A guide-style turn without an admission object is a turn too, once.
        let turn = model.admitted.then(|| grant.unwrap_or_default());
        let new_turn = {
            let mut seen = self.grant.borrow_mut();
            let new_turn = turn.is_some() && *seen != turn;
            if turn.is_some() || !model.admitted {
                *seen = turn;
            }
            new_turn
        };
        if new_turn {
            actions.update(|a| {
                a.extend = Step::Idle;
                a.cart = actions::Cart::default();
            });
            let focus = root
                .query_selector(".lq-checkout:not([hidden])")
                .ok()
                .flatten()
                .or_else(|| root.query_selector(".lq-admission-title").ok().flatten());
            if let Some(focus) = focus.and_then(|f| f.dyn_into::<web_sys::HtmlElement>().ok()) {
                // Focus may be refused (a page not focused yet): the alert still speaks.
                let _ = focus.focus();
            }
            let t = crate::i18n::t();
            let sentence = match &model.countdown {
                Some(left) => crate::i18n::fill(t.turn_alert_timed, &[("time", left)]),
                None => t.turn_alert.to_owned(),
            };
            write(root, ".lq-alert", &sentence);
            if hidden && actions.with_untracked(|a| a.notify == Notify::On) {
                notifications::show(&sentence);
            }
        } else if !model.admitted {
            write(root, ".lq-alert", "");
        }
        let flashing = model.admitted && model.countdown.as_deref() != Some("0:00") && hidden;
        let mut flash = self.flash.borrow_mut();
        match (flashing, flash.is_some()) {
            (true, false) => {
                let own = document().map(|d| d.title()).unwrap_or_default();
                let restore = own.clone();
                let turn = crate::format::concat(&[FLASH_BELL, crate::i18n::t().turn_title]);
                let mut on = false;
                let interval = Interval::new(FLASH, move || {
                    on = !on;
                    if let Some(document) = document() {
                        document.set_title(if on { &turn } else { &own });
                    }
                });
                *flash = Some((interval, restore));
            }
            (false, true) => restore_title(flash.take()),
            _ => {}
        }
    }

    /// Releases every guard: the intervals, the listeners, the animation frame.
    fn release(&self) {
        self.ticker.take();
        self.listeners.take();
        restore_title(self.flash.take());
        self.number.stop();
    }
}

/// Ends a flashing title, putting the page's own back.
fn restore_title(flash: Option<(Interval, String)>) {
    if let (Some((_, own)), Some(document)) = (flash, document()) {
        document.set_title(&own);
    }
}

/// Writes `text` into the element `selector` under `root`, if it differs.
fn write(root: &Element, selector: &str, text: &str) {
    if let Ok(Some(element)) = root.query_selector(selector)
        && element.text_content().as_deref() != Some(text)
    {
        element.set_text_content(Some(text));
    }
}

/// Browser notifications and the page's visibility.
mod notifications {
    use leptos::prelude::*;
    use wasm_bindgen::JsValue;
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    use crate::actions::{Actions, Notify};

    /// Whether this page can use notifications at all.
    fn available() -> bool {
        web_sys::window().is_some_and(|w| {
            js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false)
        })
    }

    fn of(permission: NotificationPermission) -> Notify {
        match permission {
            NotificationPermission::Granted => Notify::On,
            NotificationPermission::Denied => Notify::Off,
            _ => Notify::Offer,
        }
    }

    /// What the page offers at the start.
    pub(super) fn initial() -> Notify {
        if available() {
            of(Notification::permission())
        } else {
            Notify::Unavailable
        }
    }

    /// Asks the browser for permission (the shopper pressed the offer).
    pub(super) fn ask(actions: RwSignal<Actions>) {
        let Ok(promise) = Notification::request_permission() else {
            return actions.update(|a| a.notify = Notify::Off);
        };
        leptos::task::spawn_local(async move {
            let answer = wasm_bindgen_futures::JsFuture::from(promise).await;
            let granted = answer.ok().and_then(|a| a.as_string()).as_deref() == Some("granted");
            actions.update(|a| a.notify = if granted { Notify::On } else { Notify::Off });
        });
    }

    /// Shows `body` as a notification titled "It's your turn".
    pub(super) fn show(body: &str) {
        let options = NotificationOptions::new();
        options.set_body(body);
        options.set_tag("livequeue-turn");
        // A refused notification changes nothing: the title flashes anyway.
        let _ = Notification::new_with_options(crate::i18n::t().turn_notification, &options);
    }
}
