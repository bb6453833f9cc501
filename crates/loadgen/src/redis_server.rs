//! A `redis-server` of the loadgen's own, for the nodes of a Redis phase to share: on a
//! free loopback port, keeping nothing on disk, killed when dropped (see [`crate::child`]).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::time::timeout;

use crate::child;
use crate::procfs::Proc;
use crate::{Error, Result};

/// The program, looked up on `PATH` (Debian's package puts it in `/usr/bin`).
pub const REDIS_SERVER: &str = "redis-server";

/// What a ready server answers to `PING` (a loading one answers `-LOADING …`).
const PONG: &[u8] = b"+PONG\r\n";

/// How long one `PING` may take: an answer shorter than [`PONG`] would otherwise leave the
/// read waiting for bytes that never come.
const PING_TIMEOUT: Duration = Duration::from_millis(500);

/// One redis-server process.
#[derive(Debug)]
pub struct RedisServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its pid, for its CPU time.
    pub pid: Option<u32>,
    /// The process; killed on drop.
    child: Child,
}

impl RedisServer {
    /// Starts `bin` on a free loopback port with no snapshots and no append-only file (the
    /// queue's writes then cost Redis what they cost in memory, not a disk's time), and
    /// waits until it answers `PING`.
    pub async fn spawn(bin: &Path) -> Result<Self> {
        let addr = child::free_loopback_port()?;
        let child = child::command(bin)?
            .args(["--port", &addr.port().to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning"])
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", bin.display()), e))?;
        let mut server = Self {
            addr,
            pid: child.id(),
            child,
        };
        let what = format!("redis-server on {addr}");
        child::wait_ready(&what, Some(&mut server.child), || ping(addr)).await?;
        Ok(server)
    }

    /// `redis://addr/`, for `--redis`.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// The process, for `/proc`.
    pub fn proc(&self) -> Option<Proc> {
        self.pid.map(Proc::Pid)
    }

    /// Stops it (SIGKILL: it keeps nothing worth a clean shutdown).
    pub async fn stop(mut self) {
        // Already gone is as good as stopped.
        let _ = self.child.kill().await;
    }
}

/// Whether the server at `addr` answers `PING` with `PONG` within [`PING_TIMEOUT`].
async fn ping(addr: SocketAddr) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut answer = [0u8; PONG.len()];
        stream.read_exact(&mut answer).await?;
        Ok::<_, std::io::Error>(answer == PONG)
    };
    matches!(timeout(PING_TIMEOUT, exchange).await, Ok(Ok(true)))
}
