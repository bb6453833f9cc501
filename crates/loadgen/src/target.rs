//! The server under test: a child process we start, or a running server given by URL.

use std::net::{IpAddr, SocketAddr, TcpListener as StdListener};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use livequeue_protocol::Endpoint;
use tokio::process::{Child, Command};

use crate::procfs::Proc;
use crate::{Error, Result};

/// How long a started server gets to answer `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Heartbeats and pings every hour: within a run the only events are our stock updates, so
/// every delivery counted and every CPU microsecond measured belongs to them.
const QUIET_SECS: &str = "3600";

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
    /// Starts `bin` on a free loopback port and waits until it answers.
    pub async fn spawn(bin: &Path, admin_token: &str) -> Result<Self> {
        let addr = free_loopback_port()?;
        let child = Command::new(bin)
            .arg("--addr")
            .arg(addr.to_string())
            .args(["--heartbeat-secs", QUIET_SECS, "--ws-ping-secs", QUIET_SECS])
            .env("LIVEQUEUE_ADMIN_TOKEN", admin_token)
            .env("LIVEQUEUE_SECRET", "loadgen-secret-not-for-production")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", bin.display()), e))?;
        let target = Self {
            addr,
            base_url: format!("http://{addr}"),
            pid: child.id(),
            child: Some(child),
        };
        target.wait_ready().await?;
        Ok(target)
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
        let target = Self {
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

    async fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let url = format!("{}{}", self.base_url, Endpoint::Health.route());
        let client = crate::api::loopback_client();
        loop {
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Setup(format!(
                    "server at {} never answered {url}",
                    self.addr
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
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

/// A loopback port nobody listens on now. Another process could take it before the server
/// binds it; the server then fails to start and we say so.
fn free_loopback_port() -> Result<SocketAddr> {
    let listener = StdListener::bind((IpAddr::from([127, 0, 0, 1]), 0))
        .map_err(|e| Error::io("finding a free port", e))?;
    listener
        .local_addr()
        .map_err(|e| Error::io("finding a free port", e))
}
