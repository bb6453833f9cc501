//! Messages as a server written straight from the guide sends them (no cursors, fewer
//! fields, its own names): the reducer still shows what that server means.

use livequeue_protocol::reducer::FeedMessage;
use livequeue_protocol::{FeedState, QueueState, ServerEvent, SseFrame, Stage, WsFrame};

fn snapshot(json: &str) -> FeedMessage {
    FeedMessage::Snapshot(serde_json::from_str::<QueueState>(json).expect("a state"))
}

fn sse(name: &str, data: &str) -> FeedMessage {
    match SseFrame::decode(name, data, "").expect("decodes") {
        SseFrame::Event(event, cursor) => FeedMessage::Event { event, cursor },
        SseFrame::State(state) => FeedMessage::Snapshot(state),
        SseFrame::Heartbeat(_) => panic!("not an update"),
    }
}

#[test]
fn the_servers_admitted_stage_wins_over_a_position_of_zero() {
    let mut feed = FeedState::new();
    feed.apply(snapshot(r#"{"position":3,"stage":"queued"}"#));
    feed.apply(snapshot(r#"{"position":0,"stage":"admitted"}"#));
    let state = feed.state().unwrap();
    assert_eq!(
        state.stage,
        Some(Stage::Admitted),
        "the server said admitted"
    );
    assert_eq!(state.position, None, "0 is no place in line");
}

#[test]
fn a_said_stage_stands_until_the_parts_imply_another() {
    let mut feed = FeedState::new();
    feed.apply(snapshot(
        r#"{"position":0,"stage":"admitted","stock":{"available":5,"total":9}}"#,
    ));
    feed.apply(sse("stock_update", r#"{"available":4,"total":9}"#));
    assert_eq!(feed.state().unwrap().stage, Some(Stage::Admitted));
    feed.apply(sse(
        "experience_update",
        r#"{"name":"Drop","status":"closed"}"#,
    ));
    assert_eq!(
        feed.state().unwrap().stage,
        Some(Stage::Closed),
        "closing the drop is news the parts show"
    );
}

#[test]
fn an_admission_with_the_guides_names_is_applied_not_dropped() {
    let mut feed = FeedState::new();
    feed.apply(snapshot(r#"{"position":1,"estimatedWait":10}"#));
    feed.apply(sse(
        "admission",
        r#"{"admissionToken":"tok","expiresAt":"2026-12-01T10:00:30Z"}"#,
    ));
    let state = feed.state().unwrap();
    assert_eq!(state.stage, Some(Stage::Admitted));
    let admission = state.admission.as_ref().unwrap();
    assert_eq!(admission.grant, "tok");
    assert_eq!(admission.expires_at, Some(1_796_119_230_000));
}

#[test]
fn a_position_update_without_a_wait_keeps_the_known_wait() {
    let mut feed = FeedState::new();
    feed.apply(snapshot(r#"{"position":9,"estimatedWaitSeconds":120}"#));
    feed.apply(sse("position_update", r#"{"position":8}"#));
    let state = feed.state().unwrap();
    assert_eq!(
        (state.position, state.estimated_wait_seconds),
        (Some(8), Some(120))
    );
    feed.apply(sse(
        "position_update",
        r#"{"position":7,"estimatedWaitSeconds":null}"#,
    ));
    assert_eq!(
        feed.state().unwrap().estimated_wait_seconds,
        None,
        "an explicit null is an unknown wait"
    );
}

#[test]
fn a_state_with_a_null_stage_is_kept_and_derives_its_stage() {
    let mut feed = FeedState::new();
    feed.apply(snapshot(
        r#"{"position":null,"stage":null,"stock":{"available":0,"total":10}}"#,
    ));
    assert_eq!(feed.state().unwrap().stage, Some(Stage::SoldOut));
}

#[test]
fn websocket_updates_without_cursors_decode() {
    let frame = WsFrame::decode(r#"{"type":"stock_update","data":{"available":3,"total":5}}"#)
        .expect("decodes");
    assert!(matches!(
        frame,
        WsFrame::Event(ServerEvent::StockUpdate(_), None)
    ));
}
