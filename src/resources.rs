//! A count of the browser resources the widget holds right now: sockets, event sources,
//! listeners, timers, animation frames.
//!
//! Every such resource is owned by a value that also holds a [`Tracked`] guard, created
//! with it and dropped with it, so the count is what is alive. The `?debug=1` panel shows it
//! and the browser tests check that many reconnects leave it where it was: nothing leaks per
//! attempt.

use std::cell::Cell;

thread_local! {
    static LIVE: Cell<[u32; KINDS]> = const { Cell::new([0; KINDS]) };
}

const KINDS: usize = 4;

/// What kind of resource a guard stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A WebSocket, EventSource or in-flight fetch.
    Connection = 0,
    /// An event listener (with its JS closure).
    Listener = 1,
    /// A timeout or interval.
    Timer = 2,
    /// A requested animation frame.
    Frame = 3,
}

/// Counts one live resource of its kind until dropped.
#[derive(Debug)]
pub struct Tracked(Kind);

impl Tracked {
    /// Counts a new resource.
    pub fn new(kind: Kind) -> Self {
        LIVE.with(|live| {
            let mut counts = live.get();
            counts[kind as usize] += 1;
            live.set(counts);
        });
        Self(kind)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.with(|live| {
            let mut counts = live.get();
            counts[self.0 as usize] = counts[self.0 as usize].saturating_sub(1);
            live.set(counts);
        });
    }
}

/// Live resources of `kind`.
pub fn live(kind: Kind) -> u32 {
    LIVE.with(|live| live.get()[kind as usize])
}

/// Live resources of every kind: `(connections, listeners, timers, frames)`.
pub fn snapshot() -> (u32, u32, u32, u32) {
    LIVE.with(|live| {
        let c = live.get();
        (c[0], c[1], c[2], c[3])
    })
}
