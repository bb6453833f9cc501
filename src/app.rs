//! The widget's page: the header, the part that fits the shopper's stage, and the stock.
//!
//! Everything shown is the view model of [`crate::components::model`]. The page writes the
//! parts' static markup once; one effect computes the model from the feed and applies the
//! parts' binding tables ([`crate::components::bind`]) whenever the feed changes.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

use crate::clock;
use crate::components::bind::{self, Bind};
use crate::components::model::{DebugInputs, Inputs, Model};
use crate::components::{
    admission_panel, connection_indicator, debug_panel, position_card, problem_notice, stage_badge,
    stock_meter,
};
use crate::config::WidgetConfig;
use crate::feed::use_queue_feed;
use crate::resources;
use crate::timer::{Interval, Listener};

/// How often a countdown is redrawn. Half a second keeps the displayed second from skipping
/// when the timer fires slightly late.
const TICK: Duration = Duration::from_millis(500);

/// The parts in page order: markup and bindings.
const PARTS: [(&str, &[Bind]); 6] = [
    (connection_indicator::HTML, connection_indicator::BINDINGS),
    (problem_notice::HTML, problem_notice::BINDINGS),
    (position_card::HTML, position_card::BINDINGS),
    (admission_panel::HTML, admission_panel::BINDINGS),
    (stage_badge::HTML, stage_badge::BINDINGS),
    (stock_meter::HTML, stock_meter::BINDINGS),
];

/// The root's own attributes.
const ROOT: &[Bind] = &[
    Bind::Attr("", "data-experience-id", |m| m.experience_id.as_deref()),
    Bind::Attr("", "data-stage", |m| m.stage),
];

/// The whole page, configured from the address bar (`?experience=`, `?api=`).
#[component]
pub fn App() -> impl IntoView {
    view! { <QueueWidget config=WidgetConfig::from_location() /> }
}

/// The queue widget for one experience: joins, follows the live stream, and shows where the
/// shopper stands. Tests mount it with an explicit configuration.
#[component]
pub fn QueueWidget(
    /// Which experience, on which server.
    config: WidgetConfig,
) -> impl IntoView {
    let debug = config.debug;
    let feed = use_queue_feed(config);
    // Ticked only while a countdown shows; the model reads it only then.
    let now = RwSignal::new(clock::local_now());
    let mut markup = String::new();
    let mut tables: Vec<&'static [Bind]> = vec![ROOT];
    for (html, bindings) in PARTS {
        markup.push_str(html);
        tables.push(bindings);
    }
    if debug {
        markup.push_str(&debug_panel::html());
        tables.push(debug_panel::BINDINGS);
    }

    let root = NodeRef::<leptos::html::Main>::new();
    let held = Rc::new(Held::default());
    let cleanup = SendWrapper::new(Rc::clone(&held));
    // No `Memo<Model>` between the feed and the DOM: the tables compare with the DOM anyway,
    // and a memo of the model added its comparison, clone and arena code (measured
    // 2026-12-01: gzip 94160 → 92995 B without it).
    Effect::new(move |_| {
        let Some(root) = root.get() else { return };
        if held.click.borrow().is_none() {
            // The retry button is static markup: its clicks are caught on the root.
            let on_click = Listener::new(root.unchecked_ref(), "click", move |event| {
                let on_retry = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|t| t.closest(".lq-retry").ok().flatten())
                    .is_some();
                if on_retry {
                    feed.reconnect();
                }
            });
            held.click.replace(Some(on_click));
        }
        let model = {
            let problem = feed.problem.read();
            feed.with_state(|state| {
                Model::of(&Inputs {
                    state,
                    status: feed.status.get(),
                    problem: problem.as_ref(),
                    skew: feed.skew.get(),
                    now: &|| {
                        now.track();
                        clock::local_now()
                    },
                    debug: debug.then(|| DebugInputs {
                        transport: feed.transport.get(),
                        diagnostics: feed.diagnostics.get(),
                        // Resources move when the diagnostics do, which are read just above.
                        live: resources::snapshot(),
                    }),
                })
            })
        };
        bind::apply(&root, &model, &tables);
        let counting = model.countdown.is_some();
        let mut ticker = held.ticker.borrow_mut();
        match (counting, ticker.is_some()) {
            (true, false) => {
                *ticker = Some(Interval::new(TICK, move || now.set(clock::local_now())));
            }
            // Dropping the guard clears the interval.
            (false, true) => *ticker = None,
            _ => {}
        }
    });
    // The widget runs on the browser's one thread, so the wrapper's thread check always passes.
    on_cleanup(move || {
        // Dropping the guards clears the interval and removes the listener.
        cleanup.ticker.take();
        cleanup.click.take();
    });

    view! { <main class="lq-widget" node_ref=root inner_html=markup></main> }
}

/// What the page's effect holds beside the DOM, released with the page.
///
/// The click listener is a [`Listener`] guard set up by the effect rather than an `on:click`
/// in `view!`: the renderer's typed event code cost more than the guard, which the widget
/// has anyway (measured 2026-12-01: gzip 82799 → 82308 B). Plain cells rather
/// than `StoredValue`s: fewer arena types.
#[derive(Default)]
struct Held {
    /// The countdown's interval, while a countdown shows: the widget's own guard (counted
    /// with the other timers), not Leptos' `set_interval`, whose closure glue would be one
    /// more in the bundle.
    ticker: RefCell<Option<Interval>>,
    /// The root's click listener (the retry button).
    click: RefCell<Option<Listener>>,
}
