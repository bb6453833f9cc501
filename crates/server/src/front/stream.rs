//! The router's answer to an event-stream request, written on the bare socket.
//!
//! The request was parsed by [`super::head`]; the answer comes from the same router as
//! every other request (auth, Origin rules, error bodies, CORS and security headers are
//! all the router's). Only the bytes on the wire are written here: the status line and
//! headers, then each frame of the body as one HTTP/1.1 chunk, in one vectored write,
//! straight from the broadcast's shared bytes. A connection holds no read buffer while it
//! is idle: a closed peer is noticed through the socket's readiness and a 64-byte probe.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use bytes::{BufMut, Bytes, BytesMut};
use http_body::Body as _;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tower::ServiceExt;

use super::direct::{BoxFrames, Frames};

/// Largest whole (non-stream) answer the front writes: these are JSON error bodies of a
/// few hundred bytes; a longer one is cut off with the connection.
const MAX_WHOLE_BODY: usize = 64 * 1024;

/// Serves `request` with `router` on `socket`, then closes it.
///
/// What this future holds while a stream is idle is paid per open connection, so the
/// parts that live only around the answer's head are boxed: the router's future (every
/// layer's and the handler's), a refusal's writing, the head itself.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
pub fn serve(
    mut socket: TcpStream,
    router: Router,
    request: Box<Request<Body>>,
) -> impl Future<Output = ()> {
    // Not an `async fn`, which would keep its arguments twice (rust-lang/rust#62958).
    async move {
        let response = match Box::pin(router.oneshot(*request)).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let result = if is_event_stream(&response) {
            let direct = response.extensions().get::<Frames>().and_then(Frames::take);
            let (head, body) = stream_head(response);
            let source = match direct {
                Some(frames) => Source::Direct(frames),
                None => Source::Body(body),
            };
            match write_all(&mut socket, &mut [IoSlice::new(&head)]).await {
                Ok(()) => {
                    drop(head);
                    stream(&mut socket, source).await
                }
                Err(e) => Err(e),
            }
        } else {
            Box::pin(whole(&mut socket, response)).await
        };
        if let Err(e) = result {
            tracing::debug!(%e, "event stream connection ended");
        }
        // The peer may already be gone; there is nothing left to tell it.
        let _ = socket.shutdown().await;
    }
}

fn is_event_stream(response: &Response<Body>) -> bool {
    response.status().is_success()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
}

/// An answer with a length (a refusal): written whole, and the connection closed after it.
async fn whole(socket: &mut TcpStream, response: Response<Body>) -> io::Result<()> {
    let (mut parts, body) = response.into_parts();
    let body = http_body_util::Limited::new(body, MAX_WHOLE_BODY)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| io::Error::other(format!("answer body: {e}")))?;
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    parts
        .headers
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    let head = head(&Response::from_parts(parts, ()));
    write_all(socket, &mut [IoSlice::new(&head), IoSlice::new(&body)]).await
}

/// The head of an event stream's answer (chunked), and its body.
fn stream_head(response: Response<Body>) -> (BytesMut, Body) {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::TRANSFER_ENCODING,
        HeaderValue::from_static("chunked"),
    );
    (head(&Response::from_parts(parts, ())), body)
}

/// Where an event stream's frames come from.
enum Source {
    /// Straight from the handler ([`super::direct`]).
    Direct(BoxFrames),
    /// Through the router's layers (a stream the handler did not hand over).
    Body(Body),
}

impl Source {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        match self {
            Source::Direct(frames) => frames.as_mut().poll_next(cx).map(|f| f.map(Ok)),
            Source::Body(body) => loop {
                return match ready!(Pin::new(&mut *body).poll_frame(cx)) {
                    None => Poll::Ready(None),
                    Some(Err(e)) => Poll::Ready(Some(Err(io::Error::other(e)))),
                    // Trailers and empty frames carry nothing for an event stream.
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) if !data.is_empty() => Poll::Ready(Some(Ok(data))),
                        _ => continue,
                    },
                };
            },
        }
    }
}

/// An event stream's frames: chunked, one by one, until they end (the server shuts down)
/// or the peer goes.
async fn stream(socket: &mut TcpStream, mut source: Source) -> io::Result<()> {
    loop {
        // Polled by hand rather than with `select!`: the state kept between wake-ups is
        // two references, not two futures (this loop is where idle streams spend their
        // lives, so its size is paid per connection).
        let next = std::future::poll_fn(|cx| {
            if let Poll::Ready(frame) = source.poll_next(cx) {
                return Poll::Ready(Next::Frame(frame));
            }
            socket.poll_read_ready(cx).map(|ready| match ready {
                Ok(()) => Next::Readable,
                Err(_) => Next::PeerGone,
            })
        })
        .await;
        match next {
            Next::Frame(None) => return write_all(socket, &mut [IoSlice::new(b"0\r\n\r\n")]).await,
            Next::Frame(Some(Err(e))) => return Err(e),
            Next::Frame(Some(Ok(data))) => write_chunk(socket, &data).await?,
            Next::Readable => {
                if peer_closed(socket) {
                    return Ok(());
                }
            }
            Next::PeerGone => return Ok(()),
        }
    }
}

enum Next {
    Frame(Option<io::Result<Bytes>>),
    /// The socket has something to read: usually the peer's close.
    Readable,
    /// The socket broke.
    PeerGone,
}

/// After the socket became readable: `true` if that is because the peer closed it (or it
/// broke). A client of an event stream sends nothing after its request, so bytes that do
/// come are read and dropped.
fn peer_closed(socket: &TcpStream) -> bool {
    let mut probe = [0u8; 64];
    match socket.try_read(&mut probe) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// One chunk: its size line, the data and the CRLF, in one vectored write.
async fn write_chunk(socket: &mut TcpStream, data: &Bytes) -> io::Result<()> {
    let mut size = [0u8; 18];
    let line = chunk_size_line(data.len(), &mut size);
    write_all(
        socket,
        &mut [
            IoSlice::new(line),
            IoSlice::new(data),
            IoSlice::new(b"\r\n"),
        ],
    )
    .await
}

/// `len` in hex followed by CRLF, in `buf`.
fn chunk_size_line(len: usize, buf: &mut [u8; 18]) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut at = 16;
    let mut n = len;
    loop {
        at -= 1;
        buf[at] = HEX[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    buf[16] = b'\r';
    buf[17] = b'\n';
    &buf[at..]
}

/// Writes every byte of `parts`, however the kernel splits the writes.
async fn write_all(socket: &mut TcpStream, mut parts: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !parts.is_empty() {
        let n = socket.write_vectored(parts).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut parts, n);
    }
    Ok(())
}

/// The status line and headers of `response`, with the `Date` every origin server sends.
fn head(response: &Response<()>) -> BytesMut {
    let mut out = BytesMut::with_capacity(512);
    let status = response.status();
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.put_slice(b"\r\n");
    for (name, value) in response.headers() {
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    if !response.headers().contains_key(header::DATE) {
        out.put_slice(b"date: ");
        out.put_slice(httpdate::fmt_http_date(SystemTime::now()).as_bytes());
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_are_lowercase_hex_lines() {
        let mut buf = [0u8; 18];
        assert_eq!(chunk_size_line(0, &mut buf), b"0\r\n");
        assert_eq!(chunk_size_line(255, &mut buf), b"ff\r\n");
        assert_eq!(chunk_size_line(4096, &mut buf), b"1000\r\n");
        assert_eq!(
            chunk_size_line(usize::MAX, &mut buf),
            b"ffffffffffffffff\r\n"
        );
    }

    #[test]
    fn a_head_has_its_status_headers_and_date() {
        let response = Response::builder()
            .status(401)
            .header("content-type", "application/json")
            .body(())
            .unwrap();
        let head = String::from_utf8(head(&response).to_vec()).unwrap();
        assert!(head.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{head}");
        assert!(
            head.contains("\r\ncontent-type: application/json\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\ndate: "), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "{head}");
    }
}
