//! The browser's decoder ([`livequeue_protocol::json`] over `JSON.parse`, the protocol's
//! `FromJs`) reads every wire text as the server's serde derives do (`serde_json`, compiled
//! into this test for the comparison): the same value, or an error from both.

#![cfg(target_arch = "wasm32")]

use livequeue_protocol::api::ErrorBody;
use livequeue_protocol::event::{Heartbeat, PositionUpdate};
use livequeue_protocol::json;
use livequeue_protocol::state::{Admission, ExperienceView, QueueState, Stock};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use wasm_bindgen_test::wasm_bindgen_test;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Decodes each text both ways and compares.
fn same<T>(texts: &[&str])
where
    T: json::Decode + DeserializeOwned + PartialEq + Debug,
{
    for text in texts {
        let browser = json::from_str::<T>(text);
        let serde = serde_json::from_str::<T>(text).map_err(|e| e.to_string());
        match (&browser, &serde) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{text}: the browser read {browser:?}, serde read {serde:?}"),
        }
    }
}

#[wasm_bindgen_test]
fn full_states_read_alike() {
    same::<QueueState>(&[
        r#"{"experienceId":"demo-drop","consumerId":"c_1","position":1280,"estimatedWaitSeconds":96,"stage":"queued","stock":{"available":312,"total":500},"experience":{"name":"Demo drop","status":"open"},"admission":null,"cursor":{"epoch":17,"seq":42},"serverTime":1795820460123}"#,
        // Guide-style: few fields, other names, text timestamps, unknown fields and stages.
        r#"{"position": 12, "estimatedWait": 60}"#,
        r#"{"position": 3, "stage": "teleported", "extra": [1, {"a": 2}]}"#,
        r#"{"stage": null, "position": null, "admission": {"admissionToken": "t", "expiresAt": "2026-12-01T10:00:30.500Z"}}"#,
        r#"{"admission": {"token": "t", "expiresAt": "1795820460123", "checkoutUrl": "/c", "status": "redeemed", "reserved": 2}}"#,
        r#"{"admission": {"grant": "g", "expiresAt": -5}}"#,
        r#"{"admission": {"grant": "g", "expiresAt": 1.5e12}}"#,
        r#"{"admission": {"grant": "g", "expiresAt": true}}"#,
        r#"{"admission": {"grant": "g", "expiresAt": {"at": 1}}}"#,
        r#"{"experience": {"name": ""}, "stock": {"available": 3}}"#,
        r#"{}"#,
        // Errors in both.
        r#"{"position": "12"}"#,
        r#"{"position": -1}"#,
        r#"{"position": 1.5}"#,
        r#"{"stock": null}"#,
        r#"{"experience": {"status": "sleeping"}}"#,
        r#"{"admission": {"status": 3}}"#,
        r#"{"cursor": {"epoch": 1}}"#,
        r#"{"stage": 7}"#,
        r#"[1, 2]"#,
        r#""a text""#,
        "null",
        "{not json",
        "",
    ]);
}

#[wasm_bindgen_test]
fn update_payloads_read_alike() {
    same::<PositionUpdate>(&[
        r#"{"position": 4, "estimatedWaitSeconds": 30}"#,
        r#"{"position": 4, "estimatedWaitSeconds": null}"#,
        r#"{"position": 4}"#,
        r#"{"position": 4, "estimatedWait": 12}"#,
        r#"{"estimatedWaitSeconds": 30}"#,
        r#"{"position": 4, "estimatedWaitSeconds": "soon"}"#,
    ]);
    same::<Stock>(&[
        r#"{"available": 3, "total": 10}"#,
        r#"{"available": 3}"#,
        r#"{"available": "3"}"#,
        r#"3"#,
    ]);
    same::<Admission>(&[
        r#"{"grant": "g", "expiresAt": 100, "checkoutUrl": "https://shop.example/c", "status": "active"}"#,
        r#"{"grant": 5}"#,
        r#"{}"#,
    ]);
    same::<ExperienceView>(&[
        r#"{"name": "Drop", "status": "paused"}"#,
        r#"{"status": "closed"}"#,
        r#"{"name": null}"#,
    ]);
    same::<Heartbeat>(&[r#"{"serverTime": 1}"#, r#"{}"#, r#"{"serverTime": "1"}"#]);
}

#[wasm_bindgen_test]
fn error_bodies_and_plain_values_read_alike() {
    same::<ErrorBody>(&[
        r#"{"error": {"code": "not_found", "message": "no such experience"}}"#,
        r#"{"error": {"code": "brand_new_code", "message": "from a newer server"}}"#,
        r#"{"error": {"code": "gone"}}"#,
        r#"{"error": "gone"}"#,
        r#"{}"#,
    ]);
    same::<u64>(&["0", "42", "9007199254740991", "-1", "2.5", r#""7""#, "null"]);
    same::<String>(&[r#""c_1""#, r#""é\n""#, "1", "null"]);
}
