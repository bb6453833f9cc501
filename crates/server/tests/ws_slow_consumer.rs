//! The WebSocket loop is generic over its socket, so a peer that stops reading can be played
//! by a test sink: the connection must close with 4008 instead of buffering without limit.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use livequeue_protocol::CloseCode;
use livequeue_protocol::api::CreateExperience;
use livequeue_server::Config;
use livequeue_server::engine::memory::MemoryEngine;
use livequeue_server::engine::{EngineConfig, Push};
use livequeue_server::routes::ws::run;

/// Takes the first text message, then never finishes sending another; close frames go
/// through (as a kernel would still accept a small control frame into a fuller buffer).
#[derive(Clone, Default)]
struct StalledPeer {
    sent: Arc<Mutex<Vec<Message>>>,
}

impl Sink<Message> for StalledPeer {
    type Error = axum::Error;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        self.sent.lock().unwrap().push(item);
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let sent = self.sent.lock().unwrap();
        let texts = sent
            .iter()
            .filter(|m| matches!(m, Message::Text(_)))
            .count();
        if texts > 1 && !matches!(sent.last(), Some(Message::Close(_))) {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

impl Stream for StalledPeer {
    type Item = Result<Message, axum::Error>;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Pending
    }
}

/// Runs a connection against a [`StalledPeer`] until the loop ends; returns the engine (for
/// its counters) and every message the peer was given.
async fn run_against_a_stalled_peer() -> (Arc<MemoryEngine>, Vec<Message>) {
    let engine = MemoryEngine::new(EngineConfig::default());
    engine
        .create(CreateExperience {
            id: "drop".into(),
            name: "Drop".into(),
            stock: 10,
            admission_rate_per_minute: 0.0,
            checkout_url: "/c".into(),
            grant_ttl_seconds: None,
        })
        .unwrap();
    let (consumer, _) = engine.join("drop").unwrap();
    let (start, sub) = engine
        .subscribe("drop", &consumer, Push::WebSocket, None)
        .unwrap();
    let config = Config {
        ws_send_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let peer = StalledPeer::default();
    let sent = peer.sent.clone();
    let task = tokio::spawn(async move { run(peer, start, sub, &config).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    engine.patch("drop", &restock(20)).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the loop ends")
        .unwrap();
    let sent = sent.lock().unwrap().clone();
    (engine, sent)
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_closed_with_4008() {
    let (_, sent) = run_against_a_stalled_peer().await;
    match sent.last() {
        Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::SlowConsumer.code()),
        other => panic!("expected a 4008 close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_consumer_close_counts_in_the_metrics() {
    let (engine, _) = run_against_a_stalled_peer().await;
    let counters = engine.counters();
    assert_eq!(
        counters
            .slow_consumer_disconnects
            .get(Push::WebSocket)
            .get(),
        1,
        "the 4008 close is not counted"
    );
    assert_eq!(
        counters.connections.get(Push::WebSocket).get(),
        0,
        "the closed connection is still counted as open"
    );
}

fn restock(total: u64) -> livequeue_protocol::api::PatchExperience {
    livequeue_protocol::api::PatchExperience {
        stock: Some(total),
        ..Default::default()
    }
}
