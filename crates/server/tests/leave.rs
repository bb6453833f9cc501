//! Leaving the line against a real server: everyone behind moves up with no gap, nobody
//! admits a ghost, leaving twice is nothing, and an admitted shopper's units go back.

mod common;

use common::TestServer;
use common::shopper::{admitted, available, leave, quick_server, reserve};
use livequeue_protocol::{AdmissionStatus, PositionUpdate, Stage};
use reqwest::StatusCode;

#[tokio::test]
async fn leaving_moves_everyone_behind_up_by_one_without_gaps() {
    let s = quick_server().await;
    s.experience("drop", 5).await;
    let mut line = Vec::new();
    for _ in 0..5 {
        line.push(s.join("drop").await);
    }
    let mut third = s.sse("drop", &line[2], None).await;
    let mut fifth = s.sse("drop", &line[4], None).await;
    third.next().await;
    fifth.next().await;
    assert_eq!(leave(&s, &line[1]).await, StatusCode::NO_CONTENT);
    for (sse, now) in [(&mut third, 2), (&mut fifth, 4)] {
        let event = sse.until("position_update").await.pop().unwrap();
        let update: PositionUpdate = serde_json::from_str(&event.data).unwrap();
        assert_eq!(update.position, now, "the shopper behind did not move up");
    }
    let mut positions = Vec::new();
    for who in line.iter().filter(|w| w.consumer_id != line[1].consumer_id) {
        positions.push(s.state("drop", who).await.position);
    }
    assert_eq!(
        positions,
        [Some(1), Some(2), Some(3), Some(4)],
        "positions after a leave have a gap"
    );
    assert_eq!(s.state("drop", &line[1]).await.position, None);
}

#[tokio::test]
async fn a_shopper_who_left_is_never_admitted() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let first = s.join("drop").await;
    let second = s.join("drop").await;
    assert_eq!(leave(&s, &first).await, StatusCode::NO_CONTENT);
    s.admit("drop", 1).await;
    assert!(s.state("drop", &first).await.admission.is_none());
    assert_eq!(
        s.state("drop", &second).await.stage,
        Some(Stage::Admitted),
        "the admission went to a ghost ticket"
    );
}

#[tokio::test]
async fn leaving_twice_answers_204_both_times() {
    let s = TestServer::start().await;
    s.experience("drop", 5).await;
    let me = s.join("drop").await;
    let behind = s.join("drop").await;
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    assert_eq!(
        s.state("drop", &behind).await.position,
        Some(1),
        "leaving twice moved the line twice"
    );
}

#[tokio::test]
async fn an_admitted_shopper_leaving_returns_every_unit_of_the_grant_to_stock() {
    let s = TestServer::start().await;
    let me = admitted(&s, 5).await;
    reserve(&s, &me, "k", 2).await;
    assert_eq!(available(&s, &me).await, 3);
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    let state = s.state("drop", &me).await;
    assert_eq!(
        state.stock.available, 5,
        "the grant's units were not returned"
    );
    assert_eq!(
        state.admission.map(|a| a.status),
        Some(AdmissionStatus::Expired),
        "a given-up grant is still active"
    );
    assert_eq!(leave(&s, &me).await, StatusCode::NO_CONTENT);
    assert_eq!(
        available(&s, &me).await,
        5,
        "leaving twice returned the units twice"
    );
}
