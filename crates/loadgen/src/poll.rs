//! Conditional polling: N keep-alive HTTP/1.1 clients, each a joined shopper, sending the
//! poll (`GET /api/queue/{id}`) with `If-None-Match` over and over, against one node.
//!
//! 1. Create an experience with a billion units and no admissions (its state then never
//!    changes, so every conditional poll must answer `304`) and join N shoppers.
//! 2. Each client opens one connection and polls once without a tag: that answer must be
//!    `200` with an `ETag`. From then on it sends the same request with
//!    `If-None-Match: <tag>`, one at a time (closed loop, no pipelining), as fast as the
//!    answers come back.
//! 3. After a warm-up, a fixed window: `304`s counted by completion instant, their latency
//!    (request written → answer read), the server's CPU time (user and system apart) and
//!    ours. Any other status, or a connection that fails, is an error, counted by reason;
//!    a `200` (the state moved) also takes the new tag so the client goes on.
//!
//! Requests are written by hand and answers read with `httparse` into one reused buffer, as
//! `sse.rs` does for streams: an HTTP client library per connection would cost the loadgen
//! more CPU per answer than the figure is about.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use livequeue_protocol::{Endpoint, ExperienceId, IdError, paths};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::api::Shopper;
use crate::cluster::Cluster;
use crate::phase::INITIAL_STOCK;
use crate::procfs::Cpu;
use crate::quiet::wait_for_quiet;
use crate::report::{Figures, Machine, ServerBinary, two_columns};
use crate::stats::Latency;
use crate::transport::{connect_from, source_ip};
use crate::window::CpuWindow;
use crate::{Error, Result};

/// Headers an answer may carry that we look at or skip: the server sends about ten.
const MAX_HEADERS: usize = 32;

/// An answer longer than this is an error (a poll's `200` is about 1 KB of JSON).
const MAX_ANSWER: usize = 64 * 1024;

/// How long one request may wait for its answer before the connection counts as failed.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed connection before opening the next one: no tight loop against a
/// server that refuses.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

/// How a poll run goes.
#[derive(Debug, Clone)]
pub struct PollConfig {
    /// Clients (connections, shoppers).
    pub clients: usize,
    /// Polling before the window opens.
    pub warmup: Duration,
    /// The measurement window.
    pub window: Duration,
    /// Joins in flight.
    pub join_concurrency: usize,
    /// Connections per source address.
    pub conns_per_ip: usize,
    /// Longest wait for a quiet machine before the warm-up.
    pub quiet_wait: Duration,
}

/// What a poll run measured.
#[derive(Debug, Clone, Serialize)]
pub struct PollResult {
    /// Clients asked for.
    pub clients: usize,
    /// Clients whose first poll answered `200` with an `ETag`.
    pub started: usize,
    /// Seconds of the window.
    pub window_secs: f64,
    /// `304`s completed in the window.
    pub not_modified: u64,
    /// `304`s per second over the window, all clients together.
    pub not_modified_per_sec: f64,
    /// Request → answer, over the window's `304`s.
    pub latency: Latency,
    /// Errors over the whole run (first polls, warm-up and window), by reason.
    pub errors: BTreeMap<String, usize>,
    /// Errors within the window.
    pub errors_in_window: usize,
    /// Server CPU time over the window.
    pub server_cpu: Option<Cpu>,
    /// Server CPU per `304`, µs (user + system).
    pub server_cpu_us_per_answer: Option<f64>,
    /// Server user-space CPU per `304`, µs.
    pub server_user_cpu_us_per_answer: Option<f64>,
    /// Server kernel CPU per `304`, µs (on loopback this includes much of our receiving).
    pub server_system_cpu_us_per_answer: Option<f64>,
    /// Our CPU time over the window.
    pub loadgen_cpu: Option<Cpu>,
    /// Our CPU per `304`, µs.
    pub loadgen_cpu_us_per_answer: Option<f64>,
    /// CPU time other processes took during the window, µs.
    pub others_cpu_us: Option<u64>,
}

/// A whole `--poll` run, as written with `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct PollReport {
    /// Where.
    pub machine: Machine,
    /// The command line.
    pub command: String,
    /// Worker threads of the loadgen.
    pub loadgen_threads: usize,
    /// The server binary started.
    pub server_binary: Option<ServerBinary>,
    /// The figures.
    pub poll: PollResult,
    /// The headline figures ([`PollResult::figures`]).
    pub figures: Figures,
}

impl PollResult {
    /// The headline figures: `poll_304_per_s`, `poll_latency_p50_ms`, `poll_latency_p99_ms`,
    /// `poll_cpu_per_answer_us`, `poll_user_cpu_per_answer_us`,
    /// `poll_system_cpu_per_answer_us`, `poll_loadgen_cpu_per_answer_us`, `poll_clients`,
    /// `poll_errors`.
    pub fn figures(&self) -> Figures {
        let mut f = Figures::default();
        let ms = |us: Option<u64>| us.map(|us| us as f64 / 1e3);
        f.add(
            "poll_clients",
            "polling clients",
            Some(self.clients as f64),
            "clients",
        );
        f.add(
            "poll_304_per_s",
            "304 answers per second",
            Some(self.not_modified_per_sec),
            "/s",
        );
        f.add(
            "poll_latency_p50_ms",
            "poll latency p50",
            ms(self.latency.p50_us),
            "ms",
        );
        f.add(
            "poll_latency_p99_ms",
            "poll latency p99",
            ms(self.latency.p99_us),
            "ms",
        );
        f.add(
            "poll_cpu_per_answer_us",
            "server CPU per 304",
            self.server_cpu_us_per_answer,
            "us",
        );
        f.add(
            "poll_user_cpu_per_answer_us",
            "server user CPU per 304",
            self.server_user_cpu_us_per_answer,
            "us",
        );
        f.add(
            "poll_system_cpu_per_answer_us",
            "server system CPU per 304",
            self.server_system_cpu_us_per_answer,
            "us",
        );
        f.add(
            "poll_loadgen_cpu_per_answer_us",
            "loadgen CPU per 304",
            self.loadgen_cpu_us_per_answer,
            "us",
        );
        let errors: usize = self.errors.values().sum();
        f.add(
            "poll_errors",
            "poll errors (whole run)",
            Some(errors as f64),
            "errors",
        );
        f
    }
}

/// The table of a poll run.
pub fn render(report: &PollReport) -> String {
    let p = &report.poll;
    let ms = |us: Option<u64>| us.map_or("–".into(), |us| format!("{:.2}", us as f64 / 1e3));
    let us = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
    let rows = vec![
        (
            "clients started / wanted".into(),
            format!("{} / {}", p.started, p.clients),
        ),
        ("window (s)".into(), format!("{:.1}", p.window_secs)),
        (
            "304 answers in the window".into(),
            p.not_modified.to_string(),
        ),
        (
            "304 answers per second".into(),
            format!("{:.0}", p.not_modified_per_sec),
        ),
        (
            "latency p50 / p90 (ms)".into(),
            format!("{} / {}", ms(p.latency.p50_us), ms(p.latency.p90_us)),
        ),
        (
            "latency p99 / max (ms)".into(),
            format!("{} / {}", ms(p.latency.p99_us), ms(p.latency.max_us)),
        ),
        (
            "server CPU per 304 (µs)".into(),
            us(p.server_cpu_us_per_answer),
        ),
        (
            "  user / system (µs)".into(),
            format!(
                "{} / {}",
                us(p.server_user_cpu_us_per_answer),
                us(p.server_system_cpu_us_per_answer)
            ),
        ),
        (
            "server CPU share of a core".into(),
            p.server_cpu.map_or("–".into(), |c| {
                format!(
                    "{:.0}%",
                    100.0 * c.total_us() as f64 / (p.window_secs * 1e6)
                )
            }),
        ),
        (
            "loadgen CPU per 304 (µs)".into(),
            us(p.loadgen_cpu_us_per_answer),
        ),
        (
            "other processes' CPU in the window".into(),
            p.others_cpu_us.map_or("–".into(), |us| {
                format!(
                    "{:.0}% of a core",
                    100.0 * us as f64 / (p.window_secs * 1e6)
                )
            }),
        ),
        (
            "errors (whole run / in window)".into(),
            format!(
                "{} / {}",
                p.errors.values().sum::<usize>(),
                p.errors_in_window
            ),
        ),
    ];
    let mut out = format!(
        "{}\n",
        crate::report::machine_line(&report.machine, report.loadgen_threads)
    );
    if let Some(bin) = &report.server_binary {
        out.push_str(&format!("{}\n", bin.line()));
    }
    out.push_str(&two_columns(&rows));
    for (why, count) in &p.errors {
        out.push_str(&format!("error: {count} × {why}\n"));
    }
    out
}

/// The window every client measures in, set once every client has its tag.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientTally {
    /// `304`s completed in the window.
    not_modified: u64,
    /// Their latencies, µs.
    latencies: Vec<u64>,
    /// Errors by reason, whole run.
    errors: BTreeMap<String, usize>,
    /// Errors in the window.
    errors_in_window: usize,
}

impl ClientTally {
    fn error(&mut self, why: impl Into<String>, in_window: bool) {
        *self.errors.entry(why.into()).or_default() += 1;
        if in_window {
            self.errors_in_window += 1;
        }
    }
}

/// An answer's status line and what matters of its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `ETag` header, when present.
    pub etag: Option<String>,
    /// The server will close the connection after this answer.
    pub closes: bool,
}

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The head is not HTTP.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// A body framed some other way than `Content-Length` (we never ask for one).
    #[error("answer without Content-Length")]
    Unframed,
    /// Over [`MAX_ANSWER`].
    #[error("answer over {MAX_ANSWER} bytes")]
    TooLong,
}

/// Parses the answer at the start of `bytes`: `Ok(None)` until all of it has arrived, then
/// the answer and how many bytes it took (head and body).
pub fn parse_answer(bytes: &[u8]) -> Result<Option<(Answer, usize)>, AnswerError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if bytes.len() > MAX_ANSWER => {
            return Err(AnswerError::TooLong);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(AnswerError::Malformed(e.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let mut etag = None;
    let mut length = None;
    let mut closes = false;
    let mut chunked = false;
    for h in response.headers.iter() {
        let value = || String::from_utf8_lossy(h.value).trim().to_string();
        if h.name.eq_ignore_ascii_case("etag") {
            etag = Some(value());
        } else if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value()
                    .parse::<usize>()
                    .map_err(|_| AnswerError::Malformed("bad Content-Length".into()))?,
            );
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        } else if h.name.eq_ignore_ascii_case("connection") {
            closes = value().eq_ignore_ascii_case("close");
        }
    }
    // A 304 (and any 1xx or 204) has no body whatever its headers say.
    let bodiless = status == 304 || status == 204 || (100..200).contains(&status);
    let body = match (bodiless, length, chunked) {
        (true, _, _) => 0,
        (false, Some(n), false) => n,
        (false, _, _) => return Err(AnswerError::Unframed),
    };
    if head + body > MAX_ANSWER {
        return Err(AnswerError::TooLong);
    }
    if bytes.len() < head + body {
        return Ok(None);
    }
    Ok(Some((
        Answer {
            status,
            etag,
            closes,
        },
        head + body,
    )))
}

/// The request line and headers of `shopper`'s poll, without the blank line that ends it
/// (so that `If-None-Match` can follow).
pub fn request_head(server: SocketAddr, experience: &ExperienceId, shopper: &Shopper) -> String {
    let query = paths::query(&[
        (paths::CONSUMER_ID, &shopper.consumer_id),
        (paths::TOKEN, &shopper.token),
    ]);
    let path = Endpoint::Poll.path(experience);
    format!("GET {path}{query} HTTP/1.1\r\nHost: {server}\r\nAccept: application/json\r\n")
}

/// One keep-alive connection and its read buffer.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    async fn open(source: Ipv4Addr, server: SocketAddr) -> Result<Self, String> {
        let stream = connect_from(source, server)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `request` and reads its answer.
    async fn exchange(&mut self, request: &[u8]) -> Result<Answer, String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let read = async {
            loop {
                if let Some((answer, used)) = parse_answer(&self.buf).map_err(|e| e.to_string())? {
                    self.buf.drain(..used);
                    return Ok(answer);
                }
                let mut chunk = [0u8; 4096];
                let n = self
                    .stream
                    .read(&mut chunk)
                    .await
                    .map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    return Err("closed by the server".to_string());
                }
                self.buf.extend_from_slice(&chunk[..n]);
            }
        };
        timeout(ANSWER_TIMEOUT, read)
            .await
            .map_err(|_| format!("no answer within {ANSWER_TIMEOUT:?}"))?
    }
}

/// Runs one client: the first poll for the tag (reported through `started`), then
/// conditional polls until the window ends.
async fn client(
    source: Ipv4Addr,
    server: SocketAddr,
    head: String,
    started: Arc<AtomicUsize>,
    mut window: watch::Receiver<Option<Window>>,
) -> ClientTally {
    let mut tally = ClientTally::default();
    let first = format!("{head}\r\n");
    let opened = async {
        let mut conn = Connection::open(source, server).await?;
        let answer = conn.exchange(first.as_bytes()).await?;
        match (answer.status, answer.etag) {
            (200, Some(tag)) => Ok((conn, tag)),
            (200, None) => Err("first poll: 200 without an ETag".to_string()),
            (status, _) => Err(format!("first poll: status {status}")),
        }
    };
    let (conn, tag) = match opened.await {
        Ok(opened) => opened,
        Err(why) => {
            tally.error(why, false);
            // Counted as settled, so the run does not wait for it.
            started.fetch_add(1, Ordering::Relaxed);
            return tally;
        }
    };
    started.fetch_add(1, Ordering::Relaxed);
    let Ok(w) = window.wait_for(Option::is_some).await.map(|w| *w) else {
        return tally;
    };
    let Some(w) = w else { return tally };
    let mut request = format!("{head}If-None-Match: {tag}\r\n\r\n").into_bytes();
    let mut conn = Some(conn);
    loop {
        let now = Instant::now();
        if now >= w.end {
            return tally;
        }
        let in_window = now >= w.start;
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Connection::open(source, server).await {
                Ok(c) => conn.insert(c),
                Err(why) => {
                    tally.error(why, in_window);
                    sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            },
        };
        let sent = Instant::now();
        let result = c.exchange(&request).await;
        let done = Instant::now();
        // Counted by completion: an answer that straddles the window's end is not in it.
        let counted = sent >= w.start && done < w.end;
        match result {
            Ok(answer) => {
                if answer.status == 304 {
                    if counted {
                        tally.not_modified += 1;
                        tally.latencies.push(
                            u64::try_from(done.duration_since(sent).as_micros())
                                .unwrap_or(u64::MAX),
                        );
                    }
                } else {
                    tally.error(format!("status {}", answer.status), counted);
                    if let (200, Some(tag)) = (answer.status, answer.etag) {
                        request = format!("{head}If-None-Match: {tag}\r\n\r\n").into_bytes();
                    }
                }
                if answer.closes {
                    conn = None;
                }
            }
            Err(why) => {
                tally.error(why, counted);
                conn = None;
                sleep(RECONNECT_PAUSE).await;
            }
        }
    }
}

/// Runs the poll measurement against node 0 of `cluster`.
pub async fn run(cluster: &Cluster, cfg: &PollConfig) -> Result<PollResult> {
    let api = cluster.operator();
    let experience: ExperienceId = format!("loadgen-poll-{}", std::process::id())
        .parse()
        .map_err(|e: IdError| Error::Setup(e.to_string()))?;
    let n = cfg.clients;
    eprintln!("[poll] creating {experience} and joining {n} shoppers");
    api.create_experience(&experience, INITIAL_STOCK).await?;
    let shoppers = api.join_many(&experience, n, cfg.join_concurrency).await?;
    let server = cluster.node_for(0);
    // Before the first polls, not after: a keep-alive connection left idle while we wait
    // may be closed by the server, which would show up as an error of the run.
    wait_for_quiet(cfg.quiet_wait).await;

    let started = Arc::new(AtomicUsize::new(0));
    let (set_window, window) = watch::channel(None);
    let tasks: Vec<_> = shoppers
        .iter()
        .enumerate()
        .map(|(i, shopper)| {
            tokio::spawn(client(
                source_ip(0, i, cfg.conns_per_ip),
                server,
                request_head(server, &experience, shopper),
                started.clone(),
                window.clone(),
            ))
        })
        .collect();
    eprintln!("[poll] {n} clients asking for their first state");
    while started.load(Ordering::Relaxed) < n {
        sleep(Duration::from_millis(10)).await;
    }
    let start = Instant::now() + cfg.warmup;
    let w = Window {
        start,
        end: start + cfg.window,
    };
    // Every client holds a receiver until it has read the window.
    let _ = set_window.send(Some(w));
    eprintln!(
        "[poll] polling: {:?} warm-up, then a {:?} window",
        cfg.warmup, cfg.window
    );
    sleep_until(w.start).await;
    let cpu = CpuWindow::start(cluster);
    sleep_until(w.end).await;
    let cpu = cpu.finish(cluster);

    let mut total = ClientTally::default();
    for task in tasks {
        let t = task
            .await
            .map_err(|e| Error::Setup(format!("a poll client panicked: {e}")))?;
        total.not_modified += t.not_modified;
        total.latencies.extend(t.latencies);
        total.errors_in_window += t.errors_in_window;
        for (why, count) in t.errors {
            *total.errors.entry(why).or_default() += count;
        }
    }
    let first_failures: usize = total
        .errors
        .iter()
        .filter(|(why, _)| why.starts_with("first poll") || why.starts_with("connect"))
        .map(|(_, c)| c)
        .sum();
    let window_secs = cfg.window.as_secs_f64();
    let answers = total.not_modified;
    let per = |us: u64| (answers > 0).then(|| us as f64 / answers as f64);
    Ok(PollResult {
        clients: n,
        started: n.saturating_sub(first_failures),
        window_secs,
        not_modified: answers,
        not_modified_per_sec: answers as f64 / window_secs,
        latency: Latency::of(&mut total.latencies),
        errors: total.errors,
        errors_in_window: total.errors_in_window,
        server_cpu: cpu.servers,
        server_cpu_us_per_answer: cpu.servers.and_then(|c| per(c.total_us())),
        server_user_cpu_us_per_answer: cpu.servers.and_then(|c| per(c.user_us)),
        server_system_cpu_us_per_answer: cpu.servers.and_then(|c| per(c.system_us)),
        loadgen_cpu: cpu.loadgen,
        loadgen_cpu_us_per_answer: cpu.loadgen.and_then(|c| per(c.total_us())),
        others_cpu_us: cpu.others_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_304_is_complete_at_its_blank_line_whatever_its_headers() {
        let bytes =
            b"HTTP/1.1 304 Not Modified\r\netag: \"abc\"\r\ncache-control: no-cache\r\n\r\n";
        let (answer, used) = parse_answer(bytes)
            .expect("a well-formed head parses")
            .expect("the head is complete");
        assert_eq!(answer.status, 304);
        assert_eq!(
            answer.etag.as_deref(),
            Some("\"abc\""),
            "the tag keeps its quotes"
        );
        assert_eq!(used, bytes.len(), "no body after a 304");
    }

    #[test]
    fn a_200_waits_for_its_whole_body_and_leaves_what_follows() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\netag: \"t\"\r\n\r\n";
        let mut bytes = head.to_vec();
        bytes.extend_from_slice(b"{\"a\"");
        assert_eq!(
            parse_answer(&bytes),
            Ok(None),
            "one byte of the body is missing"
        );
        bytes.extend_from_slice(b"}HTTP");
        let (answer, used) = parse_answer(&bytes).expect("parses").expect("complete");
        assert_eq!((answer.status, used), (200, head.len() + 5));
    }

    #[test]
    fn a_body_without_a_length_is_refused_rather_than_misread() {
        let bytes = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n";
        assert_eq!(parse_answer(bytes), Err(AnswerError::Unframed));
        assert!(
            matches!(
                parse_answer(b"SMTP nonsense\r\n\r\n"),
                Err(AnswerError::Malformed(_))
            ),
            "not HTTP"
        );
    }

    #[test]
    fn connection_close_is_noticed() {
        let bytes = b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n";
        let (answer, _) = parse_answer(bytes).expect("parses").expect("complete");
        assert!(
            answer.closes,
            "the client must open a new connection after this"
        );
    }

    #[test]
    fn figures_carry_the_stable_keys() {
        let result = PollResult {
            clients: 64,
            started: 64,
            window_secs: 10.0,
            not_modified: 200_000,
            not_modified_per_sec: 20_000.0,
            latency: Latency::of(&mut [1_000, 2_000, 3_000]),
            errors: BTreeMap::new(),
            errors_in_window: 0,
            server_cpu: None,
            server_cpu_us_per_answer: None,
            server_user_cpu_us_per_answer: None,
            server_system_cpu_us_per_answer: None,
            loadgen_cpu: None,
            loadgen_cpu_us_per_answer: None,
            others_cpu_us: None,
        };
        let f = result.figures();
        assert_eq!(f.get("poll_304_per_s"), Some(20_000.0));
        assert_eq!(f.get("poll_latency_p50_ms"), Some(2.0));
        assert_eq!(f.get("poll_latency_p99_ms"), Some(3.0));
        assert_eq!(
            f.get("poll_cpu_per_answer_us"),
            None,
            "no pid, no CPU figure"
        );
    }
}
