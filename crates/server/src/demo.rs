//! `--demo`: two experiences with synthetic shoppers, so that every number on the page moves
//! and every shopper action can be tried.
//!
//! - `demo-drop`, the big drop: 5,000 shoppers ahead of you, two more arriving each second,
//!   two admitted each second, most of them buying a few seconds later, the rest letting
//!   their grant expire, and a restock shortly after the drop sells out. More people are
//!   ahead than units left. (Tests rely on it as it is.)
//! - `demo-quick`, the short line: about fifteen ahead, one admitted every two seconds, a
//!   few synthetic shoppers leaving (so the line visibly moves up) and buyers reserving a
//!   second unit before they pay. A newcomer is admitted within about a minute and can then
//!   extend their grant, reserve units and check out, or leave.
//!
//! Each checks out at `/checkout/{id}`, the demo shop's own checkout page
//! ([`crate::routes::checkout`], served only with `--demo`), so "Continue to checkout" lands
//! on a page that redeems the grant.

use std::collections::VecDeque;
use std::time::Duration;

use livequeue_protocol::AdmissionStatus;
use livequeue_protocol::api::{CreateExperience, PatchExperience, ReserveRequest};

use crate::engine::Engine;

/// The big drop's id.
pub const EXPERIENCE: &str = DROP.id;
/// The short line's id.
pub const QUICK_EXPERIENCE: &str = QUICK.id;
/// Shoppers in the big drop's line when the demo starts.
pub const INITIAL_SHOPPERS: usize = DROP.initial;

/// One synthetic experience: its shape and how its synthetic shoppers behave.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    /// Experience id.
    id: &'static str,
    /// Display name.
    name: &'static str,
    /// Synthetic shoppers in line at start.
    initial: usize,
    /// Units at start.
    stock: u64,
    /// Admissions per minute.
    rate_per_minute: f64,
    /// Synthetic arrivals per second (a fraction is a chance each second).
    arrivals_per_second: f64,
    /// Chance each second that one waiting synthetic shopper leaves.
    leave_chance: f64,
    /// Share of admitted synthetic shoppers who buy.
    buyers: f64,
    /// Whether buyers reserve a second unit before paying.
    reserve_more: bool,
    /// Units added when sold out for [`Scenario::restock_after`].
    restock: u64,
    /// How long a sell-out lasts before the restock.
    restock_after: Duration,
}

const DROP: Scenario = Scenario {
    id: "demo-drop",
    name: "Demo drop",
    initial: 5_000,
    stock: 500,
    rate_per_minute: 120.0,
    arrivals_per_second: 2.0,
    leave_chance: 0.0,
    buyers: 0.7,
    reserve_more: false,
    restock: 200,
    restock_after: Duration::from_secs(20),
};

const QUICK: Scenario = Scenario {
    id: "demo-quick",
    name: "Quick demo",
    initial: 15,
    stock: 400,
    rate_per_minute: 30.0,
    arrivals_per_second: 0.4,
    leave_chance: 0.1,
    buyers: 0.7,
    reserve_more: true,
    restock: 200,
    restock_after: Duration::from_secs(20),
};

/// Creates the demo experiences and starts their synthetic shoppers.
pub async fn start(engine: &Engine) {
    for scenario in [DROP, QUICK] {
        run(engine.clone(), scenario).await;
    }
}

/// Creates `scenario`'s experience and its first line, then leaves its shoppers running.
async fn run(engine: Engine, scenario: Scenario) {
    let id = scenario.id;
    let created = engine.create(CreateExperience {
        id: id.into(),
        name: scenario.name.into(),
        stock: scenario.stock,
        admission_rate_per_minute: scenario.rate_per_minute,
        checkout_url: format!("/checkout/{id}"),
        grant_ttl_seconds: None,
    });
    if let Err(e) = created.await {
        tracing::error!(%e, id, "demo experience not created");
        return;
    }
    let mut line: VecDeque<String> = VecDeque::with_capacity(scenario.initial * 2);
    arrive(&engine, id, &mut line, scenario.initial).await;
    tokio::spawn(async move {
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        // Grants to redeem: (at, grant).
        let mut buying: Vec<(u64, String)> = Vec::new();
        let mut sold_out_since: Option<tokio::time::Instant> = None;
        let whole = scenario.arrivals_per_second.trunc() as usize;
        let fraction = scenario.arrivals_per_second.fract();
        loop {
            every_second.tick().await;
            if engine.is_shut_down() {
                return;
            }
            let now = engine.now_ms();
            let arrivals = whole + usize::from(rand::random_bool(fraction));
            arrive(&engine, id, &mut line, arrivals).await;
            if !line.is_empty() && rand::random_bool(scenario.leave_chance) {
                let gone = line.remove(rand::random_range(0..line.len()));
                if let Some(consumer) = gone {
                    // The experience lives as long as the engine; nothing to handle.
                    let _ = engine.leave(id, &consumer).await;
                }
            }
            // The front of the synthetic line: who has been admitted since last second.
            while let Some(consumer) = line.front() {
                let Ok(state) = engine.snapshot(id, consumer).await else {
                    break;
                };
                let Some(admission) = state.admission else {
                    break;
                };
                if admission.status == AdmissionStatus::Active && rand::random_bool(scenario.buyers)
                {
                    if scenario.reserve_more {
                        let cart = ReserveRequest {
                            idempotency_key: "demo-cart".into(),
                            quantity: 2,
                        };
                        // Out of stock or over a lower limit: this buyer takes one unit.
                        let _ = engine.reserve(id, consumer, &cart).await;
                    }
                    buying.push((now + rand::random_range(3_000..40_000), admission.grant));
                }
                line.pop_front();
            }
            let (due, later): (Vec<_>, Vec<_>) = buying.into_iter().partition(|(at, _)| *at <= now);
            buying = later;
            for (_, grant) in due {
                // A grant that expired meanwhile simply is not bought.
                let _ = engine.redeem(id, &grant).await;
            }
            if let Ok(summary) = engine.summary(id).await {
                if summary.stock.available == 0 {
                    let since = *sold_out_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() >= scenario.restock_after {
                        sold_out_since = None;
                        let restock = PatchExperience {
                            stock: Some(summary.stock.total + scenario.restock),
                            ..PatchExperience::default()
                        };
                        // The experience lives as long as the engine; nothing to handle.
                        let _ = engine.patch(id, &restock).await;
                    }
                } else {
                    sold_out_since = None;
                }
            }
        }
    });
}

/// `n` synthetic shoppers join the back of `id`'s line.
async fn arrive(engine: &Engine, id: &str, line: &mut VecDeque<String>, n: usize) {
    for _ in 0..n {
        if let Ok((consumer, _)) = engine.join(id).await {
            line.push_back(consumer);
        }
    }
}
