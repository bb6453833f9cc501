//! One push client of the reconnect storm: it opens its stream, holds it, and when the
//! stream drops comes back the way the widget does, by the protocol's [`Supervisor`]
//! (full-jitter backoff, the attempt counter reset on every open, the close code's hint:
//! `1012` comes back within the first delay). The loadgen only performs what the
//! supervisor commands, like the widget's shell; no policy is decided here.
//!
//! One difference from a browser, on purpose: a browser's `EventSource` first retries by
//! itself after the server's `retry:` (2–4 s, jittered by the server), and the widget's
//! supervisor takes over only when it gives up. Here the supervisor decides every SSE
//! retry too (the first within 1 s), which brings the clients back sooner and closer
//! together: a harsher storm than browsers would make.
//!
//! Everything a client does is written into one shared [`StormTally`], lock-free but for
//! the error reasons: per-client "back" instants and per-second buckets of attempts,
//! accepts, failures and hangs, counted from the restart.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use livequeue_protocol::supervisor::{Command, Event, Failure, Supervisor, SupervisorConfig};
use livequeue_protocol::{CloseCode, ExperienceId};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::api::Shopper;
use crate::scan::AvailableScanner;
use crate::transport::{Transport, connect_from, source_ip};
use crate::{sse, ws};

/// Per-second buckets kept after the restart; later events fall into the last one.
pub const MAX_SECONDS: usize = 600;

/// A source of jitter in `[0, 1)` for the supervisor: SplitMix64, one per client, seeded
/// apart. The policy takes its randomness as a number so that it stays pure; this is the
/// loadgen's `Math.random()`, and needs no dependency.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// A generator for client `index`, different for every process too.
    pub fn new(index: usize, salt: u64) -> Self {
        Self(salt ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The next number, uniform in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Finds the end of a chunked body (`0\r\n\r\n` after a chunk's `\r\n`) in bytes that
/// arrive in arbitrary pieces. An SSE stream the server ends on shutdown ends this way,
/// and hyper may keep the connection itself open a while: a browser's `EventSource` takes
/// the end of the body as the drop, so does this.
#[derive(Debug, Default, Clone)]
pub struct BodyEnd {
    /// The last bytes seen, at most the terminator's length.
    tail: Vec<u8>,
}

/// The last chunk and the empty trailer of a chunked body.
const LAST_CHUNK: &[u8] = b"\r\n0\r\n\r\n";

impl BodyEnd {
    /// Whether the body ended within what has been fed so far (including `bytes`).
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(&bytes[bytes.len().saturating_sub(LAST_CHUNK.len())..]);
        let ended = joined.ends_with(LAST_CHUNK);
        let keep = joined.len().saturating_sub(LAST_CHUNK.len());
        self.tail = joined.split_off(keep);
        ended
    }
}

/// One second's events after the restart.
#[derive(Debug, Default)]
struct Bucket {
    started: AtomicU32,
    accepted: AtomicU32,
    failed: AtomicU32,
    hung: AtomicU32,
}

/// One second of the storm, as reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Second {
    /// Seconds since the restart (this bucket is `[second, second + 1)`).
    pub second: usize,
    /// Attempts begun.
    pub attempts: u32,
    /// Attempts that got their first state (the client is back).
    pub accepted: u32,
    /// Attempts that failed within the attempt timeout.
    pub failed: u32,
    /// Attempts that hung past the attempt timeout.
    pub hung: u32,
}

/// What every client of a storm reports into.
#[derive(Debug)]
pub struct StormTally {
    /// Instants are nanoseconds since this.
    origin: Instant,
    /// The restart instant, ns since the origin, + 1 (0: not yet).
    restart: AtomicU64,
    /// Clients whose first stream (before the restart) delivered its first state.
    ready: AtomicUsize,
    /// `[client]`: when it was back after the restart (first state of an attempt begun
    /// after it), ns since the origin, + 1 (0: not back).
    back: Vec<AtomicU64>,
    /// Clients back.
    back_count: AtomicUsize,
    /// Clients whose supervisor gave up (before or after the restart).
    given_up: AtomicUsize,
    /// Attempts begun after the restart.
    attempts: AtomicU64,
    /// Of those, failed within the timeout.
    failed: AtomicU64,
    /// Of those, hung past the timeout.
    hung: AtomicU64,
    /// Streams that dropped again after being back.
    dropped_again: AtomicU64,
    /// Per second since the restart.
    buckets: Vec<Bucket>,
    /// Why attempts failed before the restart.
    errors_before: Mutex<BTreeMap<String, usize>>,
    /// Why attempts failed after the restart.
    errors_after: Mutex<BTreeMap<String, usize>>,
}

impl StormTally {
    /// A tally for `clients` clients.
    pub fn new(origin: Instant, clients: usize) -> Self {
        Self {
            origin,
            restart: AtomicU64::new(0),
            ready: AtomicUsize::new(0),
            back: (0..clients).map(|_| AtomicU64::new(0)).collect(),
            back_count: AtomicUsize::new(0),
            given_up: AtomicUsize::new(0),
            attempts: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            hung: AtomicU64::new(0),
            dropped_again: AtomicU64::new(0),
            buckets: (0..MAX_SECONDS).map(|_| Bucket::default()).collect(),
            errors_before: Mutex::new(BTreeMap::new()),
            errors_after: Mutex::new(BTreeMap::new()),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Marks the restart: attempts begun from now on count as reconnects.
    pub fn mark_restart(&self, at: Instant) {
        self.restart.store(self.nanos(at) + 1, Ordering::Relaxed);
    }

    /// The restart instant in ns since the origin, once marked.
    fn restart_ns(&self) -> Option<u64> {
        self.restart.load(Ordering::Relaxed).checked_sub(1)
    }

    /// Whether the restart has been marked.
    pub fn restarted(&self) -> bool {
        self.restart_ns().is_some()
    }

    /// The bucket of instant `at`, after the restart.
    fn bucket(&self, at: Instant) -> Option<&Bucket> {
        let restart = self.restart_ns()?;
        let secs = self.nanos(at).saturating_sub(restart) / 1_000_000_000;
        let i = usize::try_from(secs)
            .unwrap_or(usize::MAX)
            .min(MAX_SECONDS - 1);
        self.buckets.get(i)
    }

    fn error(&self, after_restart: bool, why: String) {
        let map = if after_restart {
            &self.errors_after
        } else {
            &self.errors_before
        };
        // A poisoned map only loses the reason of one failure; the counts are atomics.
        if let Ok(mut m) = map.lock() {
            *m.entry(why).or_default() += 1;
        }
    }

    /// Clients whose first stream delivered.
    pub fn ready_count(&self) -> usize {
        self.ready.load(Ordering::Relaxed)
    }

    /// Clients back after the restart.
    pub fn back_count(&self) -> usize {
        self.back_count.load(Ordering::Relaxed)
    }

    /// Clients that gave up.
    pub fn given_up_count(&self) -> usize {
        self.given_up.load(Ordering::Relaxed)
    }

    /// Attempts begun, failed and hung after the restart, and streams dropped once back.
    pub fn attempt_counts(&self) -> (u64, u64, u64, u64) {
        (
            self.attempts.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.hung.load(Ordering::Relaxed),
            self.dropped_again.load(Ordering::Relaxed),
        )
    }

    /// Seconds from the restart to each client's return, one per client back.
    pub fn back_secs(&self) -> Vec<f64> {
        let Some(restart) = self.restart_ns() else {
            return Vec::new();
        };
        self.back
            .iter()
            .filter_map(|b| b.load(Ordering::Relaxed).checked_sub(1))
            .map(|ns| ns.saturating_sub(restart) as f64 / 1e9)
            .collect()
    }

    /// The per-second buckets up to the last that saw anything.
    pub fn seconds(&self) -> Vec<Second> {
        let all: Vec<Second> = self
            .buckets
            .iter()
            .enumerate()
            .map(|(second, b)| Second {
                second,
                attempts: b.started.load(Ordering::Relaxed),
                accepted: b.accepted.load(Ordering::Relaxed),
                failed: b.failed.load(Ordering::Relaxed),
                hung: b.hung.load(Ordering::Relaxed),
            })
            .collect();
        let used = all
            .iter()
            .rposition(|s| s.attempts + s.accepted + s.failed + s.hung > 0)
            .map_or(0, |i| i + 1);
        all[..used].to_vec()
    }

    /// Failure reasons before and after the restart.
    pub fn errors(&self) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
        let read =
            |m: &Mutex<BTreeMap<String, usize>>| m.lock().map(|m| m.clone()).unwrap_or_default();
        (read(&self.errors_before), read(&self.errors_after))
    }
}

/// What a client needs.
#[derive(Debug)]
pub struct Client {
    /// Index into the tally.
    pub index: usize,
    /// The transport.
    pub transport: Transport,
    /// The node (the same address across its restart).
    pub server: SocketAddr,
    /// The experience.
    pub experience: std::sync::Arc<ExperienceId>,
    /// Whose stream it is.
    pub shopper: Shopper,
    /// Connections per source address.
    pub conns_per_ip: usize,
    /// An attempt with no first state after this hung.
    pub attempt_timeout: Duration,
    /// Bounds the first opens (before the restart) only: the storm itself is unbounded,
    /// as browsers are.
    pub first_opens: std::sync::Arc<Semaphore>,
    /// Where to report.
    pub tally: std::sync::Arc<StormTally>,
    /// Salt of the client's jitter.
    pub salt: u64,
}

/// An open stream, past its first state.
enum Held {
    Sse(TcpStream, BodyEnd),
    Ws(Box<WebSocketStream<TcpStream>>),
}

/// Why an attempt failed, for the supervisor and for the report.
struct Refused {
    failure: Failure,
    why: String,
}

impl Refused {
    fn transient(why: impl Into<String>) -> Self {
        Self {
            failure: Failure::TRANSIENT,
            why: why.into(),
        }
    }
}

/// The failure a WebSocket close frame (or its absence) means.
fn closed(frame: Option<tungstenite::protocol::CloseFrame>) -> Refused {
    match frame {
        Some(f) => {
            let code = u16::from(f.code);
            let why = match CloseCode::from_code(code) {
                Some(c) => format!("closed by the server: {c}"),
                None => format!("closed by the server: {code}"),
            };
            Refused {
                failure: Failure::from_close_code(code),
                why,
            }
        }
        None => Refused {
            failure: Failure::from_close_code(CloseCode::Abnormal.code()),
            why: "closed by the server without a close frame".into(),
        },
    }
}

impl Client {
    /// Runs the client until it gives up or is aborted.
    pub async fn run(self) {
        let config = SupervisorConfig {
            order: vec![self.transport.kind()],
            ..SupervisorConfig::default()
        };
        let mut supervisor = Supervisor::new(config);
        let mut jitter = Jitter::new(self.index, self.salt);
        let mut command = supervisor.start();
        loop {
            let after_ms = match command {
                Command::Open { after_ms, .. } => after_ms,
                // Only `Event::Opened` answers `Keep`, and it is not fed here.
                Command::Keep => 0,
                Command::Stop => {
                    self.tally.given_up.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            sleep(Duration::from_millis(after_ms)).await;
            let after_restart = self.tally.restarted();
            // Before the restart, a permit per handshake (so the first opens do not flood
            // the accept queue); after it, none.
            let permit = if after_restart {
                None
            } else {
                self.first_opens.clone().acquire_owned().await.ok()
            };
            let began = Instant::now();
            if after_restart {
                self.tally.attempts.fetch_add(1, Ordering::Relaxed);
                if let Some(b) = self.tally.bucket(began) {
                    b.started.fetch_add(1, Ordering::Relaxed);
                }
            }
            // Reconnects come from the next block of source addresses: no port of theirs
            // is still held by a closing socket of the first streams.
            let source = source_ip(usize::from(after_restart), self.index, self.conns_per_ip);
            let opened = timeout(self.attempt_timeout, self.open(source)).await;
            drop(permit);
            let now = Instant::now();
            let failure = match opened {
                Err(_) => {
                    if after_restart {
                        self.tally.hung.fetch_add(1, Ordering::Relaxed);
                        if let Some(b) = self.tally.bucket(now) {
                            b.hung.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    self.tally.error(
                        after_restart,
                        format!("no first state within {:?}", self.attempt_timeout),
                    );
                    Failure::TRANSIENT
                }
                Ok(Err(refused)) => {
                    if after_restart {
                        self.tally.failed.fetch_add(1, Ordering::Relaxed);
                        if let Some(b) = self.tally.bucket(now) {
                            b.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    self.tally.error(after_restart, refused.why);
                    refused.failure
                }
                Ok(Ok(held)) => {
                    self.opened(after_restart, now);
                    // The first state is the widget's first delivery: the feed is open.
                    supervisor.handle(Event::Opened, 0.0);
                    let dropped = held.hold().await;
                    if self.tally.back[self.index].load(Ordering::Relaxed) != 0 {
                        self.tally.dropped_again.fetch_add(1, Ordering::Relaxed);
                    }
                    dropped.failure
                }
            };
            command = supervisor.handle(Event::Failed(failure), jitter.next_unit());
        }
    }

    /// Records an open: the first stream's, or the return after the restart.
    fn opened(&self, after_restart: bool, at: Instant) {
        if !after_restart {
            self.tally.ready.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let slot = &self.tally.back[self.index];
        if slot
            .compare_exchange(
                0,
                self.tally.nanos(at) + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            self.tally.back_count.fetch_add(1, Ordering::Relaxed);
            if let Some(b) = self.tally.bucket(at) {
                b.accepted.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// One attempt: connect, ask for the stream, and read until its first state.
    async fn open(&self, source: Ipv4Addr) -> Result<Held, Refused> {
        let stream = connect_from(source, self.server)
            .await
            .map_err(|e| Refused::transient(format!("connect: {e}")))?;
        match self.transport {
            Transport::Sse => self.open_sse(stream).await,
            Transport::Ws => self.open_ws(stream).await,
        }
    }

    async fn open_sse(&self, mut stream: TcpStream) -> Result<Held, Refused> {
        let request = sse::stream_request(self.server, &self.experience, &self.shopper);
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| Refused::transient(format!("write request: {e}")))?;
        let mut buf = [0u8; sse::READ_BUFFER];
        let mut filled = 0;
        let body_start = loop {
            let n = stream
                .read(&mut buf[filled..])
                .await
                .map_err(|e| Refused::transient(format!("read head: {e}")))?;
            if n == 0 {
                return Err(Refused::transient("closed before the response head"));
            }
            filled += n;
            if let Some(end) = sse::head_end(&buf[..filled]) {
                break end;
            }
            if filled == buf.len() {
                return Err(Refused::transient("response head over 2 KB"));
            }
        };
        let status = std::str::from_utf8(&buf[..filled])
            .ok()
            .and_then(|head| head.split(' ').nth(1))
            .and_then(|code| code.parse::<u16>().ok())
            .unwrap_or(0);
        if status != 200 {
            return Err(Refused {
                failure: Failure::from_http_status(status),
                why: format!("refused: status {status}"),
            });
        }
        let mut scanner = AvailableScanner::new();
        let mut end = BodyEnd::default();
        let mut ready = false;
        let mut chunk = &buf[body_start..filled];
        loop {
            scanner.feed(chunk, |_| ready = true);
            let ended = end.feed(chunk);
            if ready {
                return Ok(Held::Sse(stream, end));
            }
            if ended {
                return Err(Refused::transient("stream ended before the first state"));
            }
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| Refused::transient(format!("read: {e}")))?;
            if n == 0 {
                return Err(Refused::transient("closed before the first state"));
            }
            chunk = &buf[..n];
        }
    }

    async fn open_ws(&self, stream: TcpStream) -> Result<Held, Refused> {
        let url = ws::stream_url(self.server, &self.experience, &self.shopper);
        let (mut socket, _response) =
            tokio_tungstenite::client_async_with_config(url, stream, Some(ws::config()))
                .await
                .map_err(|e| match e {
                    tungstenite::Error::Http(response) => {
                        let status = response.status().as_u16();
                        Refused {
                            failure: Failure::from_http_status(status),
                            why: format!("upgrade refused: status {status}"),
                        }
                    }
                    other => Refused::transient(format!("handshake: {other}")),
                })?;
        let mut scanner = AvailableScanner::new();
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let mut ready = false;
                    scanner.feed(text.as_bytes(), |_| ready = true);
                    if ready {
                        return Ok(Held::Ws(Box::new(socket)));
                    }
                }
                Some(Ok(Message::Close(frame))) => return Err(closed(frame)),
                // Pings are answered by tungstenite itself.
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(Refused::transient(format!("read: {e}"))),
                None => return Err(Refused::transient("closed before the first state")),
            }
        }
    }
}

impl Held {
    /// Reads (and drops) what the stream sends until it ends; returns how it ended.
    async fn hold(self) -> Refused {
        match self {
            Held::Sse(mut stream, mut end) => {
                let mut buf = [0u8; sse::READ_BUFFER];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) => return Refused::transient("closed by the server"),
                        Ok(n) if end.feed(&buf[..n]) => {
                            return Refused::transient("stream ended by the server");
                        }
                        Ok(_) => {}
                        Err(e) => return Refused::transient(format!("read: {e}")),
                    }
                }
            }
            Held::Ws(mut socket) => loop {
                match socket.next().await {
                    Some(Ok(Message::Close(frame))) => return closed(frame),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Refused::transient(format!("read: {e}")),
                    None => return Refused::transient("closed by the server"),
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_in_the_unit_range_and_differs_between_clients() {
        let mut a = Jitter::new(0, 42);
        let mut b = Jitter::new(1, 42);
        let xs: Vec<f64> = (0..1000).map(|_| a.next_unit()).collect();
        assert!(
            xs.iter().all(|x| (0.0..1.0).contains(x)),
            "every jitter in [0, 1)"
        );
        let low = xs.iter().filter(|x| **x < 0.5).count();
        assert!((400..600).contains(&low), "{low} of 1000 in the lower half");
        assert_ne!(a.next_unit(), b.next_unit(), "two clients, two sequences");
    }

    #[test]
    fn the_end_of_a_chunked_body_is_found_across_reads() {
        let mut end = BodyEnd::default();
        assert!(!end.feed(b"1e\r\nretry: 2345\n\ndata: {}\n\n\r\n"));
        assert!(!end.feed(b"0\r\n"), "half the terminator");
        assert!(end.feed(b"\r\n"), "the rest of it");
        let mut whole = BodyEnd::default();
        assert!(whole.feed(b"5\r\nhello\r\n0\r\n\r\n"), "in one read");
        let mut data = BodyEnd::default();
        assert!(
            !data.feed(b"10\r\ndata: 10\n\n"),
            "a chunk size of 10 is not the end"
        );
    }

    #[test]
    fn the_seconds_after_a_restart_fill_their_buckets() {
        let origin = Instant::now();
        let tally = StormTally::new(origin, 2);
        tally.mark_restart(origin);
        let at = |ms: u64| origin + Duration::from_millis(ms);
        tally
            .bucket(at(300))
            .map(|b| b.started.fetch_add(1, Ordering::Relaxed));
        tally
            .bucket(at(2_500))
            .map(|b| b.accepted.fetch_add(1, Ordering::Relaxed));
        let seconds = tally.seconds();
        assert_eq!(seconds.len(), 3, "up to the last second that saw anything");
        assert_eq!((seconds[0].attempts, seconds[2].accepted), (1, 1));
        assert_eq!(
            seconds[1],
            Second {
                second: 1,
                ..Second::default()
            }
        );
    }
}
