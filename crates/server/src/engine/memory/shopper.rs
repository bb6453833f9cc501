//! The engine's side of the shopper's own actions (extend, reserve, leave): find the
//! experience, take its lock, read the clock, and hand over to [`ExperienceState`].
//!
//! [`ExperienceState`]: crate::engine::experience::ExperienceState

use livequeue_protocol::Admission;
use livequeue_protocol::api::{ReserveRequest, ReserveResponse};

use super::MemoryEngine;
use crate::engine::EngineError;

impl MemoryEngine {
    /// Extends the shopper's active grant once.
    pub fn extend(&self, experience_id: &str, consumer_id: &str) -> Result<Admission, EngineError> {
        let experience = self.get(experience_id)?;
        let mut state = experience.lock();
        let admission = state.extend(consumer_id, self.clock.now_ms())?;
        Ok(admission)
    }

    /// Reserves units against the shopper's active grant (the request already checked).
    pub fn reserve(
        &self,
        experience_id: &str,
        consumer_id: &str,
        request: &ReserveRequest,
    ) -> Result<ReserveResponse, EngineError> {
        let experience = self.get(experience_id)?;
        let mut state = experience.lock();
        let answer = state.reserve(
            consumer_id,
            &request.idempotency_key,
            request.quantity,
            self.clock.now_ms(),
        )?;
        Ok(answer)
    }

    /// The shopper gives up their place (and grant); doing it again is nothing.
    pub fn leave(&self, experience_id: &str, consumer_id: &str) -> Result<(), EngineError> {
        let experience = self.get(experience_id)?;
        experience.lock().leave(consumer_id, self.clock.now_ms());
        Ok(())
    }
}
