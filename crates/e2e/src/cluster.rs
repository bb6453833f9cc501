//! [`Cluster`]: N `livequeue-server` nodes sharing one Redis, behind nginx running the
//! repository's `deploy/nginx.conf`, all real processes on free loopback ports, for the
//! scale-out tests (`tests/scale_out.rs`).
//!
//! - [`redis`]: the cluster's own `redis-server`, persistent (append-only file, fsync on
//!   every write), so killed and started again on its port it keeps what it acknowledged.
//! - [`node`]: one server node (`LIVEQUEUE_E2E_SERVER`, `--redis`), killed and restarted on
//!   the port it keeps.
//! - [`nginx`]: nginx in front of the nodes, its includes written by xtask's own code.
//!
//! Everything lives in one directory under `std::env::temp_dir()` (Redis's data, nginx's
//! prefix, every process's log), removed when the cluster drops; the processes are killed
//! then too, nginx first. A test that panics gets the tail of every log printed first, so
//! its failure comes with what the servers said.
//!
//! `LIVEQUEUE_E2E_BACKEND=memory` starts the same nodes without Redis, each with its own
//! in-memory line: the scale-out tests must then fail, which shows they can tell one shared
//! queue from separate ones (and it checks this harness without the Redis engine).

pub mod nginx;
pub mod node;
pub mod redis;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use livequeue_protocol::api::CreateExperience;

use crate::api::Api;
use crate::free_port;
use crate::process::Launch;
use crate::server::{binary, dist};
use nginx::Nginx;
use node::Node;
use redis::Redis;

/// The nodes' operator token.
pub const ADMIN: &str = "scale-out-admin";
/// The nodes' shared token secret: a shopper's token is good on every node.
const SECRET: &str = "scale-out-secret";
/// The nodes' engine tick (`--tick-ms`): a fifth of the default second, so that what a
/// node learns on its tick reaches the tests quickly, and still far above what a 2-core
/// machine needs per tick.
const TICK_MS: &str = "200";
/// The nodes' metric of their open shopper streams, by transport
/// (`crates/server/src/metrics.rs`).
const CONNECTIONS: &str = "livequeue_connections";
/// Lines of each log printed when a test fails.
const TAIL: usize = 40;

/// Where the nodes keep their lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One Redis shared by every node (`--redis`): the deployment under test.
    Redis,
    /// No Redis: each node its own in-memory line. The scale-out tests fail on it.
    Memory,
}

impl Backend {
    /// `LIVEQUEUE_E2E_BACKEND` (`memory` or `redis`), else Redis.
    pub fn from_env() -> Self {
        match std::env::var("LIVEQUEUE_E2E_BACKEND").as_deref() {
            Ok("memory") => Backend::Memory,
            Ok("redis") | Ok("") | Err(_) => Backend::Redis,
            Ok(other) => panic!("LIVEQUEUE_E2E_BACKEND is `{other}`: expected redis or memory"),
        }
    }
}

/// A running cluster; everything stops, and its directory goes, when it drops.
pub struct Cluster {
    /// nginx in front of every node.
    pub nginx: Nginx,
    /// The nodes, in the order of nginx's node list.
    pub nodes: Vec<Node>,
    /// The shared Redis; `None` with [`Backend::Memory`].
    redis: Option<Redis>,
    /// Everything's files, held for its drop: the last field, so it goes after every
    /// process.
    _dir: Scratch,
}

/// A directory of the cluster's files, removed when dropped: also when a cluster fails to
/// start, whose processes (dropped before it) are killed first.
struct Scratch(PathBuf);

impl Scratch {
    /// `std::env::temp_dir()/livequeue-cluster-{name}-{pid}`, made afresh.
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("livequeue-cluster-{name}-{}", std::process::id()));
        // A previous run's leftovers, if a killed run left any.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // A leftover directory under the temp dir harms nothing.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Cluster {
    /// Starts Redis, `nodes` nodes sharing it and nginx in front of them, on the back end
    /// of [`Backend::from_env`]; returns once every node is ready (`/readyz` 200) and nginx
    /// reaches them. `name` names the directory (one per test).
    pub async fn start(name: &str, nodes: usize) -> Self {
        let backend = Backend::from_env();
        let scratch = Scratch::new(name);
        let dir = &scratch.0;
        let redis = match backend {
            Backend::Redis => Some(Redis::start(dir.join("redis")).await),
            Backend::Memory => None,
        };
        let (program, dist) = (binary(), dist());
        let mut started = Vec::with_capacity(nodes);
        for index in 0..nodes {
            let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
            let mut args: Vec<OsString> = vec![
                "--addr".into(),
                addr.to_string().into(),
                "--dist".into(),
                dist.clone().into(),
                "--tick-ms".into(),
                TICK_MS.into(),
            ];
            if let Some(redis) = &redis {
                args.extend(["--redis".into(), redis.url().into()]);
            }
            let launch = Launch {
                program: program.clone(),
                args,
                env: vec![
                    ("LIVEQUEUE_SECRET".into(), SECRET.into()),
                    ("LIVEQUEUE_ADMIN_TOKEN".into(), ADMIN.into()),
                    ("RUST_LOG".into(), "info".into()),
                    ("NO_COLOR".into(), "1".into()),
                ],
            };
            let api = Api::new(format!("http://{addr}"), ADMIN);
            let log = dir.join(format!("node-{index}.log"));
            let mut node = Node::start(index, addr, api, launch, log).await;
            node.wait_readyz(200, Duration::from_secs(15)).await;
            started.push(node);
        }
        let addrs: Vec<SocketAddr> = started.iter().map(|n| n.addr).collect();
        let nginx = Nginx::start(dir.join("nginx"), &addrs, ADMIN).await;
        Self {
            nginx,
            nodes: started,
            redis,
            _dir: scratch,
        }
    }

    /// Creates `body`'s experience through node 0 alone: with Redis every node serves it
    /// from then on. With [`Backend::Memory`] it is created on every node, each in its own
    /// line, so the tests fail where a line is not shared rather than on a missing id.
    pub async fn create(&self, body: &CreateExperience) {
        let creators = match self.redis {
            Some(_) => &self.nodes[..1],
            None => &self.nodes[..],
        };
        for node in creators {
            node.api.create(body).await;
        }
    }

    /// The shared Redis, to stop and start; panics on [`Backend::Memory`], where there is
    /// none.
    pub fn redis(&mut self) -> &mut Redis {
        self.redis
            .as_mut()
            .expect("this cluster runs without Redis (LIVEQUEUE_E2E_BACKEND=memory)")
    }

    /// The index of the one running node that holds an open shopper stream (SSE or
    /// WebSocket), once exactly one does and holds exactly one; panics with every node's
    /// count after `within`. Read from each node's `/metrics` (`livequeue_connections`, the
    /// node's own streams of every experience: a test's cluster has one experience), not
    /// from the experience's summary, whose counts are the whole cluster's on Redis.
    pub async fn holder(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let mut counts = Vec::new();
            for node in self.nodes.iter().filter(|n| n.is_up()) {
                // A gauge of whole streams: the float is an integer.
                let open = node.api.metric(CONNECTIONS).await as u64;
                counts.push((node.index, open));
            }
            let holding: Vec<(usize, u64)> =
                counts.iter().copied().filter(|&(_, n)| n > 0).collect();
            if let [(index, 1)] = holding[..] {
                return index;
            }
            assert!(
                Instant::now() < deadline,
                "no single node held the one shopper stream within {within:?}: (node, open \
                 streams) {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The tail of every process's log, for a failure's report.
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            out += &format!(
                "--- node {} ({}) ---\n{}\n",
                node.index,
                node.addr,
                node.log_tail(TAIL)
            );
        }
        if let Some(redis) = &self.redis {
            out += &format!(
                "--- redis (port {}) ---\n{}\n",
                redis.port,
                redis.log_tail(TAIL)
            );
        }
        out += &format!(
            "--- nginx ({}) ---\n{}\n",
            self.nginx.addr,
            self.nginx.log_tail(TAIL)
        );
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tails());
        }
        // nginx first, so nothing is proxied to a node going away; Redis last.
        self.nginx.stop();
        for node in &mut self.nodes {
            node.kill();
        }
        if let Some(redis) = &mut self.redis {
            redis.kill();
        }
        // Then `_dir` goes, as the last field.
    }
}
