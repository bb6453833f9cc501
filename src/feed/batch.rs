//! Batching, as I/O: the animation frame and fallback timer of a pending flush, and applying
//! a batch of messages to the feed's signals with one update. Which messages wait for which
//! flush is the protocol's `FeedMachine`.

use std::time::Duration;

use leptos::prelude::*;
use livequeue_protocol::Resync;
use livequeue_protocol::reducer::FeedMessage;

use super::FeedSignals;
use crate::clock::{self, ClockSkew};
use crate::timer::{Frame, Timeout};

/// The timers of a pending flush.
#[derive(Default)]
pub(super) struct Flush {
    /// The next animation frame: a batch costs one render.
    frame: Option<Frame>,
    /// A hidden tab gets no frames, and its shopper must still be told it is their turn
    /// (title, sound): the batch is applied after this at the latest.
    fallback: Option<Timeout>,
}

impl Flush {
    /// Runs `due` at the next frame or after `fallback_ms`, whichever comes first (the
    /// caller [`Flush::cancel`]s the other when it runs).
    pub(super) fn schedule(&mut self, fallback_ms: u64, due: impl Fn() + Clone + 'static) {
        let at_frame = due.clone();
        self.frame = Some(Frame::new(at_frame));
        self.fallback = Some(Timeout::new(Duration::from_millis(fallback_ms), due));
    }

    /// Cancels both timers.
    pub(super) fn cancel(&mut self) {
        self.frame = None;
        self.fallback = None;
    }
}

/// Applies `batch` to the state with one signal update, measures the clock skew from a
/// snapshot that carries the server's clock, and counts. Returns why the reducer wants the
/// full state again, if it does.
pub(super) fn apply(signals: &FeedSignals, batch: Vec<FeedMessage>) -> Option<Resync> {
    let count = u32::try_from(batch.len()).unwrap_or(u32::MAX);
    let mut stale = 0;
    let mut resync = None;
    let mut skew = None;
    signals.feed.update(|feed| {
        for message in batch {
            // A snapshot without a clock leaves the skew a heartbeat measured.
            if let FeedMessage::Snapshot(state) = &message
                && state.server_time.is_some()
            {
                skew = Some(ClockSkew::measure(state.server_time, clock::local_now()));
            }
            let applied = feed.apply(message);
            stale += u32::from(applied.stale);
            resync = resync.or(applied.resync);
        }
    });
    if let Some(skew) = skew {
        refine_skew(signals.skew, skew);
    }
    signals.diagnostics.update(|d| {
        d.messages = d.messages.saturating_add(count);
        d.stale = d.stale.saturating_add(stale);
        d.renders = d.renders.saturating_add(1);
        d.resyncs = d.resyncs.saturating_add(u32::from(resync.is_some()));
    });
    resync
}

/// Refines the page's clock skew with a new measurement ([`ClockSkew::refine`]), notifying
/// the page only when it changed.
pub(super) fn refine_skew(skew: RwSignal<ClockSkew>, measured: ClockSkew) {
    let next = skew.get_untracked().refine(measured);
    if next != skew.get_untracked() {
        skew.set(next);
    }
}
