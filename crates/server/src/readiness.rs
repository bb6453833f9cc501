//! [`Readiness`]: whether this node should be sent traffic, as `GET /readyz` reports it.
//!
//! Liveness (`/healthz`) says the process answers; readiness says its engine can serve. A
//! load balancer that checks `/readyz` stops sending new shoppers to a node that answers
//! `503`, while the node finishes what it holds. Each reason a node cannot serve is its own
//! flag, set and cleared by whoever knows it: [`crate::serve`] and
//! [`crate::engine::Engine::shutdown`] set [`NotReady::ShuttingDown`] (never cleared); a back
//! end whose store lives elsewhere sets [`NotReady::BackendUnreachable`] while it cannot
//! reach it and clears it when it can again. The flags are one atomic word: a check is a load.

use std::sync::atomic::{AtomicU8, Ordering};

/// Why a node cannot serve now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// The shutdown signal came: the node drains and then exits. Never cleared.
    ShuttingDown,
    /// The engine's store is out of reach. The in-memory engine never sets it (its store
    /// is this process); a back end on a shared store sets it while its connection is down.
    BackendUnreachable,
}

impl NotReady {
    /// Every reason, in the order that picks the one an answer names when several hold:
    /// shutting down outranks the rest, since it will not pass.
    pub const ALL: [NotReady; 2] = [NotReady::ShuttingDown, NotReady::BackendUnreachable];

    /// This reason's bit in [`Readiness`]'s word.
    const fn bit(self) -> u8 {
        match self {
            NotReady::ShuttingDown => 1,
            NotReady::BackendUnreachable => 2,
        }
    }

    /// The sentence of the `503` answer.
    pub const fn message(self) -> &'static str {
        match self {
            NotReady::ShuttingDown => "the server is shutting down",
            NotReady::BackendUnreachable => "the queue's store cannot be reached",
        }
    }
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// The reasons this node cannot serve now; ready when there are none.
#[derive(Debug, Default)]
pub struct Readiness {
    /// One bit per [`NotReady`] that holds now.
    reasons: AtomicU8,
}

impl Readiness {
    /// Records that `reason` holds (idempotent).
    pub fn set(&self, reason: NotReady) {
        self.reasons.fetch_or(reason.bit(), Ordering::Relaxed);
    }

    /// Records that `reason` no longer holds (idempotent).
    pub fn clear(&self, reason: NotReady) {
        self.reasons.fetch_and(!reason.bit(), Ordering::Relaxed);
    }

    /// Whether `reason` holds now.
    pub fn holds(&self, reason: NotReady) -> bool {
        self.reasons.load(Ordering::Relaxed) & reason.bit() != 0
    }

    /// `Ok` when the node can serve, else the most important reason it cannot.
    pub fn check(&self) -> Result<(), NotReady> {
        let reasons = self.reasons.load(Ordering::Relaxed);
        match NotReady::ALL.into_iter().find(|r| reasons & r.bit() != 0) {
            None => Ok(()),
            Some(reason) => Err(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_until_a_reason_holds_and_again_once_it_is_cleared() {
        let r = Readiness::default();
        assert_eq!(r.check(), Ok(()), "a new node is ready");
        r.set(NotReady::BackendUnreachable);
        assert_eq!(r.check(), Err(NotReady::BackendUnreachable));
        r.clear(NotReady::BackendUnreachable);
        assert_eq!(r.check(), Ok(()), "clearing the only reason makes it ready");
    }

    #[test]
    fn shutting_down_outranks_an_unreachable_store_and_survives_its_recovery() {
        let r = Readiness::default();
        r.set(NotReady::BackendUnreachable);
        r.set(NotReady::ShuttingDown);
        assert_eq!(r.check(), Err(NotReady::ShuttingDown));
        r.clear(NotReady::BackendUnreachable);
        assert_eq!(
            r.check(),
            Err(NotReady::ShuttingDown),
            "the store coming back must not make a draining node ready"
        );
    }
}
