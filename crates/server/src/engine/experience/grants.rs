//! Grants: the single-use proof of an admission, its expiry (extended at most once), the
//! units reserved against it, and what became of it.
//!
//! # Units
//!
//! An admission holds one unit of stock from the moment it is issued. Reserving puts units
//! in the shopper's cart: the first is the unit the admission already holds, each further
//! one is taken from available stock (never below zero), up to [`GrantRules::max_units`] in
//! all. A grant that expires or is given up returns every unit it holds (`max(1, reserved)`);
//! a redeemed grant's units are sold.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use livequeue_protocol::api::ReserveResponse;
use livequeue_protocol::{AdmissionStatus, Stock};

/// Why a redemption failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedeemError {
    /// No such grant in this experience.
    Unknown,
    /// Redeemed before.
    AlreadyRedeemed,
    /// Not redeemed in time.
    Expired,
}

/// Why a shopper's extension or reservation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The shopper has not been admitted.
    #[error("you have not been admitted: there is no grant to extend or reserve against")]
    NoGrant,
    /// The grant was redeemed: the purchase is done.
    #[error("this grant was already redeemed")]
    Redeemed,
    /// The grant expired (or was given up).
    #[error("this grant expired")]
    Expired,
    /// The one extension was used.
    #[error("this grant was already extended once")]
    AlreadyExtended,
    /// More units than one grant may hold.
    #[error("at most {max} units per grant: {reserved} reserved already")]
    OverLimit {
        /// The limit.
        max: u64,
        /// Units reserved before this request.
        reserved: u64,
    },
    /// Not enough units left.
    #[error("not enough stock: {available} units left")]
    OutOfStock {
        /// Units available.
        available: u64,
    },
    /// The idempotency key was used before for another quantity.
    #[error("this idempotencyKey was used before with another quantity")]
    KeyReused,
}

/// How grants behave in one experience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantRules {
    /// How long a grant stays redeemable, in milliseconds.
    pub ttl_ms: u64,
    /// How much later one extension moves the expiry, in milliseconds.
    pub extension_ms: u64,
    /// Most units one grant may reserve in all.
    pub max_units: u64,
}

/// A reservation that succeeded, kept to answer its retries.
#[derive(Debug)]
struct Reservation {
    /// The client's key.
    key: String,
    /// What it asked for: the same key with another quantity is refused, not replayed.
    quantity: u64,
    /// What it was answered.
    answer: ReserveResponse,
}

/// One grant's owner and outcome.
#[derive(Debug)]
struct Grant {
    /// The shopper it was issued to: redemption and expiry are told to them.
    consumer: Arc<str>,
    /// Active, then redeemed or expired, never back.
    status: AdmissionStatus,
    /// When it stops being redeemable; its entry in [`Grants::expiries`].
    expires_at: u64,
    /// Whether the one extension was used.
    extended: bool,
    /// Units in the cart; the first is the unit the admission holds.
    reserved: u64,
    /// Successful reservations, at most `max_units` of them (each reserves at least one).
    reservations: Vec<Reservation>,
}

impl Grant {
    /// Units of stock this grant holds: the admission's one, or what was reserved.
    fn units(&self) -> u64 {
        self.reserved.max(1)
    }
}

/// A grant just issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The grant's text, which the shop's checkout redeems.
    pub grant: String,
    /// When it stops being redeemable, in milliseconds since the Unix epoch.
    pub expires_at: u64,
}

/// A grant whose units went back to stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned {
    /// Whose it was.
    pub consumer: Arc<str>,
    /// Units it held.
    pub units: u64,
}

/// The answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    /// What to answer.
    pub answer: ReserveResponse,
    /// Whether stock changed (a first request that took units; not a retry).
    pub stock_changed: bool,
}

/// The grants of one experience.
#[derive(Debug)]
pub struct Grants {
    /// Every grant issued this epoch, kept after redemption or expiry so that a second
    /// redemption is told apart from a grant that never existed.
    by_grant: HashMap<String, Grant>,
    /// Grants in expiry order: the ticker only ever looks at the first. A set rather than a
    /// queue in issue order, since an extension moves one grant later.
    expiries: BTreeSet<(u64, String)>,
    /// Lifetime, extension and unit limit.
    rules: GrantRules,
    /// Grants redeemed, for the operator's figures.
    redeemed: u64,
    /// Grants that expired unused (or were given up), for the operator's figures.
    expired: u64,
    /// Grants still active: counted rather than found in `expiries`, since the operator's
    /// stream reads it every second and redeemed grants stay in `expiries` until their time.
    active: u64,
}

impl Grants {
    /// No grants yet.
    pub fn new(rules: GrantRules) -> Self {
        Self {
            by_grant: HashMap::new(),
            expiries: BTreeSet::new(),
            rules,
            redeemed: 0,
            expired: 0,
            active: 0,
        }
    }

    /// Issues a fresh grant to `consumer` at `now`.
    pub fn issue(&mut self, consumer: Arc<str>, now: u64) -> Issued {
        let grant = new_grant();
        let expires_at = now + self.rules.ttl_ms;
        self.by_grant.insert(
            grant.clone(),
            Grant {
                consumer,
                status: AdmissionStatus::Active,
                expires_at,
                extended: false,
                reserved: 0,
                reservations: Vec::new(),
            },
        );
        self.expiries.insert((expires_at, grant.clone()));
        self.active += 1;
        Issued { grant, expires_at }
    }

    /// Expires the active grants whose time is up; returns whose they were and the units
    /// that go back to stock.
    pub fn expire_due(&mut self, now: u64) -> Vec<Returned> {
        let mut returned = Vec::new();
        while let Some((at, _)) = self.expiries.first() {
            if *at > now {
                break;
            }
            let Some((_, grant)) = self.expiries.pop_first() else {
                break;
            };
            if let Some(g) = self.by_grant.get_mut(&grant)
                && g.status == AdmissionStatus::Active
            {
                g.status = AdmissionStatus::Expired;
                returned.push(Returned {
                    consumer: g.consumer.clone(),
                    units: g.units(),
                });
            }
        }
        self.expired += returned.len() as u64;
        self.active -= returned.len() as u64;
        returned
    }

    /// Redeems `grant` once; returns whose it was. Expire due grants first: this does not
    /// look at the clock.
    pub fn redeem(&mut self, grant: &str) -> Result<Arc<str>, RedeemError> {
        let g = self.by_grant.get_mut(grant).ok_or(RedeemError::Unknown)?;
        match g.status {
            AdmissionStatus::Redeemed => Err(RedeemError::AlreadyRedeemed),
            AdmissionStatus::Expired => Err(RedeemError::Expired),
            AdmissionStatus::Active => {
                g.status = AdmissionStatus::Redeemed;
                self.redeemed += 1;
                self.active -= 1;
                Ok(g.consumer.clone())
            }
        }
    }

    /// The active grant `grant`, or why it is not active.
    fn active(&mut self, grant: &str) -> Result<&mut Grant, GrantError> {
        let g = self.by_grant.get_mut(grant).ok_or(GrantError::NoGrant)?;
        match g.status {
            AdmissionStatus::Active => Ok(g),
            AdmissionStatus::Redeemed => Err(GrantError::Redeemed),
            AdmissionStatus::Expired => Err(GrantError::Expired),
        }
    }

    /// Moves the expiry of the active `grant` later by the rules' extension, once; returns
    /// the new expiry. Expire due grants first.
    pub fn extend(&mut self, grant: &str) -> Result<u64, GrantError> {
        let extension_ms = self.rules.extension_ms;
        let g = self.active(grant)?;
        if g.extended {
            return Err(GrantError::AlreadyExtended);
        }
        g.extended = true;
        let (old, new) = (g.expires_at, g.expires_at + extension_ms);
        g.expires_at = new;
        self.expiries.remove(&(old, grant.to_string()));
        self.expiries.insert((new, grant.to_string()));
        Ok(new)
    }

    /// Reserves `quantity` more units against the active `grant`, taking what the admission
    /// does not hold from `stock`. A `key` that succeeded before answers as it did then.
    /// Expire due grants first.
    pub fn reserve(
        &mut self,
        grant: &str,
        key: &str,
        quantity: u64,
        stock: &mut Stock,
    ) -> Result<Reserved, GrantError> {
        let max = self.rules.max_units;
        let g = self.by_grant.get_mut(grant).ok_or(GrantError::NoGrant)?;
        // A retry is answered whatever happened since: it is the same request.
        if let Some(done) = g.reservations.iter().find(|r| r.key == key) {
            return if done.quantity == quantity {
                Ok(Reserved {
                    answer: done.answer,
                    stock_changed: false,
                })
            } else {
                Err(GrantError::KeyReused)
            };
        }
        let g = self.active(grant)?;
        let total = g.reserved.saturating_add(quantity);
        if total > max {
            return Err(GrantError::OverLimit {
                max,
                reserved: g.reserved,
            });
        }
        // The admission's unit covers the first; the rest come out of stock.
        let needed = total.max(1) - g.units();
        if needed > stock.available {
            return Err(GrantError::OutOfStock {
                available: stock.available,
            });
        }
        stock.available -= needed;
        g.reserved = total;
        let answer = ReserveResponse {
            reserved: total,
            stock: *stock,
        };
        g.reservations.push(Reservation {
            key: key.to_string(),
            quantity,
            answer,
        });
        Ok(Reserved {
            answer,
            stock_changed: needed > 0,
        })
    }

    /// Gives up the active `grant` (its shopper left): it can no longer be redeemed, and
    /// its units go back to stock. `None` when it was not active.
    pub fn release(&mut self, grant: &str) -> Option<u64> {
        let g = self.active(grant).ok()?;
        g.status = AdmissionStatus::Expired;
        let units = g.units();
        self.expired += 1;
        self.active -= 1;
        Some(units)
    }

    /// Grants that can still be redeemed.
    pub fn active_count(&self) -> u64 {
        self.active
    }

    /// Grants redeemed.
    pub fn redeemed(&self) -> u64 {
        self.redeemed
    }

    /// Grants expired unused or given up.
    pub fn expired(&self) -> u64 {
        self.expired
    }
}

/// A fresh grant: `g_` and 128 random bits in hex.
fn new_grant() -> String {
    format!("g_{:032x}", rand::random::<u128>())
}

/// Whether `s` has the shape of a grant (anything else is a malformed request, not unknown).
pub fn is_grant_shaped(s: &str) -> bool {
    s.len() == 34 && s.starts_with("g_") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests;
