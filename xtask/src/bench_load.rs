//! `cargo xtask bench-load`: what a shopper's first and repeat visit cost, in a real browser.
//!
//! The release bundle (precompressed) and the release server, started with `--demo` on a
//! free loopback port; then `bench/first-visit.mjs` drives headless Chromium through the
//! DevTools protocol with `playwright-core`: bytes on the wire for a first and a repeat
//! visit, and the time from navigation start to the shopper's place on screen, cold cache,
//! per network profile (see the script's header for what exactly is measured).
//!
//! The figures are reported, never asserted: times on a shared 2-core machine are not a
//! pass/fail signal. `docs/bench-load.md` holds the last recorded run. The script's JSON
//! has the `figures` array `cargo xtask bench` reads; that command reuses the server and
//! the script's command line from here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::{Guard, free_port, wait_for_http};
use crate::shell::{self, Error, Result, command, probe_stdout, run as run_command, step};

/// The playwright-core major version installed from npm (it drives Debian's Chromium; its
/// own browser downloads are unreachable from this machine).
const PLAYWRIGHT_VERSION: &str = "1";
/// Cold-cache page loads per network profile; the median and p90 are reported.
pub const RUNS: u32 = 10;
/// The experience the demo server creates, whose page the shoppers open.
const EXPERIENCE: &str = "demo-drop";
/// The operator token of the servers started here (a benchmark's, on loopback).
pub const ADMIN_TOKEN: &str = "bench-admin-token";

/// Where playwright-core is installed with npm (outside the repository, shared by runs).
pub fn playwright_prefix() -> PathBuf {
    shell::home().join(".cache/livequeue/playwright")
}

/// Builds the bundle and the server for release, serves the demo and runs the browser
/// measurement against it, printing its table; the server is stopped on every exit path.
pub fn run() -> Result {
    playwright()?;

    step("widget: trunk build --release (dist/, precompressed)");
    let dist = crate::bundle::build_release()?;

    step("server: cargo build --release");
    run_command(command("cargo").args(["build", "--release", "-p", "livequeue-server"]))?;

    step("serving the demo on a free port");
    let (mut server, addr) = serve(
        &dist,
        &[],
        &shell::target_dir().join("xtask/bench-load-server.log"),
    )?;

    step("bundle size (.wasm + .js)");
    print_bundle_size(&crate::size::measure(&dist)?);

    step(&format!(
        "headless Chromium: first and repeat visit, {RUNS} cold loads per network profile"
    ));
    let json = shell::target_dir().join("xtask/bench-load.json");
    run_command(&mut first_visit(addr, RUNS, None, &json))?;
    println!("\nevery figure: {}", json.display());
    server.stop();
    Ok(())
}

/// Starts the release server (`target/release/livequeue-server`, built by the caller) with
/// `--demo` and `extra` on a free loopback port, serving `dist`, with [`ADMIN_TOKEN`] as its
/// operator token; returns once it answers `/healthz`. The guard stops it.
pub fn serve(dist: &Path, extra: &[&str], log: &Path) -> Result<(Guard, SocketAddr)> {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let binary = shell::target_dir().join("release/livequeue-server");
    let mut server = Guard::spawn_logged(
        "livequeue-server",
        command(&binary.to_string_lossy())
            .args(["--demo", "--addr", &addr.to_string(), "--dist"])
            .arg(dist)
            .args(extra)
            .env("LIVEQUEUE_SECRET", shell::demo_secret())
            .env("LIVEQUEUE_ADMIN_TOKEN", ADMIN_TOKEN),
        log,
    )?;
    wait_for_http(&mut server, addr, "/healthz", Duration::from_secs(30))?;
    Ok((server, addr))
}

/// `node bench/first-visit.mjs` against the demo at `addr`: `runs` cold loads per network
/// profile (`profiles`, comma-separated, or the script's three), every figure into `json`.
pub fn first_visit(addr: SocketAddr, runs: u32, profiles: Option<&str>, json: &Path) -> Command {
    let mut node = command("node");
    node.arg(shell::root().join("bench/first-visit.mjs"))
        // `join=auto`: the figure is the time to a first place, not to a click.
        .arg(format!("http://{addr}/?experience={EXPERIENCE}&join=auto"))
        .args(["--runs", &runs.to_string()]);
    if let Some(profiles) = profiles {
        node.args(["--profiles", profiles]);
    }
    node.arg("--json")
        .arg(json)
        .env("LIVEQUEUE_PLAYWRIGHT", playwright_prefix());
    node
}

/// Installs playwright-core into [`playwright_prefix`] unless it is already there.
pub fn playwright() -> Result {
    let prefix = playwright_prefix();
    let manifest = prefix.join("node_modules/playwright-core/package.json");
    if manifest.exists() {
        println!("ok: playwright-core in {}", prefix.display());
        return Ok(());
    }
    if probe_stdout(command("npm").arg("--version")).is_none() {
        return Err(Error(
            "npm is missing: `cargo xtask setup` installs it with binaryen".to_owned(),
        ));
    }
    std::fs::create_dir_all(&prefix)?;
    run_command(
        command("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("playwright-core@{PLAYWRIGHT_VERSION}")),
    )
}

/// The shopper bundle's total, the figure the size budget is about, next to the browser's.
fn print_bundle_size(sizes: &[crate::size::FileSize]) {
    let raw: u64 = sizes.iter().map(|s| s.raw).sum();
    let gzip: u64 = sizes.iter().map(|s| s.gzip).sum();
    let brotli: u64 = sizes.iter().map(|s| s.brotli).sum();
    println!("raw {raw} B, gzip -9 {gzip} B, brotli 11 {brotli} B");
}
