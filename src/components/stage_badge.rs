//! The badge naming the shopper's stage, with the sentence saying what it means.

use leptos::prelude::*;

use super::model::{Page, attr, hidden_unless, text};

/// A pill with the stage's short name (`data-stage` carries the wire name for styling) and
/// the stage's sentence; hidden until the stage is known.
#[component]
pub fn StageBadge(
    /// The page's model and clock.
    page: Page,
) -> impl IntoView {
    view! {
        <div class="lq-stage-row" hidden=hidden_unless(page, |m| m.stage.is_some())>
            <span class="lq-stage" data-stage=attr(page, |m| m.stage)>
                {text(page, |m| m.stage_label)}
            </span>
            <p class="lq-sentence">{text(page, |m| m.stage_sentence)}</p>
        </div>
    }
}
