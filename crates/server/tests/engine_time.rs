//! The engine under tokio's paused clock: admissions at the configured rate, in join order,
//! grants that expire, and cursors that only grow.

use std::time::Duration;

use livequeue_protocol::api::CreateExperience;
use livequeue_protocol::{AdmissionStatus, Stage};
use livequeue_server::engine::EngineConfig;
use livequeue_server::engine::memory::MemoryEngine;

fn drop_of(stock: u64, rate: f64) -> CreateExperience {
    CreateExperience {
        id: "drop".into(),
        name: "Drop".into(),
        stock,
        admission_rate_per_minute: rate,
        checkout_url: "/c".into(),
        grant_ttl_seconds: None,
    }
}

async fn settle() {
    // Let the ticker task run after time moved.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_ticker_admits_at_the_rate_in_join_order_while_stock_lasts() {
    let engine = MemoryEngine::new(EngineConfig::default());
    engine.create(drop_of(5, 60.0)).unwrap(); // one a second
    let ids: Vec<String> = (0..8).map(|_| engine.join("drop").unwrap().0).collect();
    settle().await;
    tokio::time::advance(Duration::from_millis(3_050)).await;
    settle().await;
    let admitted: Vec<bool> = ids
        .iter()
        .map(|id| engine.snapshot("drop", id).unwrap().admission.is_some())
        .collect();
    assert_eq!(
        admitted,
        [true, true, true, false, false, false, false, false],
        "three seconds, three admissions, front first"
    );

    tokio::time::advance(Duration::from_secs(10)).await;
    settle().await;
    let summary = engine.summary("drop").unwrap();
    assert_eq!(summary.stock.available, 0, "stock runs out");
    assert_eq!(summary.waiting, 3, "nobody admitted past the stock");
    let last = engine.snapshot("drop", &ids[7]).unwrap();
    assert_eq!(last.stage, Some(Stage::SoldOut));
}

#[tokio::test(start_paused = true)]
async fn an_unredeemed_grant_expires_and_its_unit_is_admitted_again() {
    let config = EngineConfig {
        grant_ttl: Duration::from_secs(30),
        ..EngineConfig::default()
    };
    let engine = MemoryEngine::new(config);
    engine.create(drop_of(1, 60.0)).unwrap();
    let first = engine.join("drop").unwrap().0;
    let second = engine.join("drop").unwrap().0;
    settle().await;
    tokio::time::advance(Duration::from_millis(1_100)).await;
    settle().await;
    assert_eq!(
        engine.snapshot("drop", &first).unwrap().stage,
        Some(Stage::Admitted)
    );
    assert_eq!(
        engine.snapshot("drop", &second).unwrap().stage,
        Some(Stage::SoldOut)
    );
    tokio::time::advance(Duration::from_secs(31)).await;
    settle().await;
    let state = engine.snapshot("drop", &first).unwrap();
    assert_eq!(state.admission.unwrap().status, AdmissionStatus::Expired);
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    assert_eq!(
        engine.snapshot("drop", &second).unwrap().stage,
        Some(Stage::Admitted),
        "the returned unit goes to the next in line"
    );
}

#[tokio::test(start_paused = true)]
async fn the_cursor_only_grows() {
    let engine = MemoryEngine::new(EngineConfig::default());
    engine.create(drop_of(100, 600.0)).unwrap();
    let me = engine.join("drop").unwrap().0;
    for _ in 0..50 {
        engine.join("drop").unwrap();
    }
    let mut last = engine.snapshot("drop", &me).unwrap().cursor;
    for i in 0..20 {
        tokio::time::advance(Duration::from_millis(500)).await;
        settle().await;
        if i % 5 == 0 {
            engine.patch("drop", &restock(100 + i)).unwrap();
        }
        let now = engine.snapshot("drop", &me).unwrap().cursor;
        assert!(now >= last, "cursor went back from {last:?} to {now:?}");
        last = now;
    }
    assert!(last.seq > 0);
}

fn restock(total: u64) -> livequeue_protocol::api::PatchExperience {
    livequeue_protocol::api::PatchExperience {
        stock: Some(total),
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn an_extended_grant_expires_at_its_new_time_not_its_old_one() {
    let config = EngineConfig {
        grant_ttl: Duration::from_secs(30),
        grant_extension: Duration::from_secs(20),
        ..EngineConfig::default()
    };
    let engine = MemoryEngine::new(config);
    engine.create(drop_of(1, 60.0)).unwrap();
    let me = engine.join("drop").unwrap().0;
    settle().await;
    tokio::time::advance(Duration::from_millis(1_100)).await;
    settle().await;
    engine.extend("drop", &me).expect("an active grant extends");
    tokio::time::advance(Duration::from_secs(35)).await;
    settle().await;
    let status = |engine: &MemoryEngine| {
        engine
            .snapshot("drop", &me)
            .unwrap()
            .admission
            .unwrap()
            .status
    };
    assert_eq!(
        status(&engine),
        AdmissionStatus::Active,
        "expired at the old time"
    );
    tokio::time::advance(Duration::from_secs(16)).await;
    settle().await;
    assert_eq!(
        status(&engine),
        AdmissionStatus::Expired,
        "outlived the extension"
    );
}
