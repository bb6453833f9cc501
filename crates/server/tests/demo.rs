//! `--demo` tells the whole story: next to the big drop, a short line where a newcomer is
//! admitted within about a minute and can then extend and reserve.

use std::time::Duration;

use livequeue_protocol::api::ReserveRequest;
use livequeue_protocol::{AdmissionStatus, Stage};
use livequeue_server::demo;
use livequeue_server::engine::{Engine, EngineConfig};

#[tokio::test(start_paused = true)]
async fn a_newcomer_to_the_quick_demo_is_admitted_within_a_minute_and_can_extend_and_reserve() {
    let engine = Engine::memory(EngineConfig::default());
    demo::start(&engine).await;
    let me = engine.join(demo::QUICK_EXPERIENCE).await.unwrap().0;
    let mut waited = 0;
    while engine
        .snapshot(demo::QUICK_EXPERIENCE, &me)
        .await
        .unwrap()
        .admission
        .is_none()
    {
        assert!(
            waited < 60,
            "still waiting after a minute in the quick demo"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        waited += 1;
    }
    let extended = engine
        .extend(demo::QUICK_EXPERIENCE, &me)
        .await
        .expect("extends");
    assert_eq!(extended.status, AdmissionStatus::Active);
    let cart = ReserveRequest {
        idempotency_key: "k".into(),
        quantity: 2,
    };
    let reserved = engine
        .reserve(demo::QUICK_EXPERIENCE, &me, &cart)
        .await
        .unwrap();
    assert_eq!(reserved.reserved, 2);
    let big = engine.join(demo::EXPERIENCE).await.unwrap().1;
    assert_eq!(big.stage, Some(Stage::Queued));
    assert!(
        big.position.unwrap() > big.stock.available,
        "the big drop no longer has more people ahead than units left"
    );
}
