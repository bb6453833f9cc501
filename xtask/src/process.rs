//! Child processes owned by a guard, free ports, and waiting for a server to answer.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::shell::{Error, Result, command, describe};

/// How long a stopped child gets to exit on SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running child process, stopped (SIGTERM, then SIGKILL) when the guard drops: on
/// success, on error, and on panic alike.
pub struct Guard {
    name: String,
    child: Child,
    /// Where its output goes, when it is not the terminal.
    log: Option<PathBuf>,
}

impl Guard {
    /// Starts `command`, with its output in the terminal.
    pub fn spawn(name: &str, command: &mut Command) -> Result<Self> {
        println!("$ {}", describe(command));
        let child = command
            .spawn()
            .map_err(|e| Error(format!("cannot start {name}: {e}")))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: None,
        })
    }

    /// Starts `command` with its output in the file `log`.
    pub fn spawn_logged(name: &str, command: &mut Command, log: &Path) -> Result<Self> {
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = File::create(log)?;
        let err = out.try_clone()?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        println!("$ {}  > {}", describe(command), log.display());
        let child = command
            .spawn()
            .map_err(|e| Error(format!("cannot start {name}: {e}")))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: Some(log.to_path_buf()),
        })
    }

    /// The child's process id (for tests that stop it themselves).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the child has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits for the child to end by itself.
    pub fn wait(&mut self) -> Result<std::process::ExitStatus> {
        Ok(self.child.wait()?)
    }

    /// The last lines of the child's log, to explain a failure.
    pub fn log_tail(&self, lines: usize) -> String {
        let Some(log) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops the child: SIGTERM (so servers shut down cleanly and `cargo`/`trunk` stop their
    /// own children), then SIGKILL after [`STOP_GRACE`].
    pub fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        println!("stopping {} (pid {})", self.name, self.child.id());
        // `kill` is used rather than a libc call: the workspace forbids `unsafe`.
        let _ = command("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Already gone if this fails; there is nothing else to do.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port that was free a moment ago. Another process could take it before it is
/// used; for tests on one machine that race is remote, and a clash shows up as a clear error.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until `GET path` on `addr` answers `200`, failing early if `guard`'s process ends.
pub fn wait_for_http(guard: &mut Guard, addr: SocketAddr, path: &str, timeout: Duration) -> Result {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = guard.exited() {
            return Err(Error(format!(
                "{} exited ({status}) before answering:\n{}",
                guard.name,
                guard.log_tail(30)
            )));
        }
        if http_ok(addr, path) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error(format!(
                "{} did not answer GET {path} on {addr} within {timeout:?}:\n{}",
                guard.name,
                guard.log_tail(30)
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until something accepts TCP connections on `addr` (for servers without a health
/// endpoint, such as `trunk serve`).
pub fn wait_for_port(guard: &mut Guard, addr: SocketAddr, timeout: Duration) -> Result {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = guard.exited() {
            return Err(Error(format!("{} exited ({status})", guard.name)));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(Error(format!(
        "{} is not listening on {addr} after {timeout:?}",
        guard.name
    )))
}

/// One plain HTTP/1.0 request: whether the answer's status is `200`.
fn http_ok(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}
