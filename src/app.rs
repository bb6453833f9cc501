//! The widget's page: the header, the part that fits the shopper's stage, and the stock.

use leptos::prelude::*;
use livequeue_protocol::supervisor::ConnectionStatus;
use livequeue_protocol::{Stage, Stock};

use crate::components::{
    AdmissionPanel, ConnectionIndicator, DebugPanel, PositionCard, StageBadge, StockMeter,
};
use crate::config::WidgetConfig;
use crate::feed::use_queue_feed;
use crate::format;

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
    let state = feed.state;

    // Each part reads only its own slice, so a position update does not redraw the stock.
    let experience_id =
        Memo::new(move |_| state.with(|s| s.as_ref().map(|s| s.experience_id.clone())));
    // A server may send an empty name: the default title then stands.
    let name = Memo::new(move |_| {
        state.with(|s| {
            s.as_ref()
                .map(|s| s.experience.name.trim())
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
        })
    });
    let has_state = Memo::new(move |_| state.with(Option::is_some));
    let stage = Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.stage)));
    let position = Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.position)));
    let wait =
        Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.estimated_wait_seconds)));
    let stock = Memo::new(move |_| state.with(|s| s.as_ref().map(|s| s.stock)));
    let admission =
        Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.admission.clone())));

    let stock_known = Memo::new(move |_| stock.with(Option::is_some));
    let stock_or_none = Signal::derive(move || stock.get().unwrap_or(NO_STOCK));

    let body = move || match stage.get() {
        // A problem notice replaces the loading line: it says why nothing is coming.
        None if feed.problem.with(Option::is_some) => ().into_any(),
        None => view! {
            <p class="lq-loading" aria-busy="true">"Finding your place in line…"</p>
        }
        .into_any(),
        Some(Stage::Queued | Stage::Paused) => {
            view! { <PositionCard position=position wait_seconds=wait /> }.into_any()
        }
        Some(Stage::Admitted) => {
            // A server written from the guide may say `admitted` without an admission: the
            // panel then shows the turn without a link or countdown it cannot stand behind.
            view! { <AdmissionPanel admission=admission skew=feed.skew /> }.into_any()
        }
        Some(_) => ().into_any(),
    };

    view! {
        <main
            class="lq-widget"
            data-experience-id=move || experience_id.get()
            data-stage=move || stage.get().map(Stage::as_str)
        >
            <header class="lq-header">
                <div class="lq-heading">
                    <p class="lq-eyebrow">"Virtual queue"</p>
                    <h1 class="lq-title">
                        {move || name.get().unwrap_or_else(|| {
                            let stuck = matches!(
                                feed.status.get(),
                                ConnectionStatus::Failed | ConnectionStatus::Offline
                            );
                            if has_state.get() {
                                DEFAULT_TITLE
                            } else if stuck {
                                "Queue not reachable"
                            } else {
                                "Joining the queue…"
                            }
                            .to_owned()
                        })}
                    </h1>
                </div>
                <ConnectionIndicator status=feed.status />
            </header>
            {move || {
                feed.problem.get().map(|problem| view! { <p class="lq-problem" role="alert">{problem.to_string()}</p> })
            }}
            {move || (feed.status.get() == ConnectionStatus::Failed).then(|| view! {
                <button class="lq-retry" type="button" on:click=move |_| feed.reconnect()>
                    "Try again"
                </button>
            })}
            {body}
            {move || stage.get().map(|stage| view! {
                <div class="lq-stage-row">
                    <StageBadge stage=Signal::derive(move || stage) />
                    <p class="lq-sentence">{format::stage_sentence(stage)}</p>
                </div>
            })}
            {move || stock_known.get().then(|| view! { <StockMeter stock=stock_or_none /> })}
            {debug.then(|| view! {
                <DebugPanel
                    transport=feed.transport
                    status=Signal::derive(move || feed.status.get().to_string())
                    cursor=Signal::derive(move || state.with(|s| s.as_ref().map(|s| s.cursor)))
                    diagnostics=feed.diagnostics
                />
            })}
        </main>
    }
}

/// The title when the server names the experience with an empty name.
const DEFAULT_TITLE: &str = "Your place in line";

/// Shown only before the first state, when the meter is hidden anyway.
const NO_STOCK: Stock = Stock {
    available: 0,
    total: 0,
};
