//! [`MemoryQueue`]: the in-memory rules ([`ExperienceState`]) behind [`QueueCore`].
//!
//! The rules are untouched: each call takes the adapter's lock, calls the experience's own
//! methods, and reads back what they did, in the Redis core's shapes (see "Where the two
//! back ends differed" in [`super`]). Unlike [`crate::engine::Engine`], it reads no clock:
//! `now` comes from the caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use livequeue_protocol::api::{PatchExperience, ReserveResponse};
use livequeue_protocol::{Admission, AdmissionStatus, Cursor, ExperienceStatus, Stock, WsFrame};

use super::{
    Admitted, AdmittedShopper, Departure, ExpiredGrant, Logged, Place, QueueCore, QueueError,
    Setup, Standing,
};
use crate::engine::experience::{ExperienceState, Holder};

/// One experience under the in-memory rules: created or not, as a Redis handle is.
#[derive(Debug)]
pub struct MemoryQueue {
    /// The experience's id, for error messages and the state's own.
    id: Arc<str>,
    /// The experience once created, behind a mutex held for microseconds (no awaits).
    inner: Mutex<Option<Memory>>,
}

/// A created experience and what the adapter remembers about it.
#[derive(Debug)]
struct Memory {
    /// The rules and data.
    state: ExperienceState,
    /// Grants issued and not known to have ended, by grant, with their shopper: the
    /// in-memory rules tell a shopper of an expiry through their private channel, so
    /// [`QueueCore::expire_grants`] finds the grants that expired (in a tick or first in
    /// another call) by looking at these shoppers' admissions. O(active grants) a call.
    unreported: HashMap<String, Arc<str>>,
}

impl MemoryQueue {
    /// The handle of experience `experience`, not created yet.
    pub fn new(experience: &str) -> Self {
        Self {
            id: experience.into(),
            inner: Mutex::new(None),
        }
    }

    /// The experience's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn lock(&self) -> MutexGuard<'_, Option<Memory>> {
        // As `Experience::lock`: a panic under the lock leaves plain data behind.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the created experience, under the lock.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Memory) -> Result<T, QueueError>,
    ) -> Result<T, QueueError> {
        let mut guard = self.lock();
        let memory = guard
            .as_mut()
            .ok_or_else(|| QueueError::UnknownExperience(self.id.to_string()))?;
        f(memory)
    }
}

/// The admission `consumer`'s connections see, if they were admitted.
fn admission_of(state: &ExperienceState, consumer: &str) -> Option<Admission> {
    state
        .consumer(consumer)
        .and_then(|c| c.private.borrow().admission.clone())
}

/// Where `consumer` stands, in the Redis core's shape.
fn place_of(state: &ExperienceState, consumer: &str) -> Result<Place, QueueError> {
    let ticket = state
        .consumer(consumer)
        .ok_or(QueueError::UnknownConsumer)?
        .ticket;
    // `now` only stamps the snapshot's server time, which a place does not carry.
    let snapshot = state
        .snapshot_of(consumer, 0)
        .ok_or(QueueError::UnknownConsumer)?;
    let standing = match (snapshot.position, snapshot.admission) {
        (Some(position), _) => Standing::Waiting { position },
        (None, Some(admission)) => Standing::Admitted(admission),
        (None, None) => Standing::Left,
    };
    Ok(Place {
        ticket,
        standing,
        cursor: snapshot.cursor,
        stock: snapshot.stock,
        status: state.settings().status,
    })
}

/// Now in milliseconds since the Unix epoch: only for when a shopper joined, which the
/// operator's list shows and no rule reads.
fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl QueueCore for MemoryQueue {
    async fn create(&self, setup: &Setup) -> Result<(), QueueError> {
        let mut guard = self.lock();
        if guard.is_some() {
            return Err(QueueError::ExperienceExists(self.id.to_string()));
        }
        *guard = Some(Memory {
            state: ExperienceState::new(
                self.id.clone(),
                setup.settings.clone(),
                setup.stock,
                setup.epoch,
                setup.rules,
                Arc::default(),
            ),
            unreported: HashMap::new(),
        });
        Ok(())
    }

    async fn join(&self, consumer: &str) -> Result<Place, QueueError> {
        self.with(|m| {
            let known = m.state.consumer(consumer).is_some();
            if !known && m.state.settings().status == ExperienceStatus::Closed {
                return Err(QueueError::Closed(self.id.to_string()));
            }
            m.state.join(consumer.into(), wall_clock_ms());
            place_of(&m.state, consumer)
        })
    }

    async fn position(&self, consumer: &str) -> Result<Place, QueueError> {
        self.with(|m| place_of(&m.state, consumer))
    }

    async fn leave(&self, consumer: &str, now: u64) -> Result<Departure, QueueError> {
        self.with(|m| {
            let place = place_of(&m.state, consumer)?;
            if place.position().is_some() {
                m.state.leave(consumer, now);
                return Ok(Departure::FromLine);
            }
            // What `leave` does first, done here so that the grant read below is the one
            // it will release.
            m.state.expire_grants(now);
            let active =
                admission_of(&m.state, consumer).filter(|a| a.status == AdmissionStatus::Active);
            m.state.leave(consumer, now);
            Ok(match active {
                Some(admission) => {
                    m.unreported.remove(&admission.grant);
                    Departure::GrantReleased {
                        units: admission.reserved.max(1),
                    }
                }
                None => Departure::Nothing,
            })
        })
    }

    async fn admit(&self, count: u64, now: u64) -> Result<Admitted, QueueError> {
        self.with(|m| {
            if m.state.settings().status == ExperienceStatus::Closed {
                return Err(QueueError::Closed(self.id.to_string()));
            }
            // The front of the line is who `admit` takes, in this order.
            let front = m.state.page(0, count.min(m.state.stock().available));
            let n = m.state.admit(count, now) as usize;
            let mut shoppers = Vec::with_capacity(n);
            for row in front.into_iter().take(n) {
                // Nobody joins synthetically through this interface.
                let Holder::Shopper(consumer) = row.holder else {
                    continue;
                };
                let (Some(record), Some(admission)) = (
                    m.state.consumer(&consumer),
                    admission_of(&m.state, &consumer),
                ) else {
                    continue;
                };
                m.unreported
                    .insert(admission.grant.clone(), consumer.clone());
                shoppers.push(AdmittedShopper {
                    consumer: consumer.to_string(),
                    ticket: record.ticket,
                    admission,
                });
            }
            Ok(Admitted {
                shoppers,
                cursor: m.state.cursor(),
            })
        })
    }

    async fn expire_grants(&self, now: u64) -> Result<Vec<ExpiredGrant>, QueueError> {
        self.with(|m| {
            m.state.expire_grants(now);
            let mut ended = Vec::new();
            let state = &m.state;
            m.unreported.retain(|grant, consumer| {
                let Some(admission) = admission_of(state, consumer) else {
                    return false;
                };
                if admission.grant != *grant {
                    return false;
                }
                match admission.status {
                    AdmissionStatus::Active => true,
                    AdmissionStatus::Expired => {
                        ended.push((
                            admission.expires_at,
                            grant.clone(),
                            ExpiredGrant {
                                consumer: consumer.to_string(),
                                grant: grant.clone(),
                                units: admission.reserved.max(1),
                            },
                        ));
                        false
                    }
                    AdmissionStatus::Redeemed => false,
                }
            });
            // Expiry order, then grant, as the Redis core's expiry index orders them.
            ended.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            Ok(ended.into_iter().map(|(_, _, e)| e).collect())
        })
    }

    async fn redeem(&self, grant: &str, now: u64) -> Result<String, QueueError> {
        self.with(|m| {
            let (consumer, _at) = m.state.redeem(grant, now).map_err(QueueError::Redeem)?;
            m.unreported.remove(grant);
            Ok(consumer.to_string())
        })
    }

    async fn extend(&self, consumer: &str, now: u64) -> Result<Admission, QueueError> {
        self.with(|m| Ok(m.state.extend(consumer, now)?))
    }

    async fn reserve(
        &self,
        consumer: &str,
        key: &str,
        quantity: u64,
        now: u64,
    ) -> Result<ReserveResponse, QueueError> {
        self.with(|m| Ok(m.state.reserve(consumer, key, quantity, now)?))
    }

    async fn set_stock(&self, total: u64) -> Result<Stock, QueueError> {
        self.with(|m| {
            m.state.patch(&PatchExperience {
                stock: Some(total),
                ..PatchExperience::default()
            });
            Ok(m.state.stock())
        })
    }

    async fn cursor(&self) -> Result<Cursor, QueueError> {
        self.with(|m| Ok(m.state.cursor()))
    }

    async fn events_since(&self, after: Cursor) -> Result<Option<Vec<Logged>>, QueueError> {
        self.with(|m| {
            let Some(encoded) = m.state.replay_since(after) else {
                return Ok(None);
            };
            // The history keeps events encoded for the transports; the WebSocket text
            // decodes back into the event.
            encoded
                .iter()
                .map(|e| match WsFrame::decode(e.ws.as_str()) {
                    Ok(WsFrame::Event(event, _)) => Ok(Logged {
                        cursor: e.cursor,
                        event,
                    }),
                    Ok(other) => Err(QueueError::BadEvent {
                        seq: e.cursor.seq,
                        error: livequeue_protocol::event::DecodeError::BadMessage(format!(
                            "not an event: {other:?}"
                        )),
                    }),
                    Err(error) => Err(QueueError::BadEvent {
                        seq: e.cursor.seq,
                        error,
                    }),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        })
    }
}
