//! `livequeue-loadgen`: holds N idle push connections open against a livequeue server and
//! measures what they cost it — resident memory per connection, and how fast one published
//! update reaches all of them (fan-out latency, deliveries per second, server CPU per
//! delivery). With `--compare-redis` the same run measures one node with its queue in
//! memory and two nodes sharing one Redis side by side. Three other modes: `--poll`
//! (conditional polling: `304`s per second), `--storm` (every client reconnecting
//! after a node's restart) and `--guide-js` (the fan-out phases against the guide's
//! JavaScript server, the baseline).
//!
//! # Layout
//!
//! - [`cli`]: the command line.
//! - [`cluster`]: what a phase runs against: one node, or several nodes on one Redis.
//! - [`target`]: one server node, spawned as a child process or attached by URL.
//! - [`redis_server`]: the redis-server the nodes of a Redis phase share.
//! - [`child`]: starting those processes so that none outlives the loadgen.
//! - [`procfs`]: the servers' memory and CPU time, read from `/proc`.
//! - [`window`]: CPU time over the publishes, for the nodes, Redis, us and the rest.
//! - [`quiet`]: waiting for other processes to leave the CPUs alone before measuring.
//! - [`limits`]: raising the open-file limit for us, and so for the child we spawn.
//! - [`api`]: the few HTTP calls that set a phase up (create, join, patch stock).
//! - [`transport`]: one closed enum over the two push transports, with [`sse`] (a raw
//!   `TcpStream` and a hand-written `GET`) and [`ws`] (tokio-tungstenite) in their own files;
//!   its `Routes` say where a server serves them (livequeue's, or the guide's).
//! - [`scan`]: finding `"available":N` in a byte stream that arrives in arbitrary pieces.
//! - [`tally`]: the lock-free table every connection writes its receive instants into.
//! - [`stats`]: percentiles and the per-publish figures computed from the table.
//! - [`phase`]: one phase: join, connect, measure memory, publish, close; its steps
//!   (opening, publishing, their figures, closing) are shared with [`guide`]'s phases.
//! - [`report`]: the table printed at the end and the JSON written with `--json`, with the
//!   list of headline [`report::Figure`]s every mode's JSON carries; its table, cells and
//!   figure helpers serve the guide's report too.
//! - [`poll`]: `--poll`, conditional polling: keep-alive clients counting `304`s.
//! - [`guide`]: `--guide-js`, the same fan-out phases against the JavaScript server built
//!   from the real-time guide's design (`bench/guide-js/`), on a Redis of our own.
//! - [`storm`]: `--storm`, the reconnect storm: push clients held open on a Redis node that
//!   is restarted under them; [`reconnect`] is one client, driven by the widget's
//!   supervisor.
//!
//! The measurement runs against the real server, so the loadgen shares the machine's
//! cores with it: every figure is for both processes on the same CPUs (see
//! `docs/BENCHMARKS.md`).

pub mod api;
pub mod child;
pub mod cli;
pub mod cluster;
pub mod guide;
pub mod limits;
pub mod phase;
pub mod poll;
pub mod procfs;
pub mod quiet;
pub mod reconnect;
pub mod redis_server;
pub mod report;
pub mod scan;
pub mod sse;
pub mod stats;
pub mod storm;
pub mod tally;
pub mod target;
pub mod transport;
pub mod window;
pub mod ws;

/// Errors that end a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading `/proc`, spawning the server, or a socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An HTTP call to the server failed or answered with an error.
    #[error("{context}: {message}")]
    Http {
        /// Which call.
        context: String,
        /// Status and body, or the transport error.
        message: String,
    },
    /// The setup cannot work as given (a non-loopback URL, no pid to measure, …).
    #[error("{0}")]
    Setup(String),
}

impl Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
