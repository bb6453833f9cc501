//! Each experience's ticker task: admissions at the rate, expiries, the line's movement
//! announced at most once a tick, and the pace of heartbeats and pings. It stops with the
//! engine's shutdown signal, or when the engine is dropped.

use std::sync::Arc;

use super::{Experience, MemoryEngine};
use crate::engine::fanout::{self, Fanout};

impl MemoryEngine {
    pub(super) fn spawn_ticker(self: &Arc<Self>, experience: Arc<Experience>) {
        let engine = Arc::downgrade(self);
        let mut shutdown = self.shutdown.subscribe();
        let config = self.config.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(config.tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last = tokio::time::Instant::now();
            let (mut last_heartbeat, mut last_ping) = (last, last);
            loop {
                tokio::select! {
                    _ = interval.tick() => {}
                    _ = shutdown.changed() => break,
                }
                // The engine is gone (tests drop it): nothing left to tick for.
                let Some(engine) = engine.upgrade() else {
                    break;
                };
                let now = tokio::time::Instant::now();
                let elapsed = now.duration_since(last).as_millis() as u64;
                last = now;
                let now_ms = engine.clock.now_ms();
                let mut state = experience.lock();
                state.tick(elapsed, now_ms);
                if now.duration_since(last_heartbeat) >= config.heartbeat {
                    last_heartbeat = now;
                    state.publish(Fanout::Heartbeat(fanout::heartbeat(now_ms)));
                }
                if now.duration_since(last_ping) >= config.ws_ping {
                    last_ping = now;
                    state.publish(Fanout::Ping);
                }
            }
        });
    }
}
