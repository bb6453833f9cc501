//! The two probes of the feed, as I/O: the upgrade probe (its timer, and the preferred
//! transport opened beside the feed's) and the refusal check of an `EventSource` the browser
//! closed. When to probe and what a probe's answer means is the protocol's `FeedMachine`.

use std::time::Duration;

use livequeue_protocol::http_status;
use livequeue_protocol::supervisor::Failure;

use super::link::Link;
use crate::timer::Timeout;
use crate::{api, fetch};

/// The upgrade probe's resources.
#[derive(Default)]
pub(super) struct UpgradeProbe {
    /// Fires when the probe is due (the machine's `Probe { after_ms }`).
    timer: Option<Timeout>,
    /// The preferred transport, open beside the feed's until it delivers or fails.
    link: Option<Link>,
}

impl UpgradeProbe {
    /// Sets the timer: `due` runs after `after_ms`.
    pub(super) fn arm(&mut self, after_ms: u64, due: impl FnOnce() + 'static) {
        self.timer = Some(Timeout::new(Duration::from_millis(after_ms), due));
    }

    /// Drops the timer that just fired (its `Tracked` guard would count it as alive).
    pub(super) fn disarm(&mut self) {
        self.timer = None;
    }

    /// Holds the opened probe (its timer has fired).
    pub(super) fn hold(&mut self, link: Link) {
        self.timer = None;
        self.link = Some(link);
    }

    /// Whether events of `generation` are the probe's.
    pub(super) fn is(&self, generation: u32) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.generation == generation)
    }

    /// The probe, to become the feed's transport.
    pub(super) fn take(&mut self) -> Option<Link> {
        self.timer = None;
        self.link.take()
    }

    /// Closes the probe and its timer.
    pub(super) fn clear(&mut self) {
        self.timer = None;
        self.link = None;
    }
}

/// A browser closes an `EventSource` for good on an error status without saying which: one
/// plain request to the polling endpoint (`url`) tells a refusal (bad or expired
/// credentials, no such experience: permanent) from a server that is down or busy
/// (transient). The verdict goes to `report`.
pub(super) fn ask_why_closed(url: String, report: impl FnOnce(Failure) + 'static) {
    leptos::task::spawn_local(async move {
        let failure = match fetch::send("GET", &url, None, None, None).await {
            Ok(answer) if http_status::is_error(answer.status) => api::failure_of(&answer),
            _ => Failure::TRANSIENT,
        };
        report(failure);
    });
}
