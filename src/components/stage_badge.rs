//! The badge naming the shopper's stage.

use leptos::prelude::*;
use livequeue_protocol::Stage;

use crate::format;

/// A pill with the stage's short name; `data-stage` carries the wire name for styling.
#[component]
pub fn StageBadge(
    /// The shopper's stage.
    #[prop(into)]
    stage: Signal<Stage>,
) -> impl IntoView {
    let wire_name = move || stage.get().as_str();
    view! {
        <span class="lq-stage" data-stage=wire_name>
            {move || format::stage_label(stage.get())}
        </span>
    }
}
