//! The page's view model: everything the widget shows, computed in one pure function from
//! the feed (tested natively). The page's one effect computes it whenever the feed changes;
//! the components' binding tables ([`super::bind`]) read its fields.

use livequeue_protocol::supervisor::{ConnectionStatus, TransportKind};
use livequeue_protocol::{QueueState, Stage};

use crate::clock::ClockSkew;
use crate::feed::Diagnostics;
use crate::format;
use crate::problem::Problem;

/// What the page shows, as text and flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// `data-experience-id` of the page, once a state arrived.
    pub experience_id: Option<String>,
    /// The stage's wire name (`data-stage`), once known.
    pub stage: Option<&'static str>,
    /// The heading.
    pub title: String,
    /// The connection's status as a stable key (`data-status`).
    pub status_key: &'static str,
    /// The connection's status in words (the protocol's `Display`).
    pub status_label: String,
    /// The sentence of the problem keeping the widget from working.
    pub problem: Option<&'static str>,
    /// The feed gave up: the retry button shows.
    pub failed: bool,
    /// Nothing known yet and nothing wrong: the loading line shows.
    pub loading: bool,
    /// The shopper is in line (queued or paused): the position card shows.
    pub in_line: bool,
    /// It is the shopper's turn: the admission panel shows.
    pub admitted: bool,
    /// The stage badge's short name.
    pub stage_label: &'static str,
    /// What the stage means for the shopper.
    pub stage_sentence: &'static str,
    /// The place in line, grouped (`1,234`), or a dash.
    pub position: String,
    /// The place in line as a sentence, for screen readers.
    pub spoken: String,
    /// The estimated wait in words.
    pub wait: String,
    /// The stock is known: the meter shows.
    pub stock_known: bool,
    /// Remaining stock, grouped.
    pub available: String,
    /// Total stock (never under the remaining), grouped.
    pub total: String,
    /// The meter's `aria-valuenow`.
    pub value_now: String,
    /// The meter's `aria-valuemax`.
    pub value_max: String,
    /// The meter's `aria-valuetext`.
    pub value_text: String,
    /// The meter fill's `style`.
    pub fill_style: String,
    /// The checkout link, when the server gave a checkout URL.
    pub checkout: Option<String>,
    /// The countdown to the grant's expiry, when the server gave one.
    pub countdown: Option<String>,
    /// The `?debug=1` panel's values, in its rows' order (empty without the panel).
    pub debug: Vec<String>,
}

/// What the model is computed from.
pub struct Inputs<'a> {
    /// The shopper's state, once known.
    pub state: Option<&'a QueueState>,
    /// The connection's status.
    pub status: ConnectionStatus,
    /// What keeps the widget from working.
    pub problem: Option<&'a Problem>,
    /// Offset of the server's clock.
    pub skew: ClockSkew,
    /// The local clock (ms), read only while a countdown runs.
    pub now: &'a dyn Fn() -> f64,
    /// The debug panel's inputs, when it is shown.
    pub debug: Option<DebugInputs>,
}

/// What the `?debug=1` panel shows besides the state.
pub struct DebugInputs {
    /// The transport in use.
    pub transport: Option<TransportKind>,
    /// The feed's counters.
    pub diagnostics: Diagnostics,
    /// Live resources: `(connections, listeners, timers, frames)`.
    pub live: (u32, u32, u32, u32),
}

/// The title when the server names the experience with an empty name.
const DEFAULT_TITLE: &str = "Your place in line";

/// A stable lowercase name of a status, used as `data-status` (and CSS hook).
pub fn status_key(status: ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Connecting => "connecting",
        ConnectionStatus::Live => "live",
        ConnectionStatus::Reconnecting => "reconnecting",
        ConnectionStatus::Polling => "polling",
        ConnectionStatus::Offline => "offline",
        ConnectionStatus::Failed => "failed",
    }
}

impl Model {
    /// Everything the page shows for `inputs`.
    pub fn of(inputs: &Inputs<'_>) -> Self {
        let state = inputs.state;
        let stage = state.and_then(|s| s.stage);
        let stuck = matches!(
            inputs.status,
            ConnectionStatus::Failed | ConnectionStatus::Offline
        );
        // A server may send an empty name: the default title then stands.
        let name = state
            .map(|s| s.experience.name.trim())
            .filter(|n| !n.is_empty());
        let title = match (name, state.is_some()) {
            (Some(name), _) => name,
            (None, true) => DEFAULT_TITLE,
            (None, false) if stuck => "Queue not reachable",
            (None, false) => "Joining the queue…",
        };
        let position = state.and_then(|s| s.position);
        let mut model = Model {
            experience_id: state.map(|s| s.experience_id.clone()),
            stage: stage.map(Stage::as_str),
            title: title.to_owned(),
            status_key: status_key(inputs.status),
            status_label: inputs.status.to_string(),
            problem: inputs.problem.map(Problem::sentence),
            failed: inputs.status == ConnectionStatus::Failed,
            // A problem notice replaces the loading line: it says why nothing is coming.
            loading: stage.is_none() && inputs.problem.is_none(),
            in_line: matches!(stage, Some(Stage::Queued | Stage::Paused)),
            // A server written from the guide may say `admitted` without an admission: the
            // panel then shows the turn without a link or countdown it cannot stand behind.
            admitted: stage == Some(Stage::Admitted),
            stage_label: stage.map_or("", format::stage_label),
            stage_sentence: stage.map_or("", format::stage_sentence),
            position: position.map_or_else(|| "–".to_owned(), format::grouped),
            spoken: match position {
                Some(1) => "You're next in line".to_owned(),
                Some(n) => format::concat(&["You are number ", &format::grouped(n), " in line"]),
                None => "Finding your place in line".to_owned(),
            },
            wait: format::wait(state.and_then(|s| s.estimated_wait_seconds)),
            stock_known: state.is_some(),
            ..Model::default()
        };
        if let Some(stock) = state.map(|s| s.stock) {
            // The server never reports more available than total, but a meter must stay in
            // range.
            let total = stock.total.max(stock.available);
            let (available_digits, total_digits) =
                (format::digits(stock.available), format::digits(total));
            model.value_text = format::concat(&[&available_digits, " of ", &total_digits, " left"]);
            model.value_now = available_digits;
            model.value_max = total_digits;
            model.available = format::grouped(stock.available);
            model.total = format::grouped(total);
            model.fill_style =
                format::concat(&["width: ", &format::percent(stock.available, total)]);
        }
        if let Some(admission) = state
            .and_then(|s| s.admission.as_ref())
            .filter(|_| model.admitted)
        {
            model.checkout = (!admission.checkout_url.is_empty())
                .then(|| format::checkout_href(&admission.checkout_url, &admission.grant));
            model.countdown = admission.expires_at.map(|deadline| {
                format::countdown(inputs.skew.remaining_ms(deadline, (inputs.now)()))
            });
        }
        if let Some(debug) = &inputs.debug {
            model.debug = debug_rows(debug, inputs.status, state);
        }
        model
    }
}

/// The debug panel's values, in the order of `components::debug_panel::ROWS`.
fn debug_rows(
    debug: &DebugInputs,
    status: ConnectionStatus,
    state: Option<&QueueState>,
) -> Vec<String> {
    let d = &debug.diagnostics;
    let count = |n: u32| format::digits(u64::from(n));
    let cursor = state.map_or_else(String::new, |s| {
        let mut out = format::digits(s.cursor.epoch);
        out.push(':');
        format::push_digits(&mut out, s.cursor.seq);
        out
    });
    let (connections, listeners, timers, frames) = debug.live;
    let live = format::concat(&[
        &count(connections),
        " conn · ",
        &count(listeners),
        " listeners · ",
        &count(timers),
        " timers · ",
        &count(frames),
        " frames",
    ]);
    vec![
        debug
            .transport
            .map_or("none", TransportKind::as_str)
            .to_owned(),
        status.to_string(),
        count(d.attempts),
        count(d.opens),
        cursor,
        count(d.messages),
        count(d.renders),
        count(d.stale),
        count(d.malformed),
        count(d.resyncs),
        count(d.not_modified),
        live,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    const STATE: &str = r#"{"experienceId":"demo-drop","consumerId":"c_1","position":1280,"estimatedWaitSeconds":96,"stage":"queued","stock":{"available":312,"total":500},"experience":{"name":"Demo drop","status":"open"},"admission":null,"cursor":{"epoch":17,"seq":42},"serverTime":1795820460123}"#;

    fn inputs(state: Option<&QueueState>) -> Inputs<'_> {
        Inputs {
            state,
            status: ConnectionStatus::Live,
            problem: None,
            skew: ClockSkew::default(),
            now: &|| 0.0,
            debug: None,
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_queued_state_shows_the_place_the_wait_and_the_stock() {
        let state: QueueState = livequeue_protocol::json::from_str(STATE).unwrap();
        let model = Model::of(&inputs(Some(&state)));
        assert_eq!(model.title, "Demo drop");
        assert_eq!(model.stage, Some("queued"));
        assert!(model.in_line && !model.admitted && !model.loading);
        assert_eq!(model.position, "1,280");
        assert_eq!(model.spoken, "You are number 1,280 in line");
        assert_eq!(model.wait, "About 1 minute");
        assert_eq!(model.value_text, "312 of 500 left");
        assert_eq!(model.fill_style, "width: 62.4%");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn before_any_state_the_page_is_loading_unless_something_is_wrong() {
        let model = Model::of(&inputs(None));
        assert!(model.loading && !model.stock_known);
        assert_eq!(model.title, "Joining the queue…");
        let problem = Problem::ConnectionLost;
        let stuck = Model::of(&Inputs {
            status: ConnectionStatus::Failed,
            problem: Some(&problem),
            ..inputs(None)
        });
        assert!(!stuck.loading && stuck.failed);
        assert_eq!(stuck.title, "Queue not reachable");
        assert_eq!(stuck.status_label, "Disconnected");
    }
}
