//! The WebSocket endpoint against a real server: messages, every close code, origins.

mod common;

use std::time::Duration;

use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use livequeue_protocol::WsServerMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(s: &TestServer, query: &str) -> Ws {
    connect_async(s.ws_url(query)).await.expect("upgrade").0
}

async fn shopper(s: &TestServer) -> (Ws, String) {
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let query = format!(
        "experienceId=drop&consumerId={}&token={}",
        me.consumer_id, me.token
    );
    (connect(s, &query).await, me.consumer_id)
}

/// The next text message, parsed; pings are skipped.
async fn next(ws: &mut Ws) -> WsServerMessage {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s");
        match m.expect("open").expect("no error") {
            Message::Text(t) => {
                return WsServerMessage::decode(t.as_str()).expect("a protocol message");
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The close code the server ends with.
async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("closed within 5 s")
        {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("error instead of a close frame: {e}"),
        }
    }
}

#[tokio::test]
async fn the_first_message_is_the_state_and_updates_carry_cursors() {
    let s = TestServer::start().await;
    let (mut ws, me) = shopper(&s).await;
    let WsServerMessage::InitialState { data } = next(&mut ws).await else {
        panic!("initial_state first")
    };
    assert_eq!(data.consumer_id, me);
    s.set_stock("drop", 15).await;
    match next(&mut ws).await {
        WsServerMessage::StockUpdate { data, epoch, seq } => {
            assert_eq!(data.total, 15);
            assert_eq!(epoch, Some(data_epoch(&s)));
            assert_eq!(seq, Some(1));
        }
        other => panic!("expected stock_update, got {other:?}"),
    }
}

fn data_epoch(s: &TestServer) -> u64 {
    s.memory_epoch()
}

#[tokio::test]
async fn ping_refresh_and_invalid_messages_are_answered_and_the_connection_stays_open() {
    let s = TestServer::start().await;
    let (mut ws, _) = shopper(&s).await;
    next(&mut ws).await;
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(next(&mut ws).await, WsServerMessage::Pong);
    ws.send(Message::text(r#"{"type":"refresh"}"#))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut ws).await,
        WsServerMessage::StateRefresh { .. }
    ));
    for junk in ["not json", r#"{"type":"dance"}"#, "{}", r#"{"type":5}"#] {
        ws.send(Message::text(junk)).await.unwrap();
        assert_eq!(
            next(&mut ws).await,
            WsServerMessage::Error {
                message: "Invalid message format".into()
            }
        );
    }
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        WsServerMessage::Pong,
        "still open after bad input"
    );
}

#[tokio::test]
async fn missing_parameters_close_with_4000_and_bad_tokens_with_4001() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let mut ws = connect(&s, "experienceId=drop").await;
    assert_eq!(close_code(&mut ws).await, 4000);
    let mut ws = connect(
        &s,
        &format!(
            "experienceId=drop&consumerId={}&token=forged",
            me.consumer_id
        ),
    )
    .await;
    assert_eq!(close_code(&mut ws).await, 4001);
    let other = s.join("drop").await;
    let mut ws = connect(
        &s,
        &format!(
            "experienceId=drop&consumerId={}&token={}",
            other.consumer_id, me.token
        ),
    )
    .await;
    assert_eq!(
        close_code(&mut ws).await,
        4001,
        "my token must not open another shopper's feed"
    );
    let mut ws = connect(
        &s,
        &format!(
            "experienceId=nope&consumerId={}&token={}",
            me.consumer_id, me.token
        ),
    )
    .await;
    assert_eq!(close_code(&mut ws).await, 4004);
}

#[tokio::test]
async fn binary_frames_close_with_1003_and_oversize_messages_with_1009() {
    let s = TestServer::start().await;
    let (mut ws, _) = shopper(&s).await;
    next(&mut ws).await;
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(close_code(&mut ws).await, u16::from(CloseCode::Unsupported));

    let me = s.join("drop").await;
    let query = format!(
        "experienceId=drop&consumerId={}&token={}",
        me.consumer_id, me.token
    );
    let mut ws = connect(&s, &query).await;
    next(&mut ws).await;
    ws.send(Message::text(format!(
        "{{\"type\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(20 * 1024)
    )))
    .await
    .unwrap();
    assert_eq!(close_code(&mut ws).await, 1009);
}

#[tokio::test]
async fn an_upgrade_from_a_foreign_origin_is_refused_with_403() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let query = format!(
        "experienceId=drop&consumerId={}&token={}",
        me.consumer_id, me.token
    );
    let mut request = s.ws_url(&query).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match connect_async(request).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    let mut request = s.ws_url(&query).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://shop.example".parse().unwrap());
    let (mut ws, _) = connect_async(request)
        .await
        .expect("a configured origin may connect");
    assert!(matches!(
        next(&mut ws).await,
        WsServerMessage::InitialState { .. }
    ));
}

#[tokio::test]
async fn an_admission_reaches_the_socket_and_is_in_the_state_after_reconnect() {
    let s = TestServer::start().await;
    s.experience("drop", 10).await;
    let me = s.join("drop").await;
    let query = format!(
        "experienceId=drop&consumerId={}&token={}",
        me.consumer_id, me.token
    );
    let mut ws = connect(&s, &query).await;
    next(&mut ws).await;
    s.admit("drop", 1).await;
    let grant = loop {
        if let WsServerMessage::Admission { data, seq, .. } = next(&mut ws).await {
            assert_eq!(
                seq,
                Some(1),
                "the admission is consistent with its stock broadcast"
            );
            break data.grant;
        }
    };
    drop(ws);
    let mut again = connect(&s, &query).await;
    let WsServerMessage::InitialState { data } = next(&mut again).await else {
        panic!("initial_state first")
    };
    assert_eq!(
        data.admission.map(|a| a.grant),
        Some(grant),
        "a dropped connection never loses the turn"
    );
}

#[tokio::test]
async fn a_peer_that_answers_no_ping_for_two_intervals_is_closed() {
    let mut config = common::config();
    config.engine.ws_ping = Duration::from_secs(1);
    let s = TestServer::with_config(config).await;
    let (_ws, _) = shopper(&s).await;
    // Not reading means not answering the server's pings. (Reading now would answer the
    // buffered pings into a socket the server already closed, so the server side is checked.)
    let connections = || s.state.engine.connections();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(connections(), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while connections() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the silent peer was never closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1012_and_ends_sse_streams_within_five_seconds() {
    let mut s = TestServer::start().await;
    let (mut ws, _) = shopper(&s).await;
    next(&mut ws).await;
    let me = s.join("drop").await;
    let mut sse = s.sse("drop", &me, None).await;
    sse.next().await;
    let took = s.shutdown().await;
    assert_eq!(close_code(&mut ws).await, 1012);
    assert!(
        sse.ends_within(Duration::from_secs(1)).await,
        "the SSE stream must end on shutdown"
    );
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
}
