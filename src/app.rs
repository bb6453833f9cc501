//! The widget's page: the header, the part that fits the shopper's stage, and the stock.
//!
//! Everything shown is the view model of [`crate::components::model`], computed in one memo
//! from the feed; the page and its components only bind its fields.

use leptos::prelude::*;

use crate::clock;
use crate::components::model::{DebugInputs, Inputs, Model, Page, attr, hidden_unless, part, text};
use crate::components::{
    AdmissionPanel, ConnectionIndicator, DebugPanel, PositionCard, StageBadge, StockMeter,
};
use crate::config::WidgetConfig;
use crate::feed::use_queue_feed;
use crate::resources;

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
    let now = RwSignal::new(clock::local_now());
    let model = Memo::new(move |_| {
        let problem = feed.problem.read();
        let state = feed.state.read();
        Model::of(&Inputs {
            state: state.as_ref(),
            status: feed.status.get(),
            problem: problem.as_ref(),
            skew: feed.skew.get(),
            // Read (and tracked) only while a countdown runs: the admission panel ticks it.
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
    });
    let page = Page { model, now };

    view! {
        <main
            class="lq-widget"
            data-experience-id=attr(page, |m| m.experience_id.as_deref())
            data-stage=attr(page, |m| m.stage)
        >
            <header class="lq-header">
                <div class="lq-heading">
                    <p class="lq-eyebrow">"Virtual queue"</p>
                    <h1 class="lq-title">{text(page, |m| &m.title)}</h1>
                </div>
                <ConnectionIndicator page=page />
            </header>
            {part(page, |m| m.problem.is_some(), problem)}
            <button
                class="lq-retry"
                type="button"
                hidden=hidden_unless(page, |m| m.failed)
                on:click=move |_| feed.reconnect()
            >
                "Try again"
            </button>
            <p class="lq-loading" aria-busy="true" hidden=hidden_unless(page, |m| m.loading)>
                "Finding your place in line…"
            </p>
            {part(page, |m| m.in_line, |page| view! { <PositionCard page=page /> }.into_any())}
            {part(page, |m| m.admitted, |page| view! { <AdmissionPanel page=page /> }.into_any())}
            <StageBadge page=page />
            <StockMeter page=page />
            {debug.then(|| view! { <DebugPanel page=page /> })}
        </main>
    }
}

/// The problem notice: present only while there is a problem (an empty alert would still be
/// announced, and tests wait for its text).
fn problem(page: Page) -> AnyView {
    view! {
        <p class="lq-problem" role="alert">
            {text(page, |m| m.problem.unwrap_or_default())}
        </p>
    }
    .into_any()
}
