//! What a phase measures: one server node with its queue in memory, or several nodes
//! sharing one Redis that the loadgen starts, or a server given by `--url`.
//!
//! The loadgen connects to the nodes directly, connection `i` to node `i mod n`: an even
//! split with no load balancer in between, so the figures are the nodes' and Redis's own.
//! Every setup call (create, join, patch) goes to node 0, the operator's node; a Redis
//! node broadcasts a patch made through it to every node's connections.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Add;
use std::path::Path;

use serde::Serialize;

use crate::api::Api;
use crate::procfs::{Cpu, Memory, Proc, reported};
use crate::redis_server::RedisServer;
use crate::target::Target;
use crate::{Error, Result};

/// Which servers a phase runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum Setup {
    /// One node, its queue in its own memory (what the loadgen measures by default).
    Memory,
    /// `nodes` nodes started with `--redis` on one redis-server of the loadgen's own.
    Redis {
        /// How many nodes.
        nodes: usize,
    },
    /// A server already running at `--url`, whatever its back end.
    Attached,
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setup::Memory => f.write_str("1 node, memory"),
            Setup::Redis { nodes } => write!(f, "{nodes} nodes, Redis"),
            Setup::Attached => f.write_str("--url"),
        }
    }
}

/// How to start a setup's processes.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    /// The server binary.
    pub server_bin: &'a Path,
    /// The redis-server binary (Redis setups only).
    pub redis_bin: &'a Path,
    /// The operator token every node is started with.
    pub admin_token: &'a str,
}

/// One node and the client for its API.
#[derive(Debug)]
struct Node {
    target: Target,
    api: Api,
}

/// The servers of one phase. Dropping it kills every process it started.
#[derive(Debug)]
pub struct Cluster {
    /// Which setup this is.
    pub setup: Setup,
    /// Never empty; node 0 takes the operator's calls.
    nodes: Vec<Node>,
    /// The Redis the nodes share, when we started one.
    redis: Option<RedisServer>,
}

impl Cluster {
    /// Starts the processes of `setup` (fresh ones: nothing of a previous phase is reused)
    /// and waits until each answers.
    pub async fn start(setup: Setup, launch: &Launch<'_>) -> Result<Self> {
        let (redis, count) = match setup {
            Setup::Memory => (None, 1),
            Setup::Redis { nodes } => {
                let redis = RedisServer::spawn(launch.redis_bin).await?;
                eprintln!(
                    "started {} (pid {:?}) on {}",
                    launch.redis_bin.display(),
                    redis.pid,
                    redis.addr
                );
                (Some(redis), nodes.max(1))
            }
            Setup::Attached => {
                return Err(Error::Setup(
                    "a server given by --url is attached to, not started".into(),
                ));
            }
        };
        let url = redis.as_ref().map(RedisServer::url);
        let mut targets = Vec::with_capacity(count);
        for _ in 0..count {
            let t = Target::spawn(launch.server_bin, launch.admin_token, url.as_deref()).await?;
            eprintln!(
                "started {} (pid {:?}) on {}{}",
                launch.server_bin.display(),
                t.pid,
                t.addr,
                url.as_deref()
                    .map_or(String::new(), |u| format!(" with --redis {u}"))
            );
            targets.push(t);
        }
        Self::new(setup, targets, redis, launch.admin_token)
    }

    /// The nodes `targets` (node 0 first) and the Redis they share, if we started it.
    pub fn new(
        setup: Setup,
        targets: Vec<Target>,
        redis: Option<RedisServer>,
        admin_token: &str,
    ) -> Result<Self> {
        if targets.is_empty() {
            return Err(Error::Setup("a cluster needs at least one node".into()));
        }
        let nodes = targets
            .into_iter()
            .map(|target| Node {
                api: Api::new(&target.base_url, admin_token),
                target,
            })
            .collect();
        Ok(Self {
            setup,
            nodes,
            redis,
        })
    }

    /// The server at `url` (see [`Target::attach`]).
    pub async fn attach(url: &str, pid: Option<u32>, admin_token: &str) -> Result<Self> {
        let target = Target::attach(url, pid).await?;
        Self::new(Setup::Attached, vec![target], None, admin_token)
    }

    /// The API of node 0, through which the phase creates, joins and publishes.
    pub fn operator(&self) -> &Api {
        &self.nodes[0].api
    }

    /// Every node's API, node 0 first.
    pub fn apis(&self) -> impl Iterator<Item = &Api> {
        self.nodes.iter().map(|n| &n.api)
    }

    /// How many nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Where connection `conn` connects: node `conn mod n`.
    pub fn node_for(&self, conn: usize) -> SocketAddr {
        self.nodes[conn % self.nodes.len()].target.addr
    }

    /// Every node's memory added up; `None` when a node's pid is unknown or unreadable.
    pub fn server_memory(&self) -> Option<Memory> {
        self.sum_over_nodes("memory", Proc::memory)
    }

    /// Every node's CPU time added up; `None` when a node's pid is unknown or unreadable.
    pub fn server_cpu(&self) -> Option<Cpu> {
        self.sum_over_nodes("cpu", Proc::cpu)
    }

    /// The CPU time of the Redis we started (`None` without one).
    pub fn redis_cpu(&self) -> Option<Cpu> {
        let proc = self.redis.as_ref()?.proc()?;
        reported(proc, "redis cpu", Proc::cpu)
    }

    fn sum_over_nodes<T: Add<Output = T>>(
        &self,
        what: &str,
        read: fn(Proc) -> Result<T>,
    ) -> Option<T> {
        let mut readings = self
            .nodes
            .iter()
            .map(|n| n.target.proc().and_then(|p| reported(p, what, read)));
        let first = readings.next()??;
        readings.try_fold(first, |sum, reading| Some(sum + reading?))
    }

    /// Kills every process we started, the nodes before their Redis.
    pub async fn stop(self) {
        for node in self.nodes {
            node.target.stop().await;
        }
        if let Some(redis) = self.redis {
            redis.stop().await;
        }
    }
}
