//! The shopper's actions beside watching: leave the line (or, after a turn ran out, join it
//! again), ask for more time, add to cart, be notified. [`Actions`] is what the page shows of them (pure data, its transitions tested
//! natively); [`run`] performs one against the server and records how it went.
//!
//! Adding to cart is optimistic (the guide's step 5): the unit shows in the cart at once and
//! is taken back, with a sentence, if the server refuses. Every add carries its own
//! idempotency key and a retry after a network error sends the same key, so a request that
//! reached the server before the connection broke is never a second reservation.

use leptos::prelude::*;
use livequeue_protocol::ErrorCode;

use crate::api::{self, ApiError};
use crate::config::WidgetConfig;
use crate::feed::QueueFeed;

/// How a one-shot action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Step {
    /// Not asked for (or may be asked again).
    #[default]
    Idle,
    /// Sent; the answer is awaited.
    Pending,
    /// The server agreed.
    Done,
}

/// The shopper's cart during the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cart {
    /// Units the server confirmed.
    pub confirmed: u64,
    /// Units added on screen whose answer is awaited.
    pub pending: u64,
}

impl Cart {
    /// The units shown: confirmed and pending alike (optimistic).
    pub fn shown(&self) -> u64 {
        self.confirmed + self.pending
    }

    /// An add is sent: it shows at once.
    pub fn add(&mut self) {
        self.pending += 1;
    }

    /// The server answered an add: `Some(reserved)` confirms (the answer is the grant's total),
    /// `None` takes the unit back.
    pub fn settle(&mut self, reserved: Option<u64>) {
        self.pending = self.pending.saturating_sub(1);
        if let Some(reserved) = reserved {
            self.confirmed = self.confirmed.max(reserved);
        }
    }
}

/// Whether the browser's notifications can tell the shopper of their turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Notify {
    /// No Notification API (or not allowed in this frame).
    #[default]
    Unavailable,
    /// Available, not asked yet: the page offers it.
    Offer,
    /// The shopper allowed it.
    On,
    /// The shopper (or the browser) refused: not offered again.
    Off,
}

/// What the page shows of the shopper's actions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actions {
    /// Leave the line.
    pub leave: Step,
    /// More time for the turn (once per turn).
    pub extend: Step,
    /// The cart of the turn.
    pub cart: Cart,
    /// Browser notifications.
    pub notify: Notify,
    /// The last refusal or failure, as a sentence for the shopper (cleared by the next action).
    pub note: Option<&'static str>,
}

/// One action the shopper asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the line.
    Leave,
    /// Give an ended turn up and join again, at the back of the line.
    Rejoin,
    /// More time.
    Extend,
    /// One more unit in the cart.
    AddToCart,
}

/// Sends of an add to cart after the first, when no answer came (same key each time).
const ADD_RETRIES: u32 = 2;

/// The sentence for an action the server refused (or never answered).
pub fn refusal(action: Action, error: &ApiError) -> &'static str {
    let t = crate::i18n::t();
    let network = matches!(error, ApiError::Network(_));
    match (action, error.code()) {
        _ if network => t.action_network,
        (_, Some(ErrorCode::Gone)) => t.action_gone,
        (Action::Extend, Some(ErrorCode::Conflict)) => t.action_extended_once,
        (Action::AddToCart, Some(ErrorCode::Conflict)) => t.action_cart_full,
        (Action::Leave | Action::Rejoin, _) => t.action_leave_failed,
        _ => t.action_failed,
    }
}

/// A fresh idempotency key: 16 random hex digits.
fn new_key() -> String {
    let mut key = String::from("lq-");
    for _ in 0..16 {
        let digit = (js_sys::Math::random() * 16.0) as u32;
        key.push(char::from_digit(digit.min(15), 16).unwrap_or('0'));
    }
    key
}

/// Performs `action` for the shopper of `feed`, recording its course in `actions`.
pub fn run(action: Action, config: &WidgetConfig, feed: QueueFeed, actions: RwSignal<Actions>) {
    let Some(credentials) = feed.credentials() else {
        return;
    };
    let busy = actions.with_untracked(|a| match action {
        Action::Leave | Action::Rejoin => a.leave == Step::Pending,
        Action::Extend => a.extend != Step::Idle,
        Action::AddToCart => false,
    });
    if busy {
        return;
    }
    actions.update(|a| {
        a.note = None;
        match action {
            Action::Leave | Action::Rejoin => a.leave = Step::Pending,
            Action::Extend => a.extend = Step::Pending,
            Action::AddToCart => a.cart.add(),
        }
    });
    let config = config.clone();
    leptos::task::spawn_local(async move {
        let failed = match action {
            Action::Leave | Action::Rejoin => match api::leave(&config, &credentials).await {
                Ok(()) => {
                    actions.set(Actions {
                        notify: actions.with_untracked(|a| a.notify),
                        ..Actions::default()
                    });
                    feed.left();
                    if action == Action::Rejoin {
                        feed.join();
                    }
                    None
                }
                Err(error) => {
                    actions.update(|a| a.leave = Step::Idle);
                    Some(error)
                }
            },
            Action::Extend => {
                let answer = api::extend(&config, &credentials).await;
                // Refused for good (extended already, turn over) stays done: not offered again.
                let retry = matches!(answer, Err(ApiError::Network(_)));
                actions.update(|a| a.extend = if retry { Step::Idle } else { Step::Done });
                answer.err()
            }
            Action::AddToCart => {
                let key = new_key();
                let mut answer = api::reserve(&config, &credentials, &key, 1).await;
                let mut retries = 0;
                while matches!(answer, Err(ApiError::Network(_))) && retries < ADD_RETRIES {
                    retries += 1;
                    answer = api::reserve(&config, &credentials, &key, 1).await;
                }
                actions.update(|a| a.cart.settle(answer.as_ref().ok().copied()));
                answer.err()
            }
        };
        if let Some(error) = failed {
            crate::log::warn2("livequeue: action refused: ", &error.detail());
            actions.update(|a| a.note = Some(refusal(action, &error)));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_add_shows_at_once_and_a_refusal_takes_it_back() {
        let mut cart = Cart::default();
        cart.add();
        assert_eq!(cart.shown(), 1, "optimistic");
        cart.settle(Some(1));
        assert_eq!((cart.confirmed, cart.pending), (1, 0));
        cart.add();
        assert_eq!(cart.shown(), 2);
        cart.settle(None);
        assert_eq!(cart.shown(), 1, "rolled back to what the server holds");
    }

    #[test]
    fn answers_arriving_out_of_order_never_lower_the_cart() {
        let mut cart = Cart::default();
        cart.add();
        cart.add();
        cart.settle(Some(2));
        cart.settle(Some(1));
        assert_eq!(cart.shown(), 2);
    }

    #[test]
    fn refusals_read_as_what_the_shopper_can_do() {
        let refused = |code: ErrorCode| ApiError::Status {
            status: code.http_status(),
            code,
            message: String::new(),
        };
        assert_eq!(
            refusal(Action::Extend, &refused(ErrorCode::Conflict)),
            "Your time can only be extended once."
        );
        assert_eq!(
            refusal(Action::AddToCart, &refused(ErrorCode::Gone)),
            "Your turn has ended."
        );
        assert!(refusal(Action::Leave, &ApiError::Network("down".into())).contains("connection"));
    }
}
