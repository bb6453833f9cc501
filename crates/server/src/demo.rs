//! `--demo`: the `demo-drop` experience with synthetic shoppers, so that every number on the
//! page moves: 5,000 shoppers ahead of you, two more arriving each second, two admitted each
//! second, most of them buying a few seconds later, the rest letting their grant expire,
//! and a restock shortly after the drop sells out.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use livequeue_protocol::AdmissionStatus;
use livequeue_protocol::api::{CreateExperience, PatchExperience};

use crate::engine::Engine;

/// The demo experience's id.
pub const EXPERIENCE: &str = "demo-drop";
/// Shoppers in line when the demo starts.
pub const INITIAL_SHOPPERS: usize = 5_000;
const STOCK: u64 = 500;
const RATE_PER_MINUTE: f64 = 120.0;
const ARRIVALS_PER_SECOND: usize = 2;
/// Share of admitted synthetic shoppers who buy.
const BUYERS: f64 = 0.7;
const RESTOCK: u64 = 200;
const RESTOCK_AFTER: Duration = Duration::from_secs(20);

/// Creates the demo experience and starts its synthetic shoppers.
pub fn start(engine: &Arc<Engine>) {
    let created = engine.create(CreateExperience {
        id: EXPERIENCE.into(),
        name: "Demo drop".into(),
        stock: STOCK,
        admission_rate_per_minute: RATE_PER_MINUTE,
        checkout_url: "/checkout".into(),
    });
    if let Err(e) = created {
        tracing::error!(%e, "demo experience not created");
        return;
    }
    let mut line: VecDeque<String> = VecDeque::with_capacity(INITIAL_SHOPPERS * 2);
    for _ in 0..INITIAL_SHOPPERS {
        if let Ok((id, _)) = engine.join(EXPERIENCE) {
            line.push_back(id);
        }
    }
    let engine = Arc::downgrade(engine);
    tokio::spawn(async move {
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        // Grants to redeem: (at, grant).
        let mut buying: Vec<(u64, String)> = Vec::new();
        let mut sold_out_since: Option<tokio::time::Instant> = None;
        loop {
            every_second.tick().await;
            let Some(engine) = engine.upgrade() else {
                return;
            };
            if engine.is_shut_down() {
                return;
            }
            let now = engine.now_ms();
            for _ in 0..ARRIVALS_PER_SECOND {
                if let Ok((id, _)) = engine.join(EXPERIENCE) {
                    line.push_back(id);
                }
            }
            // The front of the synthetic line: who has been admitted since last second.
            while let Some(id) = line.front() {
                let Ok(state) = engine.snapshot(EXPERIENCE, id) else {
                    break;
                };
                let Some(admission) = state.admission else {
                    break;
                };
                line.pop_front();
                if admission.status == AdmissionStatus::Active && rand::random_bool(BUYERS) {
                    buying.push((now + rand::random_range(3_000..40_000), admission.grant));
                }
            }
            buying.retain(|(at, grant)| {
                if *at > now {
                    return true;
                }
                // A grant that expired meanwhile simply is not bought.
                let _ = engine.redeem(EXPERIENCE, grant);
                false
            });
            if let Ok(summary) = engine.summary(EXPERIENCE) {
                if summary.stock.available == 0 {
                    let since = *sold_out_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() >= RESTOCK_AFTER {
                        sold_out_since = None;
                        let restock = PatchExperience {
                            stock: Some(summary.stock.total + RESTOCK),
                            ..PatchExperience::default()
                        };
                        // The demo experience lives as long as the engine; nothing to handle.
                        let _ = engine.patch(EXPERIENCE, &restock);
                    }
                } else {
                    sold_out_since = None;
                }
            }
        }
    });
}
