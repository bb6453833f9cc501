//! `cargo xtask test`: everything CI checks, in the order that fails fastest.
//!
//! 1. `cargo fmt --check`; clippy on the host crates, and on the widget for wasm32.
//! 2. The host crates' tests, with a private Redis when `redis-server` is available
//!    (`LIVEQUEUE_TEST_REDIS`).
//! 3. The widget's tests in headless Chromium, against real servers (see `browser.rs`).
//! 4. The release bundle, and its size raw and gzipped.
//!
//! Clippy and the native tests run on every crate but the widget, which is a wasm32 crate
//! checked and tested for that target in its own steps.

use std::path::PathBuf;
use std::time::Duration;

use crate::process::{Guard, free_port, wait_for_port};
use crate::setup::{self, Needs};
use crate::shell::{self, Result, command, probe_stdout, run as run_command, step};
use crate::size;

/// The crates checked and tested on the host: all but the widget, which targets wasm32 and
/// is checked and tested for it in its own steps.
const HOST_CRATES: [&str; 3] = ["--workspace", "--exclude", "livequeue"];

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` at the root).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| shell::root().join("target"))
}

/// Runs every check; the first failure stops the run.
pub fn run() -> Result {
    setup::run(&Needs::for_tests(true))?;

    step("format");
    run_command(command("cargo").args(["fmt", "--all", "--check"]))?;

    step("clippy: host crates");
    run_command(command("cargo").arg("clippy").args(HOST_CRATES).args([
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    step("clippy: widget (wasm32)");
    run_command(command("cargo").args([
        "clippy",
        "-p",
        "livequeue",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    step("tests: host crates");
    {
        let redis = start_redis()?;
        let mut tests = command("cargo");
        tests.arg("test").args(HOST_CRATES);
        if let Some((_, url)) = &redis {
            tests.env("LIVEQUEUE_TEST_REDIS", url);
        }
        run_command(&mut tests)?;
        // `redis` drops here: the private Redis stops.
    }

    step("tests: widget in headless Chromium against real servers");
    crate::browser::run()?;

    step("release bundle");
    run_command(crate::trunk::command_for_trunk()?.args(["build", "--release"]))?;
    size::report(&size::measure(&shell::root().join("dist"))?)?;

    println!("\nall checks passed");
    Ok(())
}

/// A private Redis on a free loopback port, with its URL, when `redis-server` exists.
///
/// It runs in the foreground as a child (not `--daemonize yes`), so that its guard stops it
/// whatever happens to the run.
fn start_redis() -> Result<Option<(Guard, String)>> {
    if probe_stdout(command("redis-server").arg("--version")).is_none() {
        println!("redis-server not found: the Redis tests will be skipped");
        return Ok(None);
    }
    let port = free_port()?;
    let mut redis = Guard::spawn_logged(
        "redis-server",
        command("redis-server").args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]),
        &target_dir().join("xtask/redis.log"),
    )?;
    wait_for_port(
        &mut redis,
        ([127, 0, 0, 1], port).into(),
        Duration::from_secs(10),
    )?;
    let url = format!("redis://127.0.0.1:{port}");
    println!("LIVEQUEUE_TEST_REDIS={url}");
    Ok(Some((redis, url)))
}
