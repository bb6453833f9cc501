//! The processes of one `--guide-js` phase: a redis-server of our own and
//! `node bench/guide-js/server.js` on it, both fresh, both killed with the phase (see
//! [`crate::child`]); and the script's npm dependencies, installed once outside the
//! repository.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Child;

use super::resp;
use crate::child;
use crate::procfs::{Cpu, Memory, Proc, reported};
use crate::{Error, Result};

/// Redis's `maxclients` for the guide: its default of 10,000 would refuse the subscribers
/// of a larger SSE phase (one per client). Redis asks for this many descriptors plus 32, and
/// the machine's hard limit is 20,000.
pub const REDIS_MAXCLIENTS: u32 = 19_900;

/// The guide's heartbeat interval as the loadgen starts the server: an hour, as for
/// livequeue's server, so that no heartbeat falls among the measured publishes (the guide's
/// own 30 s would add one write per client per 30 s to what is counted per delivery).
pub const HEARTBEAT_MS: &str = "3600000";

/// The files npm installs from.
const MANIFESTS: [&str; 2] = ["package.json", "package-lock.json"];

/// Where the guide's dependencies are installed unless `--guide-js-deps` says otherwise:
/// `~/.cache/livequeue/guide-js` (outside the repository, shared by runs, as
/// `cargo xtask bench-load` keeps playwright-core under `~/.cache/livequeue/`).
pub fn default_deps_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/livequeue/guide-js")
}

/// Installs the dependencies of the script's directory (`package.json` and its
/// `package-lock.json`, exact versions) into `deps` with `npm ci`, unless `deps` already
/// holds an install of these same two files; returns its `node_modules`.
pub async fn ensure_deps(script: &Path, deps: &Path) -> Result<PathBuf> {
    let source = script
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let modules = deps.join("node_modules");
    let read = |path: PathBuf| {
        std::fs::read(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
    };
    let mut same = modules.join(".package-lock.json").is_file();
    for name in MANIFESTS {
        let wanted = read(source.join(name))?;
        same &= std::fs::read(deps.join(name)).is_ok_and(|have| have == wanted);
    }
    if same {
        return Ok(modules);
    }
    eprintln!(
        "installing the guide's dependencies ({}) into {} with npm ci",
        source.join("package-lock.json").display(),
        deps.display()
    );
    std::fs::create_dir_all(deps)
        .map_err(|e| Error::io(format!("creating {}", deps.display()), e))?;
    for name in MANIFESTS {
        std::fs::copy(source.join(name), deps.join(name))
            .map_err(|e| Error::io(format!("copying {name} to {}", deps.display()), e))?;
    }
    let status = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--omit=dev"])
        .current_dir(deps)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .await
        .map_err(|e| Error::io("running npm ci (is npm installed?)", e))?;
    if !status.success() {
        // A half install must not pass for a whole one next time.
        let _ = std::fs::remove_file(deps.join("package-lock.json"));
        return Err(Error::Setup(format!(
            "npm ci in {} failed ({status})",
            deps.display()
        )));
    }
    Ok(modules)
}

/// How to start the guide's server.
#[derive(Debug, Clone)]
pub struct GuideLaunch {
    /// `node`.
    pub node: PathBuf,
    /// `bench/guide-js/server.js`.
    pub script: PathBuf,
    /// The `node_modules` it requires from (given to node as `NODE_PATH`).
    pub modules: PathBuf,
    /// `redis-server`.
    pub redis: PathBuf,
}

/// One process we started.
#[derive(Debug)]
struct Started {
    addr: SocketAddr,
    pid: Option<u32>,
    child: Child,
}

impl Started {
    fn proc(&self) -> Option<Proc> {
        self.pid.map(Proc::Pid)
    }
}

/// Node on Redis: the guide's server.
#[derive(Debug)]
pub struct GuideServers {
    node: Started,
    redis: Started,
}

impl GuideServers {
    /// Starts a fresh redis-server, then node with the script on it, and waits for both.
    pub async fn start(launch: &GuideLaunch) -> Result<Self> {
        let redis = start_redis(&launch.redis).await?;
        eprintln!(
            "started {} (pid {:?}) on {} with maxclients {REDIS_MAXCLIENTS}",
            launch.redis.display(),
            redis.pid,
            redis.addr
        );
        let node = start_node(launch, redis.addr).await?;
        eprintln!(
            "started {} {} (pid {:?}) on {}",
            launch.node.display(),
            launch.script.display(),
            node.pid,
            node.addr
        );
        Ok(Self { node, redis })
    }

    /// Where node listens.
    pub fn node_addr(&self) -> SocketAddr {
        self.node.addr
    }

    /// Where Redis listens.
    pub fn redis_addr(&self) -> SocketAddr {
        self.redis.addr
    }

    /// `http://addr` of node.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.node.addr)
    }

    /// Node's memory.
    pub fn node_memory(&self) -> Option<Memory> {
        reported(self.node.proc()?, "node memory", Proc::memory)
    }

    /// Redis's memory.
    pub fn redis_memory(&self) -> Option<Memory> {
        reported(self.redis.proc()?, "redis memory", Proc::memory)
    }

    /// Node's CPU time.
    pub fn node_cpu(&self) -> Option<Cpu> {
        reported(self.node.proc()?, "node cpu", Proc::cpu)
    }

    /// Redis's CPU time.
    pub fn redis_cpu(&self) -> Option<Cpu> {
        reported(self.redis.proc()?, "redis cpu", Proc::cpu)
    }

    /// Kills node, then Redis.
    pub async fn stop(mut self) {
        // Already gone is as good as stopped.
        let _ = self.node.child.kill().await;
        let _ = self.redis.child.kill().await;
    }
}

async fn start_redis(bin: &Path) -> Result<Started> {
    let addr = child::free_loopback_port()?;
    let mut child = child::command(bin)?
        .args(["--port", &addr.port().to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--maxclients", &REDIS_MAXCLIENTS.to_string()])
        .args(["--loglevel", "warning"])
        .spawn()
        .map_err(|e| Error::io(format!("starting {}", bin.display()), e))?;
    let what = format!("redis-server on {addr}");
    child::wait_ready(&what, Some(&mut child), || resp::ping(addr)).await?;
    Ok(Started {
        addr,
        pid: child.id(),
        child,
    })
}

async fn start_node(launch: &GuideLaunch, redis: SocketAddr) -> Result<Started> {
    let addr = child::free_loopback_port()?;
    let mut child = child::command(&launch.node)?
        .arg(&launch.script)
        .arg(addr.port().to_string())
        .env("REDIS_URL", format!("redis://{redis}/"))
        .env("NODE_PATH", &launch.modules)
        .env("GUIDE_HEARTBEAT_MS", HEARTBEAT_MS)
        .env("NODE_ENV", "production")
        .spawn()
        .map_err(|e| Error::io(format!("starting {}", launch.node.display()), e))?;
    let client = crate::api::loopback_client();
    let url = format!("http://{addr}/healthz");
    let what = format!("the guide's server at {addr}");
    let (client, url) = (&client, &url);
    child::wait_ready(&what, Some(&mut child), move || async move {
        client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await?;
    Ok(Started {
        addr,
        pid: child.id(),
        child,
    })
}

/// `node --version`, for the report.
pub async fn node_version(node: &Path) -> Option<String> {
    let out = tokio::process::Command::new(child::resolve(node).ok()?)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .await
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
