//! The line: tickets in join order, the head that admissions move, and every shopper of the
//! epoch with their private channel.
//!
//! A shopper's position is `ticket - head + 1`, less the shoppers ahead who left: admitting
//! from the front moves every position at once without touching any shopper's record, and
//! so does a departure from the middle.
//!
//! # Departures
//!
//! A shopper who leaves keeps their slot in `waiting` as a tombstone (so `waiting[i]` still
//! holds ticket `head + i`, and leaving is O(log d)), and their ticket goes into `departed`,
//! the sorted tickets at or after `head` whose shopper left. A position is then
//! `ticket - head + 1 - (departed tickets below ticket)`: one binary search. Tombstones are
//! dropped when the head passes them, so `d` counts only departures still ahead of someone.
//! `departed` is shared (`Arc`) with every [`super::Advance`] in flight and copied on write,
//! so a leave costs O(d) and each connection's position O(log d) per announced move.

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
    /// Waiting shoppers in line order: `waiting[i]` holds ticket `head + i` (a tombstone when
    /// that ticket is in `departed`).
    waiting: VecDeque<Waiting>,
    /// Tickets at or after `head` whose shopper left, sorted; shared with line movements in
    /// flight, copied on write.
    departed: Arc<VecDeque<u64>>,
    /// Changes to the order (admissions, departures), so each is announced once.
    moves: u64,
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

    /// Tickets at or after the head whose shopper left, sorted.
    pub fn departed(&self) -> Arc<VecDeque<u64>> {
        self.departed.clone()
    }

    /// How many times the order changed; the ticker announces when it moved.
    pub fn moves(&self) -> u64 {
        self.moves
    }

    /// Shoppers waiting.
    pub fn waiting(&self) -> u64 {
        (self.waiting.len() - self.departed.len()) as u64
    }

    /// Takes up to `count` shoppers off the front of the line, in order, dropping the
    /// tombstones of those who left on the way.
    pub fn take_front(&mut self, count: u64) -> Vec<Arc<str>> {
        let mut taken = Vec::new();
        while (taken.len() as u64) < count {
            let Some(w) = self.waiting.pop_front() else {
                break;
            };
            let ticket = self.head;
            self.head += 1;
            if self.departed.front() == Some(&ticket) {
                Arc::make_mut(&mut self.departed).pop_front();
            } else {
                taken.push(w.consumer);
            }
        }
        if !taken.is_empty() {
            self.moves += 1;
        }
        taken
    }

    /// The shopper holding `ticket` leaves the waiting line; `false` when they were not in
    /// it (admitted, or gone already).
    pub fn leave(&mut self, ticket: u64) -> bool {
        if ticket < self.head || ticket >= self.next_ticket {
            return false;
        }
        let Err(at) = self.departed.binary_search(&ticket) else {
            return false;
        };
        Arc::make_mut(&mut self.departed).insert(at, ticket);
        self.moves += 1;
        true
    }

    /// Shoppers waiting, from `offset`, at most `limit`, with anonymous labels.
    pub fn entries(&self, offset: u64, limit: u64, label: impl Fn(&str) -> String) -> EntriesPage {
        let entries = self
            .waiting
            .iter()
            .zip(self.head..)
            .filter(|(_, ticket)| self.departed.binary_search(ticket).is_err())
            .map(|(w, _)| w)
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
            // The line does not count admissions: the experience fills this in.
            admitted: 0,
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

    #[test]
    fn a_departure_is_skipped_by_admissions_and_the_list_and_leaving_twice_is_nothing() {
        let mut line = Line::default();
        for id in ["a", "b", "c", "d"] {
            line.join(id.into(), 0);
        }
        let b = line.consumer("b").unwrap().ticket;
        assert!(line.leave(b), "a waiting shopper could not leave");
        assert!(!line.leave(b), "leaving twice changed the line again");
        assert_eq!(line.waiting(), 3);
        let listed: Vec<u64> = line
            .entries(0, 10, |id| id.to_string())
            .entries
            .iter()
            .map(|e| e.position)
            .collect();
        assert_eq!(listed, [1, 2, 3], "the list has a gap where b was");
        let taken = line.take_front(2);
        assert_eq!(
            taken.iter().map(|c| &**c).collect::<Vec<_>>(),
            ["a", "c"],
            "the departed shopper was admitted"
        );
        assert!(line.departed().is_empty(), "a passed tombstone was kept");
        assert!(!line.leave(b), "a ticket behind the head left again");
    }
}
