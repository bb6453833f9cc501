//! The thin front: the accept loop, and the first request head of every connection.
//!
//! # Why it exists
//!
//! A drop's shoppers hold their event streams open for many minutes, mostly idle, and the
//! node's memory per open connection is a product figure (≤ 4 KB). Served by hyper, an
//! idle HTTP/1 event stream costs about 19 KB: an 8 KB header buffer, and a read buffer
//! that grows to 16 KB while the body streams, because hyper keeps a read pending to
//! notice the peer (`http1::Builder::max_buf_size` cannot go below 8 KB). So the front
//! reads each connection's first request head into a small bounded buffer
//! ([`head::FIRST_READ`], at most [`head::MAX_HEAD`]) and parses it with `httparse`:
//!
//! - a `GET` of an event-stream route ([`head::STREAM_ROUTES`]) is answered by the same
//!   router as everything else, and the answer's bytes are written on the bare socket
//!   ([`stream`]): no buffer is kept while the stream is idle;
//! - everything else (other routes, WebSocket upgrades, bodies, HTTP/2, heads that do not
//!   parse) goes to hyper with the bytes read so far ([`prefixed::Prefixed`]) and is served
//!   exactly as before, keep-alive and upgrades included. A WebSocket gives hyper's buffers
//!   back at the upgrade, so it gains nothing from the front.
//!
//! A head that trickles in (slowloris) is dropped after [`crate::Config::head_timeout`]; hyper applies the
//! same limit to the later heads of the connections it serves.
//!
//! Behind nginx, a stream request that nginx sends on one of its kept-alive upstream
//! connections (at most `keepalive` idle ones per worker, 32 in `deploy/nginx.conf`) reaches
//! hyper instead; it is served the same, at hyper's cost.

pub mod direct;
pub mod head;
pub mod prefixed;
pub mod stream;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use head::Decision;
use prefixed::Prefixed;

/// How long a client may take to send a whole request head, by default
/// ([`crate::Config::head_timeout`]).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` and serves them with `router` until `signal`
/// resolves; then stops accepting, asks hyper's connections to finish their requests and
/// close, and returns when every connection is gone. Event streams are ended by the
/// engine's shutdown, which the caller runs before `signal` resolves.
pub async fn run(
    listener: TcpListener,
    router: Router,
    head_timeout: Duration,
    signal: impl Future<Output = ()>,
) {
    // Every connection task holds a receiver: `closed()` is then "all connections gone",
    // and a value sent on it tells them to finish.
    let (stop, stopping) = watch::channel(());
    let mut signal = pin!(signal);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        tokio::spawn(connection(
            socket,
            router.clone(),
            head_timeout,
            stopping.clone(),
        ));
    }
    drop(listener);
    drop(stopping);
    // Nobody may be listening any more; the send only wakes those who are.
    let _ = stop.send(());
    stop.closed().await;
}

/// Errors of `accept` that concern one connection are skipped; others (out of file
/// descriptors, say) pause accepting for a moment rather than spin.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%e, "accept failed; pausing for 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// One connection: its first head, then the front's stream or hyper.
///
/// Not an `async fn`: an async fn keeps its arguments twice in its future
/// (rust-lang/rust#62958), and an event stream's task is sized by this future for the
/// stream's whole life. The block uses the arguments where it captured them.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
fn connection(
    socket: TcpStream,
    router: Router,
    head_timeout: Duration,
    mut stopping: watch::Receiver<()>,
) -> impl Future<Output = ()> {
    async move {
        // Frames are written whole, one write each: nothing is gained by waiting to merge
        // them.
        if let Err(e) = socket.set_nodelay(true) {
            tracing::debug!(%e, "TCP_NODELAY not set");
        }
        let read = tokio::select! {
            read = tokio::time::timeout(head_timeout, first_head(&socket)) => read,
            _ = stopping.changed() => return,
        };
        match read {
            Err(_) => tracing::debug!("request head not received within the limit; closed"),
            Ok(Err(e)) => tracing::debug!(%e, "connection closed before its first request"),
            Ok(Ok((_, Decision::Stream(request)))) => {
                stream::serve(socket, router, request).await;
            }
            // Boxed: hyper's connection state is large, and inline it would size every
            // connection's task, event streams' included, for it.
            Ok(Ok((bytes, _))) => {
                Box::pin(hyper(
                    Prefixed::new(bytes, socket),
                    router,
                    head_timeout,
                    stopping,
                ))
                .await;
            }
        }
    }
}

/// Reads until [`head::classify`] decides; the bytes read so far go with the decision.
async fn first_head(socket: &TcpStream) -> io::Result<(Bytes, Decision)> {
    let mut buf = BytesMut::with_capacity(head::FIRST_READ);
    loop {
        socket.readable().await?;
        if buf.len() == buf.capacity() {
            buf.reserve(buf.len());
        }
        match socket.try_read_buf(&mut buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
        match head::classify(&buf) {
            Decision::Partial if buf.len() < head::MAX_HEAD => {}
            Decision::Partial => return Ok((buf.freeze(), Decision::Hyper)),
            decision => return Ok((buf.freeze(), decision)),
        }
    }
}

/// Serves the rest of the connection with hyper, as `axum::serve` would (HTTP/1 and 2,
/// upgrades), plus a limit on the time to send each later head.
async fn hyper(
    io: Prefixed,
    router: Router,
    head_timeout: Duration,
    mut stopping: watch::Receiver<()>,
) {
    let service = TowerToHyperService::new(
        router.map_request(|r: axum::http::Request<Incoming>| r.map(Body::new)),
    );
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    builder.http2().enable_connect_protocol();
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(io), service));
    let mut finishing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(%e, "connection ended with an error");
                }
                return;
            }
            changed = stopping.changed(), if !finishing => {
                // Sent (shutting down) or the sender gone: either way, finish.
                let _ = changed;
                finishing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
