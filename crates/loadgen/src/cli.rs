//! The command line of `livequeue-loadgen`.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

use crate::cluster::Setup;
use crate::redis_server::REDIS_SERVER;
use crate::transport::Transport;

/// Holds idle SSE and WebSocket connections open against a livequeue server, then measures
/// memory per connection and the fan-out of stock updates to all of them.
#[derive(Debug, Clone, Parser)]
#[command(name = "livequeue-loadgen", version)]
pub struct Args {
    /// Server binary to start (ignored with `--url`).
    #[arg(long, default_value = "target/release/livequeue-server")]
    pub server_bin: PathBuf,
    /// Also measure, in the same run, `--redis-nodes` nodes sharing one Redis, beside the
    /// one node with its queue in memory: each transport runs once on each setup, the two
    /// back to back, each on fresh processes (a fresh redis-server too, which the loadgen
    /// starts on a free loopback port with no persistence and kills at the end).
    /// Connections are split evenly over the nodes, connected to directly; publishes go
    /// through node 0.
    #[arg(long, conflicts_with_all = ["url", "reuse_server"])]
    pub compare_redis: bool,
    /// Nodes of the Redis setup of `--compare-redis`.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub redis_nodes: u16,
    /// The redis-server binary for `--compare-redis` (looked up on `PATH` when it is a bare
    /// name).
    #[arg(long, default_value = REDIS_SERVER)]
    pub redis_server_bin: PathBuf,
    /// Measure an already running server at this base URL (loopback only) instead of
    /// starting one; give `--server-pid` too for memory and CPU figures.
    #[arg(long)]
    pub url: Option<String>,
    /// Pid of the server behind `--url`.
    #[arg(long, requires = "url")]
    pub server_pid: Option<u32>,
    /// Operator token (passed to the server we start, or used against `--url`).
    #[arg(
        long,
        env = "LIVEQUEUE_ADMIN_TOKEN",
        default_value = "loadgen-admin-token"
    )]
    pub admin_token: String,
    /// Idle SSE connections in the SSE phase (0 skips the phase). The loadgen holds them
    /// all, so with the open-file limit of 20,000 a phase stays under about 19,900.
    #[arg(long, default_value_t = 10_000)]
    pub sse: usize,
    /// Idle WebSocket connections in the WebSocket phase (0 skips the phase).
    #[arg(long, default_value_t = 10_000)]
    pub ws: usize,
    /// Stock updates published per phase.
    #[arg(long, default_value_t = 20)]
    pub publishes: usize,
    /// Milliseconds from one publish to the next (longer when a fan-out takes longer).
    #[arg(long, default_value_t = 1_000)]
    pub interval_ms: u64,
    /// Milliseconds to wait for every connection to receive one publish before moving on.
    #[arg(long, default_value_t = 15_000)]
    pub delivery_timeout_ms: u64,
    /// Connections whose handshake is in flight at once. The server listens with a backlog
    /// of 128 (tokio's default since mio 1.1); past that, SYNs are dropped and retried a
    /// second later, which then dominates the time to open.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Joins in flight at once while creating shoppers.
    #[arg(long, default_value_t = 64)]
    pub join_concurrency: usize,
    /// Connections per source address: each of 127.0.0.2, 127.0.0.3, … holds at most this
    /// many. The kernel has about 28k ephemeral ports per address, but binding port 0 on an
    /// address whose range is filling up searches longer and longer: 19,000 connections
    /// took 30 s to open from one address and 1.9 s from four.
    #[arg(long, default_value_t = 5_000)]
    pub conns_per_ip: usize,
    /// Milliseconds to let the server settle before each memory reading.
    #[arg(long, default_value_t = 2_000)]
    pub settle_ms: u64,
    /// Before opening connections and before publishing, wait up to this many seconds for
    /// the machine to be quiet (other processes using under a fifth of a core), since
    /// builds running beside the benchmark on the same two cores distort every figure.
    /// 0 does not wait; the CPU other processes took is reported either way.
    #[arg(long, default_value_t = 120)]
    pub quiet_wait_secs: u64,
    /// Keep one server for both phases instead of starting a fresh one per phase. A fresh
    /// server keeps the first phase's freed-but-retained heap from hiding part of the
    /// second phase's cost. Always on with `--url`.
    #[arg(long)]
    pub reuse_server: bool,
    /// Worker threads of the loadgen's runtime (1: a current-thread runtime, leaving the
    /// other core to the server as far as the scheduler allows).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Open-file limit to set for this process (and so the server it starts).
    #[arg(long, default_value_t = 200_000)]
    pub nofile: u64,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Conditional polling instead of the fan-out phases: this many keep-alive HTTP/1.1
    /// clients (64 when the flag has no value), each a joined shopper, send the poll with
    /// `If-None-Match` over and over against a fresh server and count the `304`s.
    #[arg(
        long,
        num_args = 0..=1,
        default_missing_value = "64",
        value_parser = clap::value_parser!(u64).range(1..),
        conflicts_with_all = ["url", "compare_redis", "reuse_server", "storm"]
    )]
    pub poll: Option<u64>,
    /// Seconds of the poll's measurement window.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_secs: u64,
    /// Seconds of polling before the window opens (connections warm, allocator settled).
    #[arg(long, default_value_t = 2)]
    pub poll_warmup_secs: u64,
    /// A reconnect storm instead of the fan-out phases: this many push clients held open
    /// against one node whose queue is on a redis-server of our own; the node is restarted
    /// (SIGTERM, then started again on the same port) and every client comes back the way
    /// the widget's supervisor says. The loadgen holds them all: stay under about 19,900.
    #[arg(
        long,
        value_parser = clap::value_parser!(u64).range(1..),
        conflicts_with_all = ["url", "compare_redis", "reuse_server"]
    )]
    pub storm: Option<u64>,
    /// The storm's push transport: `sse` or `ws`.
    #[arg(long, default_value = "sse", value_parser = parse_transport)]
    pub storm_transport: Transport,
    /// An attempt of the storm that has no first state after this many milliseconds counts
    /// as hung (and as a failure for the backoff).
    #[arg(long, default_value_t = 5_000)]
    pub storm_attempt_timeout_ms: u64,
    /// Longest wait, after the restart, for every client to be back.
    #[arg(long, default_value_t = 120)]
    pub storm_deadline_secs: u64,
    /// The fan-out phases against the JavaScript server built from the real-time guide's
    /// design (`--guide-js-script`: Express + ws + ioredis, one Redis subscriber per SSE
    /// client) instead of livequeue's: per transport a fresh redis-server of our own and a
    /// fresh node. `--sse` / `--ws` default to 5,000 here: node holds two descriptors per
    /// SSE client under the limit of 20,000, so an SSE phase fits at most about 9,900.
    #[arg(long, conflicts_with_all = ["url", "compare_redis", "reuse_server", "poll", "storm"])]
    pub guide_js: bool,
    /// The guide's server script (its `package.json` and `package-lock.json` beside it).
    #[arg(long, default_value = "bench/guide-js/server.js")]
    pub guide_js_script: PathBuf,
    /// Where the script's npm dependencies are installed (`npm ci`, once; default
    /// `~/.cache/livequeue/guide-js`).
    #[arg(long)]
    pub guide_js_deps: Option<PathBuf>,
    /// The node binary for `--guide-js` (looked up on `PATH` when it is a bare name).
    #[arg(long, default_value = "node")]
    pub node_bin: PathBuf,
}

/// What a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Idle connections and fan-out (`--sse`, `--ws`), the default.
    FanOut,
    /// Conditional polling with this many clients (`--poll`).
    Poll(usize),
    /// A reconnect storm of this many clients (`--storm`).
    Storm(usize),
    /// The fan-out phases against the guide's JavaScript server (`--guide-js`).
    GuideJs,
}

/// `sse`, `ws` or `websocket`.
fn parse_transport(s: &str) -> Result<Transport, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "sse" => Ok(Transport::Sse),
        "ws" | "websocket" => Ok(Transport::Ws),
        other => Err(format!("{other:?} is not a push transport (sse or ws)")),
    }
}

impl Args {
    /// Parses the process's arguments, exiting with clap's message when they are wrong;
    /// with the defaults of the mode asked for (see [`Args::try_parse_args_from`]).
    pub fn parse_args() -> Self {
        Self::with_mode_defaults(&Self::command().get_matches()).unwrap_or_else(|e| e.exit())
    }

    /// Parses `args` like [`Parser::try_parse_from`], then gives `--sse` and `--ws`, when
    /// not given, the defaults of the mode: [`crate::guide::DEFAULT_CONNS`] for
    /// `--guide-js`.
    pub fn try_parse_args_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::with_mode_defaults(&Self::command().try_get_matches_from(args)?)
    }

    fn with_mode_defaults(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = Self::from_arg_matches(matches)?;
        if args.guide_js {
            let defaulted = |id: &str| matches.value_source(id) == Some(ValueSource::DefaultValue);
            if defaulted("sse") {
                args.sse = crate::guide::DEFAULT_CONNS;
            }
            if defaulted("ws") {
                args.ws = crate::guide::DEFAULT_CONNS;
            }
        }
        Ok(args)
    }

    /// The mode the flags ask for.
    pub fn mode(&self) -> Mode {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        if self.guide_js {
            return Mode::GuideJs;
        }
        match (self.poll, self.storm) {
            (Some(n), _) => Mode::Poll(count(n)),
            (None, Some(n)) => Mode::Storm(count(n)),
            (None, None) => Mode::FanOut,
        }
    }

    /// The setups to measure, in order.
    pub fn setups(&self) -> Vec<Setup> {
        if self.url.is_some() {
            vec![Setup::Attached]
        } else if self.compare_redis {
            vec![
                Setup::Memory,
                Setup::Redis {
                    nodes: usize::from(self.redis_nodes),
                },
            ]
        } else {
            vec![Setup::Memory]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_redis_measures_memory_then_two_redis_nodes() {
        let args = Args::parse_from(["livequeue-loadgen", "--compare-redis"]);
        assert_eq!(
            args.setups(),
            vec![Setup::Memory, Setup::Redis { nodes: 2 }],
            "the in-memory node first, then two nodes on one Redis"
        );
        let plain = Args::parse_from(["livequeue-loadgen"]);
        assert_eq!(plain.setups(), vec![Setup::Memory], "no Redis unless asked");
    }

    #[test]
    fn poll_alone_means_sixty_four_clients_and_takes_a_count() {
        let bare = Args::parse_from(["livequeue-loadgen", "--poll"]);
        assert_eq!(bare.mode(), Mode::Poll(64), "the default client count");
        let given = Args::parse_from(["livequeue-loadgen", "--poll", "256", "--poll-secs", "3"]);
        assert_eq!((given.mode(), given.poll_secs), (Mode::Poll(256), 3));
        assert_eq!(
            Args::parse_from(["livequeue-loadgen"]).mode(),
            Mode::FanOut,
            "no flag, no poll"
        );
    }

    #[test]
    fn storm_takes_a_count_and_a_transport() {
        let args = Args::parse_from([
            "livequeue-loadgen",
            "--storm",
            "500",
            "--storm-transport",
            "ws",
        ]);
        assert_eq!(
            (args.mode(), args.storm_transport),
            (Mode::Storm(500), Transport::Ws)
        );
        let sse = Args::parse_from(["livequeue-loadgen", "--storm", "5"]);
        assert_eq!(sse.storm_transport, Transport::Sse, "SSE by default");
        let bad = [
            "livequeue-loadgen",
            "--storm",
            "5",
            "--storm-transport",
            "pigeon",
        ];
        assert!(
            Args::try_parse_from(bad).is_err(),
            "an unknown transport is refused"
        );
        let both = ["livequeue-loadgen", "--storm", "5", "--poll", "5"];
        assert!(Args::try_parse_from(both).is_err(), "one mode per run");
    }

    #[test]
    fn guide_js_defaults_to_five_thousand_per_transport_unless_told() {
        let bare = Args::try_parse_args_from(["livequeue-loadgen", "--guide-js"]).unwrap();
        assert_eq!(
            (bare.mode(), bare.sse, bare.ws),
            (Mode::GuideJs, 5_000, 5_000)
        );
        let given = [
            "livequeue-loadgen",
            "--guide-js",
            "--sse",
            "2000",
            "--ws",
            "0",
        ];
        let given = Args::try_parse_args_from(given).unwrap();
        assert_eq!((given.sse, given.ws), (2_000, 0), "as given, 0 included");
        let plain = Args::try_parse_args_from(["livequeue-loadgen"]).unwrap();
        assert_eq!(
            (plain.mode(), plain.sse),
            (Mode::FanOut, 10_000),
            "others keep theirs"
        );
        for other in [
            "--compare-redis",
            "--poll",
            "--storm=5",
            "--url=http://127.0.0.1:1",
        ] {
            assert!(
                Args::try_parse_args_from(["livequeue-loadgen", "--guide-js", other]).is_err(),
                "--guide-js starts its own servers and is one mode: {other}"
            );
        }
    }

    #[test]
    fn compare_redis_refuses_a_server_it_would_not_start() {
        let given = [
            "livequeue-loadgen",
            "--compare-redis",
            "--url",
            "http://127.0.0.1:1",
        ];
        assert!(
            Args::try_parse_from(given).is_err(),
            "--url names one server; the comparison starts its own"
        );
        let zero = ["livequeue-loadgen", "--compare-redis", "--redis-nodes", "0"];
        assert!(Args::try_parse_from(zero).is_err(), "a setup needs a node");
    }
}
