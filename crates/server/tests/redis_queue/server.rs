//! A real `redis-server` of the test's own, on a free loopback port, killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package puts the server.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// One redis-server process.
pub struct RedisServer {
    /// The running process; `None` between [`RedisServer::kill`] and
    /// [`RedisServer::restart`].
    child: Option<Child>,
    /// Its loopback port, kept across restarts.
    pub port: u16,
    /// Its data directory when it persists (removed on drop).
    dir: Option<PathBuf>,
}

impl RedisServer {
    /// A server that keeps nothing on disk.
    pub fn start() -> Self {
        Self::launch(free_port(), None)
    }

    /// A server that writes every change to an append-only file, fsynced before it
    /// answers, in a fresh directory: what it acknowledged survives a kill.
    pub fn start_persistent(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lq-redis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir); // a previous run's leftovers, if any
        std::fs::create_dir_all(&dir).expect("cannot create the Redis data directory");
        Self::launch(free_port(), Some(dir))
    }

    fn launch(port: u16, dir: Option<PathBuf>) -> Self {
        let mut server = Self {
            child: None,
            port,
            dir,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        if !Path::new(REDIS_SERVER).exists() {
            panic!(
                "{REDIS_SERVER} is missing: these tests run a real Redis. Install it with \
                 `apt-get install redis-server` (or `cargo xtask setup`)"
            );
        }
        let mut command = Command::new(REDIS_SERVER);
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--daemonize", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match &self.dir {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir),
            None => command.args(["--appendonly", "no"]),
        };
        let child = command.spawn().expect("cannot start redis-server");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until the server answers `PING` with `PONG` (not `LOADING`).
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} never answered PING", self.port);
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server at once (SIGKILL: no shutdown save), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // it may have died already
            let _ = child.wait(); // reaped either way
        }
    }

    /// Starts the server again on the same port, with the same data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir); // a leftover temp dir harms nobody
        }
    }
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind a loopback port");
    listener.local_addr().expect("no local address").port()
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
}
