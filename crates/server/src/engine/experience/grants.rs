//! Grants: the single-use proof of an admission, its expiry, and what became of it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use livequeue_protocol::AdmissionStatus;

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

/// One grant's owner and outcome.
#[derive(Debug)]
struct Grant {
    /// The shopper it was issued to: redemption and expiry are told to them.
    consumer: Arc<str>,
    /// Active, then redeemed or expired, never back.
    status: AdmissionStatus,
}

/// A grant just issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The grant's text, which the shop's checkout redeems.
    pub grant: String,
    /// When it stops being redeemable, in milliseconds since the Unix epoch.
    pub expires_at: u64,
}

/// The grants of one experience.
#[derive(Debug)]
pub struct Grants {
    /// Every grant issued this epoch, kept after redemption or expiry so that a second
    /// redemption is told apart from a grant that never existed.
    by_grant: HashMap<String, Grant>,
    /// Grants in expiry order (every grant lives equally long, so issue order is expiry
    /// order): the ticker only ever looks at the front.
    expiries: VecDeque<(u64, String)>,
    /// How long a grant stays redeemable.
    ttl_ms: u64,
    /// Grants redeemed, for the operator's figures.
    redeemed: u64,
    /// Grants that expired unused, for the operator's figures.
    expired: u64,
}

impl Grants {
    /// No grants yet; each will be redeemable for `ttl_ms`.
    pub fn new(ttl_ms: u64) -> Self {
        Self {
            by_grant: HashMap::new(),
            expiries: VecDeque::new(),
            ttl_ms,
            redeemed: 0,
            expired: 0,
        }
    }

    /// Issues a fresh grant to `consumer` at `now`.
    pub fn issue(&mut self, consumer: Arc<str>, now: u64) -> Issued {
        let grant = new_grant();
        let expires_at = now + self.ttl_ms;
        self.by_grant.insert(
            grant.clone(),
            Grant {
                consumer,
                status: AdmissionStatus::Active,
            },
        );
        self.expiries.push_back((expires_at, grant.clone()));
        Issued { grant, expires_at }
    }

    /// Expires the active grants whose time is up; returns whose they were (each unit goes
    /// back to stock).
    pub fn expire_due(&mut self, now: u64) -> Vec<Arc<str>> {
        let mut returned = Vec::new();
        while let Some((at, _)) = self.expiries.front() {
            if *at > now {
                break;
            }
            let Some((_, grant)) = self.expiries.pop_front() else {
                break;
            };
            if let Some(g) = self.by_grant.get_mut(&grant)
                && g.status == AdmissionStatus::Active
            {
                g.status = AdmissionStatus::Expired;
                returned.push(g.consumer.clone());
            }
        }
        self.expired += returned.len() as u64;
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
                Ok(g.consumer.clone())
            }
        }
    }

    /// Grants that can still be redeemed. Redeemed grants stay in the expiry queue until
    /// their time, so the queue's length over-counts.
    pub fn active(&self) -> u64 {
        self.expiries
            .iter()
            .filter(|(_, g)| {
                self.by_grant
                    .get(g)
                    .is_some_and(|g| g.status == AdmissionStatus::Active)
            })
            .count() as u64
    }

    /// Grants redeemed.
    pub fn redeemed(&self) -> u64 {
        self.redeemed
    }

    /// Grants expired unused.
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
mod tests {
    use super::*;

    #[test]
    fn grant_shape_is_checked() {
        assert!(is_grant_shaped(&new_grant()));
        assert!(!is_grant_shaped("g_xyz"));
        assert!(!is_grant_shaped(""));
    }

    #[test]
    fn a_grant_expires_at_its_time_and_not_before() {
        let mut grants = Grants::new(100);
        let issued = grants.issue("c".into(), 0);
        assert!(grants.expire_due(99).is_empty(), "expired early");
        assert_eq!(grants.expire_due(100).len(), 1, "did not expire on time");
        assert_eq!(grants.redeem(&issued.grant), Err(RedeemError::Expired));
        assert_eq!((grants.active(), grants.expired()), (0, 1));
    }
}
