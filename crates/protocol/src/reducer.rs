//! Applies server messages to the widget's state, in cursor order.
//!
//! Messages can arrive twice (a replay after reconnect), late (a poll answered after a push
//! message), or out of order (two transports at once during an upgrade). The reducer keeps, for
//! each part of the state, the cursor of the message that last set it, and lets only a newer
//! message change that part. Each part's value is therefore the value of its newest message,
//! whatever order the messages came in: the state never moves backwards because of transport
//! order.
//!
//! The parts are: position (with the wait estimate), stock, experience, and admission.
//! Broadcast events (stock, experience) are numbered one by one, so a jump in their `seq` on
//! one ordered stream means the stream lost something: the reducer asks for a [`Resync`].
//! Private events (position, admission) carry the `seq` of the last broadcast they are
//! consistent with. An admission also moves forward through its statuses, so two admission
//! messages of the same `seq` are ordered by status.
//!
//! Messages without a cursor (from a server that predates cursors) are applied latest-wins.
//!
//! The stage is derived from the parts ([`QueueState::derive_stage`]) unless the server said
//! one that its parts do not show (a server written from the guide says `admitted` without
//! an admission object): then the server's word stands until the parts imply another stage.

use crate::event::ServerEvent;
use crate::state::{Admission, AdmissionStatus, Cursor, QueueState, Stage};

/// One message as the reducer sees it, whatever the transport.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedMessage {
    /// A full state (initial state, refresh, snapshot, poll answer).
    Snapshot(QueueState),
    /// One update event, with its cursor when the server sent one.
    Event {
        /// The event.
        event: ServerEvent,
        /// Its cursor; `None` from servers without cursors.
        cursor: Option<Cursor>,
    },
}

/// Why the state must be fetched again in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// An update came before any full state.
    NoState,
    /// Broadcast `seq`s jumped from `last` to `got`: something in between was lost.
    Gap {
        /// Last broadcast seq seen.
        last: u64,
        /// The seq that arrived.
        got: u64,
    },
    /// An update of a newer engine lifetime arrived: everything known is void.
    EpochChanged {
        /// The epoch the state is in.
        from: u64,
        /// The epoch of the message.
        to: u64,
    },
}

impl std::fmt::Display for Resync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resync::NoState => f.write_str("an update came before any state"),
            Resync::Gap { last, got } => write!(f, "broadcast seq jumped from {last} to {got}"),
            Resync::EpochChanged { from, to } => write!(f, "epoch changed from {from} to {to}"),
        }
    }
}

/// What applying one message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// The state changed.
    pub changed: bool,
    /// The message was a duplicate or older than what the state holds, and was dropped.
    /// (A snapshot that changes nothing is not counted as stale: it confirms the state.)
    pub stale: bool,
    /// The state should be fetched again in full.
    pub resync: Option<Resync>,
}

/// Ordering key of each part of the state: the `seq` that last set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct PartSeqs {
    position: u64,
    stock: u64,
    experience: u64,
    /// `(seq, rank of the admission status, expiry, units reserved)`, see [`admission_key`].
    admission: AdmissionKey,
}

/// The widget's state plus what the reducer needs to order messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedState {
    state: Option<QueueState>,
    parts: PartSeqs,
    /// Highest broadcast seq seen, to spot gaps.
    last_broadcast: u64,
    /// The stage the last snapshot said that its own parts do not imply; it stands until an
    /// update moves the derived stage.
    stage_said: Option<Stage>,
}

/// The ordering key of an admission: `(seq, status rank, expiry, units reserved)`.
type AdmissionKey = (u64, u8, u64, u64);

/// The ordering key of an admission set at `seq`. Statuses only move forward (no admission
/// ranks below any); within one status a later `expiresAt` is newer, since a grant's expiry
/// only ever moves later (an extension), and more units reserved are newer, since a grant's
/// cart only grows; neither an extension nor a first reservation need come with a broadcast.
fn admission_key(seq: u64, admission: Option<&Admission>) -> AdmissionKey {
    let rank = match admission.map(|a| a.status) {
        None => 0,
        Some(AdmissionStatus::Active) => 1,
        Some(AdmissionStatus::Redeemed | AdmissionStatus::Expired) => 2,
    };
    let expires_at = admission.and_then(|a| a.expires_at).unwrap_or(0);
    let reserved = admission.map_or(0, |a| a.reserved);
    (seq, rank, expires_at, reserved)
}

impl FeedState {
    /// An empty feed, waiting for its first full state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current state, once a full state has arrived.
    pub fn state(&self) -> Option<&QueueState> {
        self.state.as_ref()
    }

    /// The cursor the state reflects, to resume from.
    pub fn cursor(&self) -> Option<Cursor> {
        self.state.as_ref().map(|s| s.cursor)
    }

    /// Applies one message.
    pub fn apply(&mut self, message: FeedMessage) -> Applied {
        let before = self.state.clone();
        let derived_before = before.as_ref().map(QueueState::derive_stage);
        let mut said = None;
        let mut applied = match message {
            FeedMessage::Snapshot(mut snapshot) => {
                // Places are 1-based: a 0 (a guide-style server's "admitted") is no place.
                snapshot.position = snapshot.position.filter(|p| *p > 0);
                said = Some(snapshot.stage.filter(|s| *s != snapshot.derive_stage()));
                self.apply_snapshot(snapshot)
            }
            FeedMessage::Event {
                event,
                cursor: None,
            } => self.apply_latest_wins(event),
            FeedMessage::Event {
                event,
                cursor: Some(cursor),
            } => self.apply_event(event, cursor),
        };
        if let Some(state) = &mut self.state {
            // Once admitted, a shopper has left the line for good: a position that arrives
            // late (older than the admission, from another transport) must not bring it back.
            if state.admission.is_some() {
                state.position = None;
                state.estimated_wait_seconds = None;
            }
            let derived = state.derive_stage();
            match said {
                Some(said) if !applied.stale => self.stage_said = said,
                _ if derived_before != Some(derived) => self.stage_said = None,
                _ => {}
            }
            state.stage = Some(self.stage_said.unwrap_or(derived));
        }
        applied.changed = self.state != before;
        applied
    }

    fn apply_snapshot(&mut self, snapshot: QueueState) -> Applied {
        let at = snapshot.cursor;
        let Some(current) = &mut self.state else {
            return self.replace(snapshot);
        };
        if at.epoch > current.cursor.epoch {
            return self.replace(snapshot);
        }
        if at.epoch < current.cursor.epoch {
            return Applied {
                stale: true,
                ..Applied::default()
            };
        }
        let parts = &mut self.parts;
        if parts.position <= at.seq {
            parts.position = at.seq;
            current.position = snapshot.position;
            current.estimated_wait_seconds = snapshot.estimated_wait_seconds;
        }
        if parts.stock <= at.seq {
            parts.stock = at.seq;
            current.stock = snapshot.stock;
        }
        if parts.experience <= at.seq {
            parts.experience = at.seq;
            current.experience = snapshot.experience;
        }
        let key = admission_key(at.seq, snapshot.admission.as_ref());
        if parts.admission <= key {
            parts.admission = key;
            current.admission = snapshot.admission;
        }
        self.last_broadcast = self.last_broadcast.max(at.seq);
        current.cursor.seq = self.last_broadcast;
        current.server_time = current.server_time.max(snapshot.server_time);
        Applied::default()
    }

    fn replace(&mut self, snapshot: QueueState) -> Applied {
        let seq = snapshot.cursor.seq;
        self.parts = PartSeqs {
            position: seq,
            stock: seq,
            experience: seq,
            admission: admission_key(seq, snapshot.admission.as_ref()),
        };
        self.last_broadcast = seq;
        self.state = Some(snapshot);
        Applied::default()
    }

    fn apply_event(&mut self, event: ServerEvent, at: Cursor) -> Applied {
        let Some(current) = &mut self.state else {
            return Applied {
                resync: Some(Resync::NoState),
                ..Applied::default()
            };
        };
        if at.epoch < current.cursor.epoch {
            return Applied {
                stale: true,
                ..Applied::default()
            };
        }
        if at.epoch > current.cursor.epoch {
            let from = current.cursor.epoch;
            return Applied {
                resync: Some(Resync::EpochChanged { from, to: at.epoch }),
                ..Applied::default()
            };
        }
        let mut resync = None;
        if event.kind().is_broadcast() {
            if at.seq > self.last_broadcast + 1 {
                resync = Some(Resync::Gap {
                    last: self.last_broadcast,
                    got: at.seq,
                });
            }
            self.last_broadcast = self.last_broadcast.max(at.seq);
            current.cursor.seq = self.last_broadcast;
        }
        let parts = &mut self.parts;
        let newer = match &event {
            ServerEvent::PositionUpdate(_) => newer(&mut parts.position, at.seq),
            ServerEvent::StockUpdate(_) => newer(&mut parts.stock, at.seq),
            ServerEvent::ExperienceUpdate(_) => newer(&mut parts.experience, at.seq),
            ServerEvent::Admission(a) => {
                newer(&mut parts.admission, admission_key(at.seq, Some(a)))
            }
        };
        if !newer {
            return Applied {
                stale: true,
                resync,
                ..Applied::default()
            };
        }
        set_part(current, event);
        Applied {
            resync,
            ..Applied::default()
        }
    }

    fn apply_latest_wins(&mut self, event: ServerEvent) -> Applied {
        match &mut self.state {
            None => Applied {
                resync: Some(Resync::NoState),
                ..Applied::default()
            },
            Some(current) => {
                set_part(current, event);
                Applied::default()
            }
        }
    }
}

/// Moves `slot` to `key` when `key` is newer (a strictly greater seq, or the same seq and a
/// later admission status or expiry).
fn newer<K: Ord + Copy>(slot: &mut K, key: K) -> bool {
    // A part set by a snapshot at `seq` already holds that seq's value: only later ones move it.
    if key > *slot {
        *slot = key;
        true
    } else {
        false
    }
}

fn set_part(state: &mut QueueState, event: ServerEvent) {
    match event {
        ServerEvent::PositionUpdate(p) => {
            state.position = Some(p.position).filter(|p| *p > 0);
            // A missing wait says nothing about it: the last known one stays.
            if let Some(wait) = p.estimated_wait_seconds {
                state.estimated_wait_seconds = wait;
            }
        }
        ServerEvent::StockUpdate(stock) => state.stock = stock,
        ServerEvent::ExperienceUpdate(experience) => state.experience = experience,
        ServerEvent::Admission(admission) => {
            state.position = None;
            state.estimated_wait_seconds = None;
            state.admission = Some(admission);
        }
    }
}
