//! One server node under test: a child process we start, or a running server given by URL.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use livequeue_protocol::Endpoint;
use tokio::process::Child;

use crate::child;
use crate::procfs::Proc;
use crate::{Error, Result};

/// Heartbeats and pings every hour: within a run the only events are our stock updates, so
/// every delivery counted and every CPU microsecond measured belongs to them.
const QUIET_SECS: &str = "3600";

/// The secret every node we start signs shopper tokens with: one for all, so that a shopper
/// joined through one node may connect to another.
const SECRET: &str = "loadgen-secret-not-for-production";

/// The server's own variable for `--redis`: removed from a node that must keep its queue in
/// memory, so that one set in our environment cannot turn it into a Redis node.
const REDIS_URL_VAR: &str = "LIVEQUEUE_REDIS_URL";

/// The program that sends a server SIGTERM (procps or util-linux, on `PATH`).
const KILL: &str = "kill";

/// How a server asked to stop with [`Target::terminate`] ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// It exited by itself, with this status.
    Exited(String),
    /// It was still running after the patience given, and was killed.
    Killed,
}

/// A server to measure.
#[derive(Debug)]
pub struct Target {
    /// Where it listens (always a loopback address).
    pub addr: SocketAddr,
    /// `http://addr`, for the setup calls.
    pub base_url: String,
    /// Its pid, for memory and CPU figures; `None` for a `--url` server without `--server-pid`.
    pub pid: Option<u32>,
    /// The child when we started it; killed on drop.
    child: Option<Child>,
}

impl Target {
    /// Starts `bin` on a free loopback port, with its queue in memory or, given `redis`
    /// (`redis://…`), in that Redis, and waits until it answers.
    pub async fn spawn(bin: &Path, admin_token: &str, redis: Option<&str>) -> Result<Self> {
        let mut target = Self::start_on(child::free_loopback_port()?, bin, admin_token, redis)?;
        target.wait_ready().await?;
        Ok(target)
    }

    /// Starts `bin` on `addr` like [`Target::spawn`] but returns at once, before it answers
    /// (call [`Target::wait_ready`]): a restart on the same port can then watch the new
    /// process from its first instant.
    pub fn start_on(
        addr: SocketAddr,
        bin: &Path,
        admin_token: &str,
        redis: Option<&str>,
    ) -> Result<Self> {
        let mut command = child::command(bin)?;
        command
            .arg("--addr")
            .arg(addr.to_string())
            .args(["--heartbeat-secs", QUIET_SECS, "--ws-ping-secs", QUIET_SECS])
            .env("LIVEQUEUE_ADMIN_TOKEN", admin_token)
            .env("LIVEQUEUE_SECRET", SECRET)
            .env("RUST_LOG", "warn");
        match redis {
            Some(url) => command.arg("--redis").arg(url),
            None => command.env_remove(REDIS_URL_VAR),
        };
        let child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", bin.display()), e))?;
        Ok(Self {
            addr,
            base_url: format!("http://{addr}"),
            pid: child.id(),
            child: Some(child),
        })
    }

    /// A running server at `url` (which must be on loopback: this tool sends traffic
    /// nowhere else).
    pub async fn attach(url: &str, pid: Option<u32>) -> Result<Self> {
        let parsed = reqwest::Url::parse(url).map_err(|e| Error::Setup(format!("--url: {e}")))?;
        let addrs = parsed
            .socket_addrs(|| Some(80))
            .map_err(|e| Error::io("resolving --url", e))?;
        let addr = addrs
            .into_iter()
            .find(|a| a.ip().is_loopback() && a.is_ipv4())
            .ok_or_else(|| Error::Setup(format!("--url {url} is not an IPv4 loopback address")))?;
        let mut target = Self {
            addr,
            base_url: format!("http://{addr}"),
            pid,
            child: None,
        };
        target.wait_ready().await?;
        Ok(target)
    }

    /// The server process, when we know it.
    pub fn proc(&self) -> Option<Proc> {
        self.pid.map(Proc::Pid)
    }

    /// Waits until the server answers `/healthz` (see [`child::wait_ready`]).
    pub async fn wait_ready(&mut self) -> Result<()> {
        let url = format!("{}{}", self.base_url, Endpoint::Health.route());
        let client = crate::api::loopback_client();
        let what = format!("the server at {}", self.addr);
        let (client, url) = (&client, &url);
        child::wait_ready(&what, self.child.as_mut(), move || async move {
            client
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await
    }

    /// Asks a server we started to shut down (SIGTERM, as a deployment's restart does: it
    /// ends its streams and closes its WebSockets with `1012`), and waits up to `patience`
    /// for it to exit; past that it is killed. Returns how it ended.
    pub async fn terminate(&mut self, patience: Duration) -> Result<Ended> {
        let (Some(child), Some(pid)) = (self.child.as_mut(), self.pid) else {
            return Err(Error::Setup(
                "only a server we started can be restarted".into(),
            ));
        };
        // `kill(1)` rather than `libc::kill`: this workspace forbids `unsafe`, and a signal
        // other than SIGKILL is not in tokio's `Child`.
        let sent = tokio::process::Command::new(KILL)
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .map_err(|e| Error::io(format!("running {KILL} -TERM {pid}"), e))?;
        if !sent.success() {
            return Err(Error::Setup(format!("{KILL} -TERM {pid} failed ({sent})")));
        }
        match tokio::time::timeout(patience, child.wait()).await {
            Ok(Ok(status)) => Ok(Ended::Exited(status.to_string())),
            Ok(Err(e)) => Err(Error::io(format!("waiting for server {pid}"), e)),
            Err(_) => {
                // Killed is as good as exited for a restart; the timeout is reported.
                let _ = child.kill().await;
                Ok(Ended::Killed)
            }
        }
    }

    /// Stops a server we started (SIGKILL: its shutdown path is not what is measured).
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            // Already gone is as good as stopped.
            let _ = child.kill().await;
        }
    }
}
