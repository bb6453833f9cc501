//! The line: tickets in join order, the head that admissions move, and every shopper of the
//! epoch with their private channel.
//!
//! A shopper's position is `ticket - head + 1`, so admitting from the front moves every
//! position at once without touching any shopper's record.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use livequeue_protocol::api::{EntriesPage, QueueEntry};
use tokio::sync::watch;

use super::Private;

/// One shopper who joined.
#[derive(Debug)]
pub struct Consumer {
    /// Join order number; the shopper's position is `ticket - head + 1`.
    pub ticket: u64,
    /// The shopper's private state. Each of the shopper's connections holds a receiver, so
    /// every tab and device gets every change, and closing one touches no other.
    pub private: watch::Sender<Private>,
}

/// A place in the waiting line.
#[derive(Debug)]
struct Waiting {
    /// Who holds it.
    consumer: Arc<str>,
    /// When they joined, in milliseconds since the Unix epoch: the operator's list shows it.
    joined_at: u64,
}

/// The shoppers of one experience and their order.
#[derive(Debug, Default)]
pub struct Line {
    /// Next ticket to hand out: tickets follow join order and are never reused in an epoch,
    /// so a ticket alone orders two shoppers.
    next_ticket: u64,
    /// Tickets below `head` have left the line (admitted). Positions are relative to it,
    /// which is what lets connections work out their own position from an `Advance`.
    head: u64,
    /// Waiting shoppers in line order: `waiting[i]` holds ticket `head + i`.
    waiting: VecDeque<Waiting>,
    /// Every shopper who joined this epoch, waiting or admitted: an admitted shopper keeps
    /// their private channel (redemption and expiry still reach them) and their ticket
    /// (so joining again is recognised).
    consumers: HashMap<Arc<str>, Consumer>,
}

impl Line {
    /// Adds a shopper at the end of the line. Joining again with a known id is a no-op that
    /// returns the existing record: one shopper, one place, whoever calls.
    pub fn join(&mut self, consumer_id: Arc<str>, now: u64) -> &Consumer {
        use std::collections::hash_map::Entry;
        match self.consumers.entry(consumer_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let ticket = self.next_ticket;
                self.next_ticket += 1;
                self.waiting.push_back(Waiting {
                    consumer: new.key().clone(),
                    joined_at: now,
                });
                new.insert(Consumer {
                    ticket,
                    private: watch::channel(Private::default()).0,
                })
            }
        }
    }

    /// The shopper with this id.
    pub fn consumer(&self, id: &str) -> Option<&Consumer> {
        self.consumers.get(id)
    }

    /// The first ticket still waiting.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// Shoppers waiting.
    pub fn waiting(&self) -> u64 {
        self.waiting.len() as u64
    }

    /// Takes up to `count` shoppers off the front of the line, in order.
    pub fn take_front(&mut self, count: u64) -> Vec<Arc<str>> {
        let count = count.min(self.waiting());
        let taken: Vec<Arc<str>> = self
            .waiting
            .drain(..count as usize)
            .map(|w| w.consumer)
            .collect();
        self.head += taken.len() as u64;
        taken
    }

    /// Shoppers waiting, from `offset`, at most `limit`, with anonymous labels.
    pub fn entries(&self, offset: u64, limit: u64, label: impl Fn(&str) -> String) -> EntriesPage {
        let entries = self
            .waiting
            .iter()
            .enumerate()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(i, w)| QueueEntry {
                position: i as u64 + 1,
                label: label(&w.consumer),
                joined_at: w.joined_at,
            })
            .collect();
        EntriesPage {
            total: self.waiting(),
            entries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joining_again_with_a_known_id_keeps_the_one_place() {
        let mut line = Line::default();
        let first = line.join("c_known".into(), 0).ticket;
        let again = line.join("c_known".into(), 5).ticket;
        assert_eq!(again, first, "a known shopper was given a new ticket");
        let next = line.join("c_next".into(), 6).ticket;
        assert_eq!(
            line.waiting(),
            2,
            "a known shopper holds a second place in line"
        );
        assert_eq!(
            next - line.head() + 1,
            2,
            "the shopper behind was pushed back by a duplicate"
        );
    }

    #[test]
    fn taking_from_the_front_moves_the_head_in_join_order() {
        let mut line = Line::default();
        for id in ["a", "b", "c"] {
            line.join(id.into(), 0);
        }
        let taken = line.take_front(2);
        assert_eq!(
            taken.iter().map(|c| &**c).collect::<Vec<_>>(),
            ["a", "b"],
            "admitted out of join order"
        );
        assert_eq!(line.head(), 2);
        assert_eq!(line.take_front(5).len(), 1, "took more than were waiting");
    }
}
