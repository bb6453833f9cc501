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
//!
//! # Synthetic shoppers
//!
//! The operator's synthetic joins (`--demo`, `--test-controls`) add anonymous places with
//! no consumer record at all: no id, no token, no private channel (a `watch` channel is a
//! few hundred bytes, and nobody could ever subscribe to it). Such a place is 24 bytes in
//! `waiting`, so a line of a million costs tens of megabytes, not hundreds. They are taken
//! from the front like anyone else ([`Admitted::Synthetic`]), and their grants expire as
//! any unredeemed grant does.
//!
//! # Pages of the line
//!
//! The `k`-th waiting shopper (0-based) holds the ticket `t = head + k + j`, where `j` is
//! the number of departures below `t`. `departed[x] - x` never decreases (the tickets are
//! distinct and sorted), so `j` is the number of departures with `departed[x] - x <= head +
//! k`: one binary search. A page therefore costs O(log d + limit) (plus O(log d) for each
//! run of departures inside the page), wherever it starts: the operator can look at
//! place 999,000 of a million without the server walking the first 999,000.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

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
    /// Who holds it; `None` for a synthetic shopper, who has no record (see the module
    /// docs).
    consumer: Option<Arc<str>>,
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
                    consumer: Some(new.key().clone()),
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

    /// Adds `count` synthetic shoppers at the end of the line, all joined at `now`: one
    /// reservation of the queue's memory and 24 bytes a place, nothing else.
    pub fn join_synthetic(&mut self, count: u64, now: u64) {
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        self.waiting.reserve(count);
        self.waiting.extend(
            std::iter::repeat_with(|| Waiting {
                consumer: None,
                joined_at: now,
            })
            .take(count),
        );
        self.next_ticket += count as u64;
    }

    /// Takes up to `count` shoppers off the front of the line, in order, dropping the
    /// tombstones of those who left on the way.
    pub fn take_front(&mut self, count: u64) -> Vec<Admitted> {
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
                taken.push(match w.consumer {
                    Some(consumer) => Admitted::Shopper(consumer),
                    None => Admitted::Synthetic(ticket),
                });
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

    /// Shoppers waiting, from `offset` (0-based), at most `limit`: who holds each place
    /// and when they joined, in line order (see "Pages of the line" in the module docs).
    pub fn page(&self, offset: u64, limit: u64) -> Vec<Row> {
        let departed = &*self.departed;
        let mut rows = Vec::new();
        let end = offset.saturating_add(limit).min(self.waiting());
        let mut j = self.departures_before_place(offset);
        for k in offset..end {
            // Skip the departures between the last row and this one: usually none, so one
            // comparison; a run of them is crossed with one more binary search.
            if departed
                .get(j)
                .is_some_and(|&d| d - j as u64 <= self.head + k)
            {
                j = self.departures_before_place(k);
            }
            let index = (k + j as u64) as usize;
            let Some(w) = self.waiting.get(index) else {
                break;
            };
            rows.push(Row {
                position: k + 1,
                holder: match &w.consumer {
                    Some(consumer) => Holder::Shopper(consumer.clone()),
                    None => Holder::Synthetic(self.head + index as u64),
                },
                joined_at: w.joined_at,
            });
        }
        rows
    }

    /// How many departures lie ahead of the `k`-th (0-based) waiting shopper: the `j` with
    /// `departed[x] - x <= head + k` exactly for `x < j`.
    fn departures_before_place(&self, k: u64) -> usize {
        let departed = &*self.departed;
        let (mut low, mut high) = (0, departed.len());
        while low < high {
            let mid = low + (high - low) / 2;
            // `departed[mid] >= head + mid`: the tickets are distinct and at or after head.
            if departed[mid] - mid as u64 <= self.head + k {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
}

/// A shopper taken off the front of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// A shopper who joined, by consumer id.
    Shopper(Arc<str>),
    /// A synthetic shopper, by ticket.
    Synthetic(u64),
}

/// Who holds a place, for the operator's anonymous label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A shopper who joined, by consumer id (never shown: it is turned into a label).
    Shopper(Arc<str>),
    /// A synthetic shopper, by ticket.
    Synthetic(u64),
}

/// One row of a page of the line, before it is labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based place in line.
    pub position: u64,
    /// Who holds it.
    pub holder: Holder,
    /// When they joined, in milliseconds since the Unix epoch.
    pub joined_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shopper(id: &str) -> Admitted {
        Admitted::Shopper(id.into())
    }

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
            taken,
            [shopper("a"), shopper("b")],
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
        let listed: Vec<u64> = line.page(0, 10).iter().map(|r| r.position).collect();
        assert_eq!(listed, [1, 2, 3], "the list has a gap where b was");
        let taken = line.take_front(2);
        assert_eq!(
            taken,
            [shopper("a"), shopper("c")],
            "the departed shopper was admitted"
        );
        assert!(line.departed().is_empty(), "a passed tombstone was kept");
        assert!(!line.leave(b), "a ticket behind the head left again");
    }

    #[test]
    fn synthetic_shoppers_take_tickets_in_order_and_are_admitted_by_ticket() {
        let mut line = Line::default();
        line.join("a".into(), 1);
        line.join_synthetic(3, 2);
        line.join("b".into(), 3);
        assert_eq!(line.waiting(), 5);
        assert_eq!(
            line.consumer("b").unwrap().ticket,
            4,
            "a shopper behind synthetic ones got the wrong ticket"
        );
        let page = line.page(0, 10);
        assert_eq!(page[1].holder, Holder::Synthetic(1));
        assert_eq!(page[4].holder, Holder::Shopper("b".into()));
        assert_eq!(
            line.take_front(3),
            [shopper("a"), Admitted::Synthetic(1), Admitted::Synthetic(2)]
        );
    }

    /// One step of a line's life, for the model below.
    #[derive(Debug, Clone)]
    enum Op {
        /// A shopper joins.
        Join,
        /// Synthetic shoppers join.
        Synthetic(u8),
        /// The waiting shopper at this index (modulo the line) leaves.
        Leave(u16),
        /// Admissions from the front.
        Admit(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Join),
            1 => (1u8..20).prop_map(Op::Synthetic),
            3 => any::<u16>().prop_map(Op::Leave),
            1 => (1u8..8).prop_map(Op::Admit),
        ]
    }

    proptest! {
        /// Every page of the line, after any joins, departures and admissions, is the page
        /// a plain list of who is waiting would give.
        #[test]
        fn every_page_is_the_page_of_the_plain_list(
            ops in proptest::collection::vec(op(), 1..120),
            offset in 0u64..80,
            limit in 1u64..40,
        ) {
            let mut line = Line::default();
            // The model: who is waiting, front first, by holder.
            let mut model: Vec<Holder> = Vec::new();
            let mut next = 0u64;
            for op in ops {
                match op {
                    Op::Join => {
                        let id: Arc<str> = format!("c{next}").into();
                        line.join(id.clone(), next);
                        model.push(Holder::Shopper(id));
                        next += 1;
                    }
                    Op::Synthetic(n) => {
                        line.join_synthetic(u64::from(n), next);
                        model.extend((next..next + u64::from(n)).map(Holder::Synthetic));
                        next += u64::from(n);
                    }
                    Op::Leave(at) => {
                        // Only shoppers who joined can leave; pick one by index.
                        let shoppers: Vec<usize> = model
                            .iter()
                            .enumerate()
                            .filter(|(_, h)| matches!(h, Holder::Shopper(_)))
                            .map(|(i, _)| i)
                            .collect();
                        if shoppers.is_empty() {
                            continue;
                        }
                        let i = shoppers[usize::from(at) % shoppers.len()];
                        let Holder::Shopper(id) = model.remove(i) else { unreachable!() };
                        let ticket = line.consumer(&id).unwrap().ticket;
                        prop_assert!(line.leave(ticket), "a waiting shopper could not leave");
                    }
                    Op::Admit(n) => {
                        let taken = line.take_front(u64::from(n));
                        let expected: Vec<Admitted> = model
                            .drain(..usize::from(n).min(model.len()))
                            .map(|h| match h {
                                Holder::Shopper(id) => Admitted::Shopper(id),
                                Holder::Synthetic(t) => Admitted::Synthetic(t),
                            })
                            .collect();
                        prop_assert_eq!(taken, expected, "admitted others than the front");
                    }
                }
            }
            prop_assert_eq!(line.waiting(), model.len() as u64);
            let page: Vec<(u64, Holder)> = line
                .page(offset, limit)
                .into_iter()
                .map(|r| (r.position, r.holder))
                .collect();
            let expected: Vec<(u64, Holder)> = model
                .into_iter()
                .enumerate()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|(i, h)| (i as u64 + 1, h))
                .collect();
            prop_assert_eq!(page, expected);
        }
    }
}
