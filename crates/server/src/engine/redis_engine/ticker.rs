//! Each experience's ticker on a node of the Redis engine.
//!
//! Every node paces its own connections' heartbeats and pings and moves its observed rate
//! on; only the node holding the experience's ticker lease in Redis admits at the rate and
//! expires grants. The lease lasts [`lease_for`] and is renewed every tick, so a node that
//! dies (or loses Redis) stops admitting within it, and another node's next tick takes it.
//! The admissions themselves are atomic scripts, so even two nodes that both believed
//! they held the lease could not admit anyone twice or oversell.

use std::sync::Arc;
use std::time::Duration;

use livequeue_protocol::ExperienceStatus;

use super::{Hub, RedisEngine};
use crate::engine::experience::AdmissionRate;
use crate::engine::fanout::{self, Fanout};
use crate::metrics::AdmittedBy;

/// How long a ticker lease lasts: three ticks, and never under two seconds, so that a
/// slow tick or a short pause does not hand it over.
pub fn lease_for(tick: Duration) -> Duration {
    (tick * 3).max(Duration::from_secs(2))
}

impl RedisEngine {
    pub(super) fn spawn_ticker(self: &Arc<Self>, hub: Arc<Hub>) {
        let engine = Arc::downgrade(self);
        let mut shutdown = self.shutdown.subscribe();
        let config = self.config.clone();
        let lease = lease_for(config.tick);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(config.tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last = tokio::time::Instant::now();
            let (mut last_heartbeat, mut last_ping) = (last, last);
            // Pacing of this node's admissions while it holds the lease.
            let mut pacing = AdmissionRate::new(hub.rate_per_minute());
            let mut holding = false;
            loop {
                tokio::select! {
                    _ = interval.tick() => {}
                    _ = shutdown.changed() => break,
                }
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                let now = tokio::time::Instant::now();
                let elapsed = now.duration_since(last).as_millis() as u64;
                last = now;
                let now_ms = engine.now_ms();
                hub.tick(now_ms);
                // Every node's connections, for the operator's total on any node.
                let counts = hub.connections.counts();
                if let Err(e) = hub
                    .queue
                    .report_connections(&engine.node, counts, now_ms)
                    .await
                {
                    tracing::debug!(error = %e, "connection report failed");
                }
                if now.duration_since(last_heartbeat) >= config.heartbeat {
                    last_heartbeat = now;
                    hub.publish(Fanout::Heartbeat(fanout::heartbeat(now_ms)));
                }
                if now.duration_since(last_ping) >= config.ws_ping {
                    last_ping = now;
                    hub.publish(Fanout::Ping);
                }
                let held = if holding {
                    hub.queue.renew_ticker_lease(&engine.node, lease).await
                } else {
                    hub.queue.take_ticker_lease(&engine.node, lease).await
                };
                let was = holding;
                holding = held.unwrap_or_else(|e| {
                    engine.counters.redis_errors.inc();
                    tracing::debug!(error = %e, "ticker lease call failed");
                    false
                });
                if holding != was {
                    tracing::info!(
                        experience = hub.queue.id(),
                        holding,
                        "admission ticker lease {}",
                        if holding { "taken" } else { "lost" }
                    );
                    pacing = AdmissionRate::new(hub.rate_per_minute());
                }
                if !holding {
                    continue;
                }
                if engine.expire(&hub, now_ms).await.is_err() {
                    continue;
                }
                let rate = hub.rate_per_minute();
                if hub.status() != ExperienceStatus::Open {
                    pacing.idle();
                    continue;
                }
                let wanted = pacing.due(elapsed, rate);
                if wanted == 0 {
                    continue;
                }
                match engine.timed(hub.queue.admit(wanted, now_ms)).await {
                    Ok(admitted) => {
                        let n = admitted.shoppers.len() as u64;
                        engine.counters.admissions.get(AdmittedBy::Rate).inc_by(n);
                        pacing.spend(wanted, n);
                    }
                    Err(e) => tracing::debug!(error = %e, "admission at the rate failed"),
                }
            }
            // Hand the lease over at once rather than when it lapses.
            if holding && let Some(engine) = engine.upgrade() {
                let _ = hub.queue.release_ticker_lease(&engine.node).await;
            }
        });
    }
}
