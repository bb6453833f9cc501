//! A queue server written the way the guide (`shared/seeds/`) writes one, for the widget's
//! browser tests: integrators will point the widget at servers like this, and it must work.
//!
//! What it does as the guide's code does, on purpose:
//! - `GET /api/sse/queue/{experienceId}?consumerId=`: the state as an unnamed `data:`
//!   message, then `event: {type}` / `data: {data}` for each published update of that
//!   shopper or of everyone; no `id:` lines (no cursors), no `retry:`; heartbeats are SSE
//!   *comments* (`: heartbeat`), which `EventSource` never shows to the page.
//! - `GET /ws/queue?consumerId=&experienceId=`: close 4000 without both; `initial_state`,
//!   then each update as published (`{type, data, consumerId?}`, no `epoch`/`seq`); `ping` →
//!   `pong`, `refresh` → `state_refresh`, anything unreadable → `{type:"error"}`.
//! - `GET /api/queue/{experienceId}?consumerId=`: the state as JSON (the guide's polling).
//! - No tokens, no cursors, and a join of its own (`POST /api/queue/{experienceId}/join`,
//!   answering only `{consumerId}`): the widget's join path gets Express's HTML 404.
//!
//! State is the guide's loose shape (`position`, `estimatedWait`, `stage`, `stock`,
//! `admission` with whatever fields) and is whatever the test sets it to. Test controls, not
//! in the guide: `PUT /control/state/{experienceId}/{consumerId}` sets a shopper's state
//! (JSON body, returned as is); `POST /control/publish/{experienceId}` publishes an update
//! `{type, data, consumerId?}` like the guide's `publishQueueUpdate`.
//!
//! Run: `cargo run -p livequeue-server --example guide_server -- 127.0.0.1:9001 [heartbeat-ms]`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures_util::stream::{self, StreamExt};
use livequeue_protocol::CloseCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tower_http::cors::CorsLayer;

/// One published update, as the guide's Redis channel carries it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Update {
    /// The event name (`position_update`, `stock_update`, `admission`, …).
    #[serde(rename = "type")]
    kind: String,
    /// The payload, sent as is.
    #[serde(default)]
    data: Value,
    /// Only this shopper gets it; everyone when absent.
    consumer_id: Option<String>,
    /// Filled from the path.
    #[serde(default)]
    experience_id: String,
}

#[derive(Clone)]
struct Guide {
    /// `(experience, consumer)` → the state `getQueueState` returns.
    states: Arc<Mutex<HashMap<(String, String), Value>>>,
    /// The guide's pub/sub channel (Redis there, a broadcast here).
    updates: broadcast::Sender<Update>,
    heartbeat: Duration,
}

impl Guide {
    /// The guide's `getQueueState(experienceId, consumerId)`.
    fn state(&self, experience: &str, consumer: &str) -> Value {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(experience.to_owned(), consumer.to_owned()))
            .cloned()
            .unwrap_or_else(|| {
                json!({
                    "position": 12,
                    "estimatedWait": 120,
                    "stock": { "available": 40, "total": 100 }
                })
            })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    consumer_id: Option<String>,
    experience_id: Option<String>,
}

async fn sse(
    State(guide): State<Guide>,
    Path(experience): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    let consumer = params.consumer_id.unwrap_or_default();
    let first = format!("data: {}\n\n", guide.state(&experience, &consumer));
    let updates = tokio_stream_of(guide.updates.subscribe());
    let mine = {
        let consumer = consumer.clone();
        move |u: &Update| {
            u.experience_id == experience && u.consumer_id.as_deref().is_none_or(|c| c == consumer)
        }
    };
    let events = updates
        .filter(move |u| std::future::ready(mine(u)))
        .map(|u| format!("event: {}\ndata: {}\n\n", u.kind, u.data));
    let beats = stream::unfold(guide.heartbeat, |every| async move {
        tokio::time::sleep(every).await;
        Some((": heartbeat\n\n".to_owned(), every))
    });
    let body = stream::iter([first])
        .chain(stream::select(events, beats))
        .map(Ok::<_, Infallible>);
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONNECTION, "keep-alive"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

fn tokio_stream_of(rx: broadcast::Receiver<Update>) -> impl futures_util::Stream<Item = Update> {
    stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(update) => return Some((update, rx)),
                // The guide has no answer to lag; this test server skips ahead.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

async fn poll(
    State(guide): State<Guide>,
    Path(experience): Path<String>,
    Query(params): Query<Params>,
) -> Json<Value> {
    Json(guide.state(&experience, &params.consumer_id.unwrap_or_default()))
}

async fn join(Path(_experience): Path<String>) -> Json<Value> {
    let id: u64 = rand::random();
    Json(json!({ "consumerId": format!("guide-{id:016x}") }))
}

async fn ws(
    State(guide): State<Guide>,
    Query(params): Query<Params>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| serve_ws(socket, guide, params))
}

async fn serve_ws(mut socket: WebSocket, guide: Guide, params: Params) {
    let (Some(consumer), Some(experience)) = (params.consumer_id, params.experience_id) else {
        let close = CloseCode::MissingParameters;
        let frame = CloseFrame {
            code: close.code(),
            reason: close.reason().into(),
        };
        // The peer may already be gone; nothing to do then.
        let _ = socket.send(Message::Close(Some(frame))).await;
        return;
    };
    let initial = json!({ "type": "initial_state", "data": guide.state(&experience, &consumer) });
    if socket
        .send(Message::Text(initial.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut updates = guide.updates.subscribe();
    loop {
        tokio::select! {
            update = updates.recv() => {
                let Ok(u) = update else { continue };
                if u.experience_id != experience
                    || u.consumer_id.as_deref().is_some_and(|c| c != consumer)
                {
                    continue;
                }
                let mut message = json!({ "type": u.kind, "data": u.data });
                if let Some(c) = u.consumer_id {
                    message["consumerId"] = json!(c);
                }
                if socket.send(Message::Text(message.to_string().into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                let Message::Text(text) = message else { continue };
                let reply = match serde_json::from_str::<Value>(&text) {
                    Ok(m) if m["type"] == "ping" => json!({ "type": "pong" }),
                    Ok(m) if m["type"] == "refresh" => json!({
                        "type": "state_refresh",
                        "data": guide.state(&experience, &consumer),
                    }),
                    Ok(_) => continue,
                    Err(_) => json!({ "type": "error", "message": "Invalid message format" }),
                };
                if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn set_state(
    State(guide): State<Guide>,
    Path((experience, consumer)): Path<(String, String)>,
    Json(state): Json<Value>,
) -> StatusCode {
    guide
        .states
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((experience, consumer), state);
    StatusCode::NO_CONTENT
}

async fn publish(
    State(guide): State<Guide>,
    Path(experience): Path<String>,
    Json(mut update): Json<Update>,
) -> StatusCode {
    update.experience_id = experience;
    // No subscriber is no error: nobody is listening yet.
    let _ = guide.updates.send(update);
    StatusCode::NO_CONTENT
}

/// Express's answer to a path it has no route for.
async fn not_found(method: Method, uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {method} {}</pre>\n</body>\n</html>\n",
            uri.path()
        ),
    )
        .into_response()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let heartbeat_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(30_000);
    let guide = Guide {
        states: Arc::default(),
        updates: broadcast::channel(256).0,
        heartbeat: Duration::from_millis(heartbeat_ms),
    };
    let app = Router::new()
        .route("/api/sse/queue/{experience_id}", get(sse))
        .route("/api/queue/{experience_id}", get(poll))
        .route("/api/queue/{experience_id}/join", post(join))
        .route("/ws/queue", get(ws))
        .route(
            "/control/state/{experience_id}/{consumer_id}",
            put(set_state),
        )
        .route("/control/publish/{experience_id}", post(publish))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .layer(CorsLayer::very_permissive())
        .with_state(guide);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    println!("guide-style server on http://{addr}");
    axum::serve(listener, app)
        .await
        .unwrap_or_else(|e| panic!("server failed: {e}"));
}
