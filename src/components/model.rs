//! The page's view model: everything the widget shows, computed in one pure function from
//! the feed (tested natively). The page's one effect computes it whenever the feed changes;
//! the components' binding tables ([`super::bind`]) read its fields.

use livequeue_protocol::supervisor::{ConnectionStatus, TransportKind};
use livequeue_protocol::{AdmissionStatus, QueueState, Stage};

use crate::actions::{Actions, Notify, Step};
use crate::clock::ClockSkew;
use crate::feed::{Diagnostics, Heard, Presence, TabView};
use crate::format;
use crate::i18n;
use crate::odds::{self, Odds};
use crate::problem::Problem;
use crate::wait::WaitView;

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
    /// The connection's status in words: Live, Reconnecting…, Updating every 6 s, Offline…
    pub status_label: String,
    /// "Updated 12 s ago", once anything was heard and while the shopper holds a place.
    pub updated: String,
    /// Nothing was heard for longer than the transport's liveness window: the figures dim.
    pub stale: bool,
    /// The sentence of the problem keeping the widget from working.
    pub problem: Option<&'static str>,
    /// The feed gave up: the Reconnect button shows.
    pub failed: bool,
    /// Nothing known yet and nothing wrong: the loading line shows.
    pub loading: bool,
    /// No place held (never joined, or left): the join panel shows.
    pub outside: bool,
    /// The join panel's sentence.
    pub join_sentence: &'static str,
    /// The join button's label.
    pub join_label: &'static str,
    /// The shopper is in line (queued or paused): the position card shows.
    pub in_line: bool,
    /// It is the shopper's turn: the admission panel shows.
    pub admitted: bool,
    /// The stage badge's short name.
    pub stage_label: &'static str,
    /// What the stage means for the shopper, and what they can do.
    pub stage_sentence: &'static str,
    /// The place in line the number moves to (the page animates it).
    pub position_target: Option<u64>,
    /// The place in line as a sentence, for screen readers.
    pub spoken: String,
    /// The estimated wait in words.
    pub wait: String,
    /// The honest-odds sentence, when there is something to warn of.
    pub odds: Option<String>,
    /// The odds' key (`data-odds`): `close`, `may-not`, `unlikely`, `none-left`.
    pub odds_key: Option<&'static str>,
    /// The Leave button's label (Leaving… while it runs).
    pub leave_label: &'static str,
    /// The notification offer shows (the browser has notifications, not asked yet).
    pub notify_offer: bool,
    /// "We'll notify you…" once the shopper allowed notifications.
    pub notify_on: bool,
    /// The stock is known: the meter shows.
    pub stock_known: bool,
    /// Nothing left of a known stock: the meter reads Sold out.
    pub sold_out: bool,
    /// "38 of 500 left", or "Sold out".
    pub stock_text: String,
    /// The meter's `aria-valuenow`.
    pub value_now: String,
    /// The meter's `aria-valuemax`.
    pub value_max: String,
    /// The meter fill's `style`.
    pub fill_style: String,
    /// The checkout link, when the server gave a checkout URL.
    pub checkout: Option<String>,
    /// The countdown to the grant's expiry, when the server gave one.
    pub countdown: Option<String>,
    /// Little time is left: the warning (and, once per turn, "Need more time?") shows.
    pub hurry: bool,
    /// "Need more time?" is offered.
    pub extend_offer: bool,
    /// The extend button's label (Extending… while it runs).
    pub extend_label: &'static str,
    /// The Add to cart button shows (an active turn with a checkout).
    pub cart_offer: bool,
    /// The Add to cart button's label.
    pub cart_label: &'static str,
    /// "1 in your cart", once anything is in it.
    pub cart_text: String,
    /// The last refusal of an action, as a sentence.
    pub note: Option<&'static str>,
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
    /// The local clock (ms).
    pub now: f64,
    /// When the server was last heard from.
    pub heard: Heard,
    /// Whether the shopper holds a place.
    pub presence: Presence,
    /// The smoothed wait ([`crate::wait::WaitEstimate`]) at `now`.
    pub wait: WaitView,
    /// The shopper's actions.
    pub actions: &'a Actions,
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

/// The warning before a turn ends shows this long before (WCAG 2.2.1 asks for at least 20 s
/// to ask for more time; a minute leaves time to read and decide).
pub const HURRY_MS: u64 = 60_000;

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

/// The status in the shopper's words.
fn status_label(status: ConnectionStatus, heard: Heard) -> String {
    let t = i18n::t();
    match (status, heard.poll_every_ms) {
        (ConnectionStatus::Polling, Some(every)) => i18n::fill(
            t.status_polling_every,
            &[("n", &format::digits(every.div_ceil(1000)))],
        ),
        (ConnectionStatus::Polling, None) => t.status_polling.to_owned(),
        (ConnectionStatus::Connecting, _) => t.status_connecting.to_owned(),
        (ConnectionStatus::Live, _) => t.status_live.to_owned(),
        (ConnectionStatus::Reconnecting, _) => t.status_reconnecting.to_owned(),
        (ConnectionStatus::Offline, _) => t.status_offline.to_owned(),
        (ConnectionStatus::Failed, _) => t.status_failed.to_owned(),
    }
}

impl Model {
    /// Everything the page shows for `inputs`.
    pub fn of(inputs: &Inputs<'_>) -> Self {
        let t = i18n::t();
        let state = inputs.state;
        let actions = inputs.actions;
        let stage = state.and_then(|s| s.stage);
        let stuck = matches!(
            inputs.status,
            ConnectionStatus::Failed | ConnectionStatus::Offline
        );
        let outside = inputs.presence != Presence::Holding;
        // A server may send an empty name: the default title then stands.
        let name = state
            .map(|s| s.experience.name.trim())
            .filter(|n| !n.is_empty());
        let title = match (name, state.is_some()) {
            (Some(name), _) => name,
            (None, true) => t.place_label,
            (None, false) if inputs.presence == Presence::Left => t.title_left,
            (None, false) if outside => t.title_join,
            (None, false) if stuck => t.title_unreachable,
            (None, false) => t.title_joining,
        };
        let position = state.and_then(|s| s.position).filter(|&p| p > 0);
        let in_line = matches!(stage, Some(Stage::Queued | Stage::Paused));
        let since = inputs.now - inputs.heard.at;
        // Only a place the page shows can be "updated": not a refusal before any state.
        let heard = inputs.heard.at > 0.0 && !outside && state.is_some();
        let mut model = Model {
            experience_id: state.map(|s| s.experience_id.clone()),
            stage: stage.map(Stage::as_str),
            title: title.to_owned(),
            status_key: if outside {
                "idle"
            } else {
                status_key(inputs.status)
            },
            status_label: if outside {
                String::new()
            } else {
                status_label(inputs.status, inputs.heard)
            },
            updated: if heard {
                format::updated_ago(since)
            } else {
                String::new()
            },
            stale: heard && since > inputs.heard.window_ms as f64,
            problem: inputs.problem.map(Problem::sentence),
            failed: inputs.status == ConnectionStatus::Failed && !outside,
            // A problem notice replaces the loading line: it says why nothing is coming.
            loading: stage.is_none() && inputs.problem.is_none() && !outside,
            outside,
            join_sentence: if inputs.presence == Presence::Left {
                t.join_sentence_left
            } else {
                t.join_sentence
            },
            join_label: if inputs.presence == Presence::Left {
                t.join_again
            } else {
                t.join
            },
            in_line,
            // A server written from the guide may say `admitted` without an admission: the
            // panel then shows the turn without a link or countdown it cannot stand behind.
            admitted: stage == Some(Stage::Admitted),
            stage_label: stage.map_or("", format::stage_label),
            stage_sentence: stage.map_or("", format::stage_sentence),
            position_target: position.filter(|_| in_line),
            spoken: match position {
                Some(1) => t.next.to_owned(),
                Some(n) => i18n::fill(t.place, &[("n", &format::grouped(n))]),
                None => t.finding.to_owned(),
            },
            wait: format::wait_words(inputs.wait),
            leave_label: if actions.leave == Step::Pending {
                t.leaving
            } else {
                t.leave
            },
            notify_offer: in_line && actions.notify == Notify::Offer,
            notify_on: in_line && actions.notify == Notify::On,
            stock_known: state.is_some_and(|s| s.stock.total > 0 || s.stock.available > 0),
            extend_label: if actions.extend == Step::Pending {
                t.extending
            } else {
                t.extend
            },
            cart_label: t.add,
            note: actions.note,
            ..Model::default()
        };
        if let Some(stock) = state.map(|s| s.stock) {
            // The server never reports more available than total, but a meter must stay in
            // range.
            let total = stock.total.max(stock.available);
            model.sold_out = total > 0 && stock.available == 0;
            model.stock_text = if model.sold_out {
                t.sold_out.to_owned()
            } else {
                i18n::fill(
                    t.stock_left,
                    &[
                        ("left", &format::grouped(stock.available)),
                        ("total", &format::grouped(total)),
                    ],
                )
            };
            model.value_now = format::digits(stock.available);
            model.value_max = format::digits(total);
            model.fill_style =
                format::concat(&["width: ", &format::percent(stock.available, total)]);
            if in_line && stage == Some(Stage::Queued) {
                let odds = odds::odds(position, stock.available, stock.total);
                model.odds = odds.and_then(format::odds_sentence);
                model.odds_key = odds.and_then(|o| match o {
                    Odds::Good => None,
                    Odds::Close { .. } => Some("close"),
                    Odds::MayNot { .. } => Some("may-not"),
                    Odds::Unlikely { .. } => Some("unlikely"),
                    Odds::NoneLeft => Some("none-left"),
                });
            }
        }
        if let Some(admission) = state
            .and_then(|s| s.admission.as_ref())
            .filter(|_| model.admitted)
        {
            model.checkout = (!admission.checkout_url.is_empty())
                .then(|| format::checkout_href(&admission.checkout_url, &admission.grant));
            let active = admission.status == AdmissionStatus::Active;
            let left = admission
                .expires_at
                .map(|deadline| inputs.skew.remaining_ms(deadline, inputs.now));
            model.countdown = left.map(format::countdown);
            model.hurry = active && left.is_some_and(|ms| ms < HURRY_MS);
            model.extend_offer = model.hurry && actions.extend != Step::Done;
            model.cart_offer = active && model.checkout.is_some();
            model.cart_label = if actions.cart.pending > 0 {
                t.adding
            } else if actions.cart.confirmed.max(admission.reserved) > 0 {
                t.add_another
            } else {
                t.add
            };
            // The server's cart (every tab, a reload) and this page's adds still on their way.
            let units = actions.cart.confirmed.max(admission.reserved) + actions.cart.pending;
            if units > 0 {
                model.cart_text = i18n::fill(t.in_cart, &[("n", &format::grouped(units))]);
            }
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
        status.label().to_owned(),
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
        tab_row(d.tab),
    ]
}

/// This tab's role and the tab that leads (`follower · leader 12`, `leader · leader 12`
/// for itself); only the role when no tab is known to lead (`idle`, `alone`, `away`).
fn tab_row(tab: TabView) -> String {
    let role = tab.role.as_str();
    match tab.leader {
        Some(id) => format::concat(&[role, " · leader ", &format::digits(id)]),
        None => role.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    const STATE: &str = r#"{"experienceId":"demo-drop","consumerId":"c_1","position":1280,"estimatedWaitSeconds":96,"stage":"queued","stock":{"available":312,"total":500},"experience":{"name":"Demo drop","status":"open"},"admission":null,"cursor":{"epoch":17,"seq":42},"serverTime":1795820460123}"#;

    const NO_ACTIONS: &Actions = &Actions {
        leave: Step::Idle,
        extend: Step::Idle,
        cart: crate::actions::Cart {
            confirmed: 0,
            pending: 0,
        },
        notify: Notify::Unavailable,
        note: None,
    };

    fn inputs(state: Option<&QueueState>) -> Inputs<'_> {
        Inputs {
            state,
            status: ConnectionStatus::Live,
            problem: None,
            skew: ClockSkew::default(),
            now: 0.0,
            heard: Heard::default(),
            presence: Presence::Holding,
            wait: WaitView::About(96),
            actions: NO_ACTIONS,
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
        assert_eq!(model.position_target, Some(1280));
        assert_eq!(model.spoken, "You are number 1,280 in line");
        assert_eq!(model.wait, "About 2 minutes");
        assert_eq!(model.stock_text, "312 of 500 left");
        assert_eq!(model.fill_style, "width: 62.4%");
        assert_eq!(
            model.odds.as_deref(),
            Some(
                "1,279 people ahead of you, only 312 left: you are unlikely to get one. Some ahead may drop out, so your place stays."
            ),
        );
        assert_eq!(model.odds_key, Some("unlikely"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn silence_longer_than_the_liveness_window_dims_the_figures() {
        let state: QueueState = livequeue_protocol::json::from_str(STATE).unwrap();
        let heard = Heard {
            at: 1_000.0,
            window_ms: 45_000,
            poll_every_ms: None,
        };
        let fresh = Model::of(&Inputs {
            now: 13_500.0,
            heard,
            ..inputs(Some(&state))
        });
        assert_eq!(fresh.updated, "Updated 12 s ago");
        assert!(!fresh.stale);
        let old = Model::of(&Inputs {
            now: 47_000.0,
            heard,
            ..inputs(Some(&state))
        });
        assert!(old.stale, "46 s without a word on a 45 s window");
        let polling = Model::of(&Inputs {
            status: ConnectionStatus::Polling,
            heard: Heard {
                poll_every_ms: Some(6_000),
                ..heard
            },
            ..inputs(Some(&state))
        });
        assert_eq!(polling.status_label, "Updating every 6 s");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_turn_warns_a_minute_before_it_ends_and_offers_more_time_once() {
        let admitted = STATE
            .replace(r#""stage":"queued""#, r#""stage":"admitted""#)
            .replace(
                r#""admission":null"#,
                r#""admission":{"grant":"g_1","expiresAt":100000,"checkoutUrl":"https://shop.example/c","status":"active"}"#,
            );
        let state: QueueState = livequeue_protocol::json::from_str(&admitted).unwrap();
        let early = Model::of(&Inputs {
            now: 10_000.0,
            ..inputs(Some(&state))
        });
        assert!(early.admitted && early.cart_offer && !early.hurry && !early.extend_offer);
        assert_eq!(early.countdown.as_deref(), Some("1:30"));
        let late = Model::of(&Inputs {
            now: 45_000.0,
            ..inputs(Some(&state))
        });
        assert!(late.hurry && late.extend_offer);
        let extended = Actions {
            extend: Step::Done,
            ..Actions::default()
        };
        let after = Model::of(&Inputs {
            now: 45_000.0,
            actions: &extended,
            ..inputs(Some(&state))
        });
        assert!(after.hurry && !after.extend_offer, "once per turn");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn sold_out_is_its_own_state_and_unknown_stock_is_not_sold_out() {
        let gone = STATE
            .replace(r#""available":312"#, r#""available":0"#)
            .replace(r#""stage":"queued""#, r#""stage":"sold_out""#);
        let state: QueueState = livequeue_protocol::json::from_str(&gone).unwrap();
        let model = Model::of(&inputs(Some(&state)));
        assert!(model.sold_out && model.stock_known);
        assert_eq!(model.stock_text, "Sold out");
        assert_eq!(model.stage, Some("sold_out"));
        let unknown = STATE.replace(r#""stock":{"available":312,"total":500},"#, "");
        let state: QueueState = livequeue_protocol::json::from_str(&unknown).unwrap();
        let model = Model::of(&inputs(Some(&state)));
        assert!(!model.sold_out && !model.stock_known && model.odds.is_none());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_visitor_without_a_place_is_offered_to_join() {
        let model = Model::of(&Inputs {
            presence: Presence::Outside,
            ..inputs(None)
        });
        assert!(model.outside && !model.loading);
        assert_eq!(model.title, "Join the line");
        assert_eq!(model.join_label, "Join the line");
        let left = Model::of(&Inputs {
            presence: Presence::Left,
            ..inputs(None)
        });
        assert_eq!(left.join_label, "Join again");
        assert_eq!(left.title, "You left the line");
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
        assert_eq!(stuck.status_label, "Connection lost");
    }
}
