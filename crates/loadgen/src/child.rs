//! The processes the loadgen starts (server nodes, redis-server), which never outlive it.
//!
//! - Dropping a child's handle kills it (`kill_on_drop`): a normal end, an error that
//!   returns early and a panic that unwinds all drop it.
//! - A signal or a `SIGKILL` that ends the loadgen runs no destructor, so every child is
//!   also started under `setpriv --pdeathsig KILL` (util-linux): the kernel kills it when
//!   the thread that started it ends. That thread is the main one, which runs the whole
//!   measurement (`block_on`). setpriv then `exec`s the program, so the pid we read `/proc`
//!   for is the program's own. Setting the death signal without it would need
//!   `Command::pre_exec`, which is `unsafe`, and this workspace forbids `unsafe`.
//! - [`wait_ready`] notices a child that exited at once instead of waiting out its timeout.

use std::future::Future;
use std::net::{IpAddr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::{Error, Result};

/// util-linux's wrapper that sets the parent-death signal and `exec`s the program.
const SETPRIV: &str = "setpriv";

/// How long a started child gets to answer its readiness probe.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `program` as a path to start: as given when it names a directory (`target/release/…`),
/// otherwise looked up on `PATH` like a shell would.
pub fn resolve(program: &Path) -> Result<PathBuf> {
    let missing = || Error::Setup(format!("{} not found", program.display()));
    if program.components().count() > 1 {
        return program
            .is_file()
            .then(|| program.to_path_buf())
            .ok_or_else(missing);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(missing)
}

/// `setpriv` on this machine, looked up once (`None`, said once, when it is missing).
fn setpriv() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let found = resolve(Path::new(SETPRIV)).ok();
            if found.is_none() {
                eprintln!(
                    "{SETPRIV} (util-linux) is missing: the processes started here are killed \
                     when the loadgen ends normally, fails or is interrupted, but not if it is \
                     killed with SIGKILL"
                );
            }
            found
        })
        .as_deref()
}

/// A command for `program` (see [`resolve`]) that dies with the loadgen, with no input, its
/// output discarded and its errors on ours.
pub fn command(program: &Path) -> Result<Command> {
    let program = resolve(program)?;
    let mut command = match setpriv() {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    Ok(command)
}

/// Polls `probe` every 50 ms until it answers true. Fails when `child` (the process behind
/// it, when we started it) exits first, or after [`START_TIMEOUT`].
pub async fn wait_ready<F, Fut>(
    what: &str,
    mut child: Option<&mut Child>,
    mut probe: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if probe().await {
            return Ok(());
        }
        if let Some(child) = child.as_deref_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            return Err(Error::Setup(format!("{what} exited at start ({status})")));
        }
        if Instant::now() > deadline {
            return Err(Error::Setup(format!(
                "{what} did not answer within {START_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A loopback port nobody listens on now. Another process could take it before our child
/// binds it; the child then exits at start and [`wait_ready`] says so.
pub fn free_loopback_port() -> Result<SocketAddr> {
    let listener = StdListener::bind((IpAddr::from([127, 0, 0, 1]), 0))
        .map_err(|e| Error::io("finding a free port", e))?;
    listener
        .local_addr()
        .map_err(|e| Error::io("finding a free port", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_found_on_path_and_a_missing_path_is_an_error() {
        let sh = resolve(Path::new("sh")).expect("sh is on PATH");
        assert!(sh.is_absolute(), "found as {}", sh.display());
        assert!(
            resolve(Path::new("target/no-such-server")).is_err(),
            "a path that names no file must fail before anything starts"
        );
    }
}
