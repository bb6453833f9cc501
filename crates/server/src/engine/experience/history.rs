//! The experience's cursor and the broadcasts kept for SSE resume.

use std::collections::VecDeque;
use std::sync::Arc;

use livequeue_protocol::{Cursor, ServerEvent};

use crate::engine::fanout::Encoded;

/// Broadcast events kept for SSE resume. At the ticker's pace (at most a few broadcasts a
/// second) this covers minutes of disconnection; an older `Last-Event-ID` gets a snapshot.
pub const HISTORY: usize = 1024;

/// The broadcast log of one experience.
#[derive(Debug)]
pub struct History {
    /// This lifetime of the engine's memory: a cursor of another epoch cannot be replayed.
    epoch: u64,
    /// Broadcasts so far in the epoch; the next one gets `seq + 1`.
    seq: u64,
    /// The last [`HISTORY`] broadcasts, oldest first, shared with the fan-out (encoded once).
    kept: VecDeque<Arc<Encoded>>,
}

impl History {
    /// An empty log at `epoch`, seq 0.
    pub fn new(epoch: u64) -> Self {
        Self {
            epoch,
            seq: 0,
            kept: VecDeque::with_capacity(64),
        }
    }

    /// The cursor of the last broadcast.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            epoch: self.epoch,
            seq: self.seq,
        }
    }

    /// Gives `event` the next cursor, keeps it, and returns it encoded for the fan-out.
    pub fn record(&mut self, event: ServerEvent) -> Arc<Encoded> {
        self.seq += 1;
        let encoded = Arc::new(Encoded::new(event, self.cursor()));
        if self.kept.len() == HISTORY {
            self.kept.pop_front();
        }
        self.kept.push_back(encoded.clone());
        encoded
    }

    /// Broadcasts after `after`, when the log still holds all of them.
    pub fn replay_since(&self, after: Cursor) -> Option<Vec<Arc<Encoded>>> {
        if after.epoch != self.epoch || after.seq > self.seq {
            return None;
        }
        let missed = (self.seq - after.seq) as usize;
        if missed > self.kept.len() {
            return None;
        }
        Some(
            self.kept
                .iter()
                .skip(self.kept.len() - missed)
                .cloned()
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::Stock;

    #[test]
    fn a_cursor_older_than_the_log_gets_no_replay() {
        let mut history = History::new(1);
        for available in 0..(HISTORY as u64 + 1) {
            history.record(ServerEvent::StockUpdate(Stock {
                available,
                total: available,
            }));
        }
        assert!(
            history.replay_since(Cursor { epoch: 1, seq: 0 }).is_none(),
            "replayed with a gap"
        );
        assert_eq!(
            history
                .replay_since(Cursor { epoch: 1, seq: 1 })
                .map(|r| r.len()),
            Some(HISTORY)
        );
    }
}
