//! The cluster's own `redis-server`, on a free loopback port, persistent: every write goes to
//! an append-only file, fsynced before Redis answers, so a Redis killed and started again
//! (on the same port, with the same directory) has everything it acknowledged.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::free_port;
use crate::process::{Launch, Service};

/// Where Debian's package puts the server.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// How long a starting Redis may take to answer `PING` (it replays its file first).
const START: Duration = Duration::from_secs(15);

/// One `redis-server`, killed when dropped.
pub struct Redis {
    /// Its loopback port, kept across restarts.
    pub port: u16,
    service: Service,
}

impl Redis {
    /// Starts a Redis keeping its data and its log in `dir` (made if missing) on a free
    /// port; returns once it answers `PING`.
    pub(crate) async fn start(dir: PathBuf) -> Self {
        assert!(
            std::path::Path::new(REDIS_SERVER).is_file(),
            "{REDIS_SERVER} is missing: the scale-out tests run a real Redis. Install it with \
             `apt-get install redis-server` (or `cargo xtask setup --for-tests`, as root)"
        );
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
        let port = free_port();
        let port_arg = port.to_string();
        let mut args: Vec<OsString> = [
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            // No snapshots: the append-only file, fsynced on every write, is the store.
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--daemonize",
            "no",
            "--protected-mode",
            "no",
            "--dir",
        ]
        .map(OsString::from)
        .into();
        args.push(dir.clone().into());
        let launch = Launch::new(REDIS_SERVER, args);
        let service = Service::start(
            &format!("redis (port {port})"),
            launch,
            dir.join("redis.log"),
        );
        let mut redis = Self { port, service };
        redis.wait_for_pong().await;
        redis
    }

    /// `redis://127.0.0.1:<port>/`, what the nodes are given.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills Redis at once (SIGKILL: no shutdown, no last save), as a crash would.
    pub fn kill(&mut self) {
        self.service.kill();
    }

    /// Starts Redis again on the same port with the same data (killing it first if it
    /// runs); returns once it answers `PING`, its file replayed.
    pub async fn restart(&mut self) {
        self.service.restart();
        self.wait_for_pong().await;
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.service.log_tail(lines)
    }

    async fn wait_for_pong(&mut self) {
        let port = self.port;
        self.service
            .wait_until("PONG", START, async || match pong(port).await {
                true => Ok(()),
                false => Err("no PONG".to_owned()),
            })
            .await;
    }
}

/// Whether Redis on `port` answers `PING` with `PONG` (not `LOADING`, not nothing).
async fn pong(port: u16) -> bool {
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).await?;
        std::io::Result::Ok(&answer == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(500), ask).await,
        Ok(Ok(true))
    )
}
