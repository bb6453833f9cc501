//! Every JSON example in `docs/PROTOCOL.md` parses as the type its fence names, and
//! serializes back to the same JSON value: the document and the code cannot drift apart.

use livequeue_protocol::api::{
    AdmitRequest, CreateExperience, EntriesPage, ErrorBody, ExperienceList, ExperienceSummary,
    JoinResponse, OperatorFigures, PatchExperience, RedeemRequest, RedeemResponse, ReserveRequest,
    ReserveResponse, StreamTicket, SyntheticJoins,
};
use livequeue_protocol::event::Heartbeat;
use livequeue_protocol::{
    Admission, Cursor, ExperienceView, PositionUpdate, QueueState, Stock, WsClientMessage,
    WsServerMessage,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const DOC: &str = include_str!("../../../docs/PROTOCOL.md");

/// The `(type name, json text)` of every fenced block whose info string is `json TypeName`.
fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim().strip_prefix("```json") else {
            continue;
        };
        let name = info.trim().to_string();
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        out.push((name, body.join("\n")));
    }
    out
}

fn round_trip<T: DeserializeOwned + Serialize>(name: &str, json: &str) {
    let value: Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("{name} example is not JSON: {e}\n{json}"));
    let parsed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{name} example does not parse as {name}: {e}\n{json}"));
    let back = serde_json::to_value(&parsed).expect("serializes");
    assert_eq!(
        back, value,
        "{name} example does not serialize back to itself"
    );
}

#[test]
fn every_documented_example_round_trips_through_its_type() {
    let examples = examples();
    assert!(
        examples.len() >= 20,
        "expected the doc's examples, found {}",
        examples.len()
    );
    for (name, json) in &examples {
        match name.as_str() {
            "Cursor" => round_trip::<Cursor>(name, json),
            "QueueState" => round_trip::<QueueState>(name, json),
            "PositionUpdate" => round_trip::<PositionUpdate>(name, json),
            "Stock" => round_trip::<Stock>(name, json),
            "Admission" => round_trip::<Admission>(name, json),
            "ExperienceView" => round_trip::<ExperienceView>(name, json),
            "Heartbeat" => round_trip::<Heartbeat>(name, json),
            "WsServerMessage" => round_trip::<WsServerMessage>(name, json),
            "WsClientMessage" => round_trip::<WsClientMessage>(name, json),
            "JoinResponse" => round_trip::<JoinResponse>(name, json),
            "RedeemRequest" => round_trip::<RedeemRequest>(name, json),
            "RedeemResponse" => round_trip::<RedeemResponse>(name, json),
            "ReserveRequest" => round_trip::<ReserveRequest>(name, json),
            "ReserveResponse" => round_trip::<ReserveResponse>(name, json),
            "EntriesPage" => round_trip::<EntriesPage>(name, json),
            "CreateExperience" => round_trip::<CreateExperience>(name, json),
            "PatchExperience" => round_trip::<PatchExperience>(name, json),
            "AdmitRequest" => round_trip::<AdmitRequest>(name, json),
            "ExperienceSummary" => round_trip::<ExperienceSummary>(name, json),
            "ExperienceList" => round_trip::<ExperienceList>(name, json),
            "StreamTicket" => round_trip::<StreamTicket>(name, json),
            "OperatorFigures" => round_trip::<OperatorFigures>(name, json),
            "SyntheticJoins" => round_trip::<SyntheticJoins>(name, json),
            "ErrorBody" => round_trip::<ErrorBody>(name, json),
            other => panic!("docs/PROTOCOL.md names type `{other}`, which this test does not know"),
        }
    }
}

#[test]
fn documented_queue_states_have_the_stage_their_fields_imply() {
    for (name, json) in examples() {
        if name == "QueueState" {
            let state: QueueState = serde_json::from_str(&json).expect("parses");
            assert_eq!(
                state.stage,
                Some(state.derive_stage()),
                "documented stage disagrees:\n{json}"
            );
        }
    }
}

#[test]
fn the_lean_websocket_decoder_agrees_with_the_typed_one_on_every_documented_message() {
    use livequeue_protocol::event::WsFrame;
    use livequeue_protocol::{ServerEvent, WsServerMessage};
    for (name, json) in examples() {
        if name != "WsServerMessage" {
            continue;
        }
        let typed = WsServerMessage::decode(&json).expect("typed decode");
        let lean = WsFrame::decode(&json).expect("lean decode");
        let expected = match typed {
            WsServerMessage::InitialState { data } | WsServerMessage::StateRefresh { data } => {
                WsFrame::State(data)
            }
            WsServerMessage::Pong => WsFrame::Pong,
            WsServerMessage::Error { message } => WsFrame::Error(message),
            WsServerMessage::PositionUpdate { data, epoch, seq } => {
                WsFrame::Event(ServerEvent::PositionUpdate(data), cursor(epoch, seq))
            }
            WsServerMessage::StockUpdate { data, epoch, seq } => {
                WsFrame::Event(ServerEvent::StockUpdate(data), cursor(epoch, seq))
            }
            WsServerMessage::Admission { data, epoch, seq } => {
                WsFrame::Event(ServerEvent::Admission(data), cursor(epoch, seq))
            }
            WsServerMessage::ExperienceUpdate { data, epoch, seq } => {
                WsFrame::Event(ServerEvent::ExperienceUpdate(data), cursor(epoch, seq))
            }
        };
        assert_eq!(lean, expected, "the decoders disagree on {json}");
    }
    for bad in [
        "",
        "{}",
        r#"{"type":"surprise","data":{}}"#,
        r#"{"type":"stock_update","data":"x"}"#,
        "[1]",
    ] {
        assert!(WsFrame::decode(bad).is_err(), "{bad:?} must be rejected");
    }
}

fn cursor(epoch: Option<u64>, seq: Option<u64>) -> Option<Cursor> {
    Some(Cursor {
        epoch: epoch?,
        seq: seq?,
    })
}

/// The rows of the markdown table whose header row starts with `| {first} |`.
fn table_rows(first: &str) -> Vec<Vec<String>> {
    let header = format!("| {first} |");
    let mut lines = DOC.lines().skip_while(|l| !l.starts_with(&header)).skip(2);
    let mut rows = Vec::new();
    for line in lines.by_ref().take_while(|l| l.starts_with('|')) {
        rows.push(
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().trim_matches('`').to_owned())
                .collect(),
        );
    }
    rows
}

#[test]
fn the_close_code_table_is_the_close_codes_of_the_code() {
    use livequeue_protocol::{CloseCode, Reconnect};
    let rows = table_rows("close code");
    assert!(rows.len() >= 9, "the close-code table was not found");
    for row in rows {
        let number: u16 = row[0].parse().expect("a close code number");
        let code = CloseCode::from_code(number)
            .unwrap_or_else(|| panic!("{number} is documented but not a CloseCode"));
        assert_eq!(row[1], code.reason(), "the reason of {number}");
        let says = match code.reconnect() {
            Reconnect::Soon => "reconnect soon",
            Reconnect::Backoff => "reconnect with backoff",
            Reconnect::Later => "reconnect later",
            Reconnect::Rejoin => "rejoin",
            Reconnect::Stop => "stop",
        };
        assert!(
            row[2].starts_with(says),
            "the doc says `{}` for {number}, the code says {says}",
            row[2]
        );
    }
}

#[test]
fn the_error_table_is_the_error_codes_of_the_code() {
    use livequeue_protocol::ErrorCode;
    let rows = table_rows("status");
    let mut documented = Vec::new();
    for row in rows.iter().filter(|r| r[1] != "—") {
        let code = ErrorCode::parse(&row[1]);
        assert_ne!(code, ErrorCode::Unknown, "`{}` is not an ErrorCode", row[1]);
        assert_eq!(
            row[0],
            code.http_status().to_string(),
            "the status of {code}"
        );
        documented.push(code);
    }
    for code in ErrorCode::ALL {
        assert!(documented.contains(&code), "{code} is not documented");
    }
}
