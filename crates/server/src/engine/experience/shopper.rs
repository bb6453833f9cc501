//! What a shopper does themselves, under the experience's lock: take more time on their
//! grant (once), reserve units against it, or give up their place.
//!
//! Each first expires what is due, so a grant whose time is up answers "expired" even
//! between two ticks.

use livequeue_protocol::api::ReserveResponse;
use livequeue_protocol::{Admission, AdmissionStatus, ServerEvent};

use super::{ExperienceState, GrantError};

impl ExperienceState {
    /// The admission of `consumer`, if they were admitted.
    fn admission_of(&self, consumer: &str) -> Option<Admission> {
        self.line
            .consumer(consumer)
            .and_then(|c| c.private.borrow().admission.clone())
    }

    /// Extends the active grant of `consumer` once; the new admission also reaches their
    /// connections (the private channel) and snapshots.
    pub fn extend(&mut self, consumer: &str, now: u64) -> Result<Admission, GrantError> {
        self.expire_grants(now);
        let mut admission = self.admission_of(consumer).ok_or(GrantError::NoGrant)?;
        admission.expires_at = Some(self.grants.extend(&admission.grant)?);
        self.set_private(consumer, admission.clone());
        Ok(admission)
    }

    /// Reserves `quantity` more units against the active grant of `consumer` (see
    /// [`super::grants`] for how units relate to stock); a changed stock is broadcast.
    pub fn reserve(
        &mut self,
        consumer: &str,
        key: &str,
        quantity: u64,
        now: u64,
    ) -> Result<ReserveResponse, GrantError> {
        self.expire_grants(now);
        let mut admission = self.admission_of(consumer).ok_or(GrantError::NoGrant)?;
        let estimates_before = self.effective_rate();
        let reserved = self
            .grants
            .reserve(&admission.grant, key, quantity, &mut self.stock)?;
        if reserved.answer.reserved != admission.reserved {
            // The cart reaches the shopper's every connection (other tabs, a reload).
            admission.reserved = reserved.answer.reserved;
            self.set_private(consumer, admission);
        }
        if reserved.stock_changed {
            self.broadcast(ServerEvent::StockUpdate(self.stock));
        }
        // The last unit gone stops wait estimates, as an admission taking it would.
        if self.effective_rate() != estimates_before {
            self.announce(true);
        }
        Ok(reserved.answer)
    }

    /// `consumer` gives up their place: out of the waiting line (the shoppers behind move
    /// up at the next announced move), or, once admitted, their active grant is released
    /// and its units go back to stock. Leaving again, or after redemption, changes nothing.
    pub fn leave(&mut self, consumer: &str, now: u64) {
        self.expire_grants(now);
        let Some(ticket) = self.line.consumer(consumer).map(|c| c.ticket) else {
            return;
        };
        if self.line.leave(ticket) {
            return;
        }
        let Some(admission) = self.admission_of(consumer) else {
            return;
        };
        if let Some(units) = self.grants.release(&admission.grant) {
            self.counters.grants_expired.inc();
            self.give_back(units);
            self.update_admission_status(consumer, AdmissionStatus::Expired);
        }
    }
}
