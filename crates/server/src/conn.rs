//! What one push connection (SSE or WebSocket) sends, independent of its framing.
//!
//! [`Feed`] turns a [`Subscription`] into a sequence of [`Outgoing`] items: broadcast events
//! (shared, pre-encoded), this shopper's position when the line moved, this shopper's
//! admission when it changed, a full state after falling behind, heartbeats, and shutdown.
//! Transports only frame the items. No per-connection timer exists: heartbeats and pings
//! come through the experience's fan-out channel, paced by its ticker.

use std::sync::Arc;

use livequeue_protocol::{Admission, Cursor, PositionUpdate, QueueState};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::sync::watch::error::RecvError as RecvErrorWatch;
use tokio_util::sync::ReusableBoxFuture;

use crate::engine::Subscription;
use crate::engine::fanout::{Advance, Encoded, Fanout, Place, Raw};
use crate::metrics::Resync;

/// One thing to send.
#[derive(Debug)]
pub enum Outgoing {
    /// A broadcast event.
    Event(Arc<Encoded>),
    /// This shopper's new position.
    Position(PositionUpdate, Cursor),
    /// This shopper's admission changed.
    Admission(Admission, Cursor),
    /// The connection fell behind the fan-out channel: send the full state instead.
    Resync(Box<QueueState>),
    /// SSE heartbeat frame.
    Heartbeat(bytes::Bytes),
    /// WebSocket ping time.
    Ping,
    /// The server is shutting down.
    Shutdown,
    /// An unchecked frame (test controls only).
    Raw(Arc<Raw>),
}

/// The wait for the shopper's private channel to change, with the receiver it owns.
type PrivateChange = ReusableBoxFuture<'static, (Result<(), RecvErrorWatch>, PrivateReceiver)>;
type PrivateReceiver = watch::Receiver<crate::engine::experience::Private>;

async fn private_changed(mut rx: PrivateReceiver) -> (Result<(), RecvErrorWatch>, PrivateReceiver) {
    let changed = rx.changed().await;
    (changed, rx)
}

/// A connection's feed.
pub struct Feed {
    sub: Subscription,
    /// Place last sent, to send only changes; `None` when none was (or it must be resent).
    sent: Option<Place>,
    /// Whether the private channel still has a sender (it always has while the engine lives).
    private_open: bool,
    /// The wait for a private change, kept from one [`Feed::next`] to the next (created on
    /// the first): a wait made anew in each call would register and unregister its waiter
    /// once per broadcast, which profiled at a seventh of the node's user-space time per
    /// delivery. It owns a clone of the subscription's receiver.
    private_change: Option<PrivateChange>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("sub", &self.sub)
            .field("sent", &self.sent)
            .field("private_open", &self.private_open)
            .finish_non_exhaustive()
    }
}

impl Feed {
    /// A feed whose shopper has already been sent the state in `sub.start`.
    pub fn new(sub: Subscription) -> Self {
        let sent = sub.place;
        Self {
            sub,
            sent,
            private_open: true,
            private_change: None,
        }
    }

    /// The subscription (for snapshots and the clock).
    pub fn subscription(&self) -> &Subscription {
        &self.sub
    }

    /// The shopper's private state as of now, to send after a replay.
    pub fn private_now(&mut self) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let cursor = self.sub.cursor;
        if let Some(place) = self.sub.place {
            out.push(Outgoing::Position(place.update(), cursor));
        }
        let private = self.sub.private.borrow_and_update().clone();
        if let Some(admission) = private.admission {
            out.push(Outgoing::Admission(
                admission,
                Cursor {
                    epoch: cursor.epoch,
                    seq: private.seq,
                },
            ));
        }
        out
    }

    /// The next item. Cancel-safe: it only awaits cancel-safe receivers, and the private
    /// wait lives in the feed, not in this future.
    pub async fn next(&mut self) -> Outgoing {
        if self.private_change.is_none() {
            // After `private_now`, if that was called: the clone has seen what it read.
            let rx = self.sub.private.clone();
            self.private_change = Some(ReusableBoxFuture::new(private_changed(rx)));
        }
        loop {
            tokio::select! {
                item = self.sub.fanout.recv() => match item {
                    Ok(Fanout::Event(e)) => return Outgoing::Event(e),
                    Ok(Fanout::Advance(advance)) => {
                        if let Some(update) = self.moved(advance) {
                            return update;
                        }
                    }
                    Ok(Fanout::Heartbeat(frame)) => return Outgoing::Heartbeat(frame),
                    Ok(Fanout::Ping) => return Outgoing::Ping,
                    Ok(Fanout::Shutdown) | Err(RecvError::Closed) => return Outgoing::Shutdown,
                    Ok(Fanout::Raw(raw)) => return Outgoing::Raw(raw),
                    Err(RecvError::Lagged(skipped)) => {
                        tracing::debug!(skipped, "connection lagged; resyncing");
                        self.sub.counters().resync(Resync::Lagged);
                        return self.resync();
                    }
                    // Counted once by the engine, for the whole node.
                    Ok(Fanout::Resync) => return self.resync(),
                },
                (changed, mut rx) = std::future::poll_fn(|cx| match self.private_change.as_mut() {
                    Some(wait) => wait.poll(cx),
                    None => std::task::Poll::Pending,
                }), if self.private_open => {
                    if changed.is_err() {
                        self.private_open = false;
                        self.private_change = None;
                        continue;
                    }
                    let private = rx.borrow_and_update().clone();
                    if let Some(wait) = self.private_change.as_mut() {
                        wait.set(private_changed(rx));
                    }
                    if let Some(admission) = private.admission {
                        let cursor = Cursor { epoch: self.sub.cursor.epoch, seq: private.seq };
                        self.sent = None;
                        return Outgoing::Admission(admission, cursor);
                    }
                }
            }
        }
    }

    /// The full state now, in place of updates that were missed.
    fn resync(&mut self) -> Outgoing {
        let state = self.sub.snapshot();
        self.sent = state.position.map(|position| Place {
            position,
            estimated_wait_seconds: state.estimated_wait_seconds,
        });
        Outgoing::Resync(Box::new(state))
    }

    /// A position update when this shopper's place or wait changed enough to tell.
    fn moved(&mut self, advance: Advance) -> Option<Outgoing> {
        let now = advance.position_of(self.sub.ticket)?;
        let worth_sending = match self.sent {
            None => true,
            Some(sent) => {
                sent.position != now.position
                    || wait_changed(sent.estimated_wait_seconds, now.estimated_wait_seconds)
            }
        };
        if !worth_sending {
            return None;
        }
        self.sent = Some(now);
        Some(Outgoing::Position(now.update(), advance.cursor))
    }
}

/// A wait estimate is news when it appears, disappears, or moves by over 10% (and 5 s):
/// rate noise alone must not wake every connection every tick.
fn wait_changed(before: Option<u64>, after: Option<u64>) -> bool {
    match (before, after) {
        (Some(a), Some(b)) => a.abs_diff(b) > (a / 10).max(5),
        (a, b) => a.is_some() != b.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::wait_changed;

    #[test]
    fn small_wait_jitter_is_not_news() {
        assert!(!wait_changed(Some(100), Some(104)));
        assert!(wait_changed(Some(100), Some(120)));
        assert!(wait_changed(Some(100), None));
        assert!(wait_changed(None, Some(3)));
        assert!(!wait_changed(None, None));
    }
}
