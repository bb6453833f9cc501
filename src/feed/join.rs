//! Joining the queue, as I/O: the join request, sent when the protocol's `FeedMachine` asks
//! for it (at once, or after a backoff delay). What a failed join means for the shopper is
//! [`crate::problem::Problem::of_join`]; whether to try again is the machine's.

use std::time::Duration;

use livequeue_protocol::api::JoinResponse;

use crate::api::{self, ApiError};
use crate::config::WidgetConfig;
use crate::timer::Timeout;

/// What the join answered.
pub(super) type JoinResult = Result<JoinResponse, ApiError>;

/// The join's pending delay.
#[derive(Default)]
pub(super) struct Joiner {
    /// Fires when a delayed join is due; replacing it cancels the earlier one.
    timer: Option<Timeout>,
}

impl Joiner {
    /// Joins after `after_ms` (at once for 0); the answer goes to `done`.
    pub(super) fn schedule(
        &mut self,
        config: &WidgetConfig,
        after_ms: u64,
        done: impl FnOnce(JoinResult) + 'static,
    ) {
        let config = config.clone();
        let send = move || {
            leptos::task::spawn_local(async move { done(api::join(&config).await) });
        };
        if after_ms == 0 {
            self.timer = None;
            send();
        } else {
            self.timer = Some(Timeout::new(Duration::from_millis(after_ms), send));
        }
    }

    /// Cancels a delayed join.
    pub(super) fn cancel(&mut self) {
        self.timer = None;
    }
}
