//! The environment every step runs in, and running commands with an echo of each.
//!
//! The project's tools live outside the system `PATH`: cargo-installed binaries in
//! `~/.cargo/bin`, and binaryen's `wasm-opt` in `~/.cache/livequeue/binaryen` (Debian's
//! binaryen produces broken wasm; see `shared/TOOLCHAIN.md`). Every command built here gets
//! both first on its `PATH`, so trunk finds the right `wasm-opt` and `wasm-bindgen` and never
//! tries to download its own.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A failed step, with a message saying which and why.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

/// The result of a step.
pub type Result<T = ()> = std::result::Result<T, Error>;

/// Prints a step header, so the log reads as a list of what happened.
pub fn step(what: &str) {
    println!("\n==> {what}");
}

/// The workspace root (where `Cargo.lock` is), from this crate's manifest directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The user's home directory.
pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// Where binaryen is installed with npm.
pub fn binaryen_prefix() -> PathBuf {
    home().join(".cache/livequeue/binaryen")
}

/// `PATH` with `~/.cargo/bin` and binaryen's `.bin` first.
pub fn tool_path() -> OsString {
    let mut dirs = vec![
        binaryen_prefix().join("node_modules/.bin"),
        home().join(".cargo/bin"),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A command for `program` that runs at the workspace root with the tool `PATH`. Setting
/// `PATH` on the command also makes the lookup of `program` itself use it.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.current_dir(root()).env("PATH", tool_path());
    command
}

/// The command line, for echoing.
pub fn describe(command: &Command) -> String {
    let mut line = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        line.push(' ');
        let arg = arg.to_string_lossy();
        if arg.contains(' ') || arg.is_empty() {
            line.push_str(&format!("'{arg}'"));
        } else {
            line.push_str(&arg);
        }
    }
    line
}

/// Runs `command` with inherited output; fails unless it exits with success.
pub fn run(command: &mut Command) -> Result {
    let line = describe(command);
    println!("$ {line}");
    let status = command
        .status()
        .map_err(|e| Error(format!("cannot start `{line}`: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error(format!("`{line}` failed ({status})")))
    }
}

/// Runs `command` quietly and returns its output, or `None` when it cannot start. Used for
/// probes such as `trunk --version`, where "not installed" is an answer, not an error.
pub fn probe(command: &mut Command) -> Option<Output> {
    command.output().ok()
}

/// The trimmed stdout of a successful probe.
pub fn probe_stdout(command: &mut Command) -> Option<String> {
    probe(command)
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// Whether this process runs as root (`apt-get` is only tried then).
pub fn is_root() -> bool {
    probe_stdout(command("id").arg("-u")).as_deref() == Some("0")
}

/// The token secret of the demo and dev servers: `LIVEQUEUE_SECRET` when set, else a fixed
/// one, so that shoppers' tokens survive a restart of the demo (the in-memory engine then
/// puts them back in line) and the widget reconnects by itself. Not for production.
pub fn demo_secret() -> String {
    std::env::var("LIVEQUEUE_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "livequeue-demo-secret-not-for-production".to_owned())
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` at the root).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A temporary directory for the browser steps, emptied now, given to their commands as
/// `TMPDIR`. Chromium puts its profiles (`org.chromium.Chromium.scoped_dir.*`, ~60 MB each)
/// there, and a Chromium that chromedriver or a test runner kills leaves them behind: in
/// `/tmp` a day of test runs filled the disk. Here each run starts by removing the last
/// run's leftovers, so they never add up.
pub fn browser_tmp(name: &str) -> Result<PathBuf> {
    let dir = target_dir().join("xtask/tmp").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
