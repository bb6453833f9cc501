//! `cargo xtask test`: everything CI checks, in the order that fails fastest.
//!
//! 1. `cargo fmt --check`; clippy on the host crates, and on the widget for wasm32.
//! 2. The host crates' tests, and the widget's pure logic (formatting, clock, configuration,
//!    URLs, frame decoding, problems) natively.
//! 3. Two server nodes behind nginx running `deploy/nginx.conf`, and the tests through it
//!    (see `nginx.rs`); the host step lists those tests as ignored.
//! 4. The widget's tests in headless Chromium, against real servers (see `browser.rs`).
//! 5. The release bundle, precompressed, and its size: over the budget fails.
//! 6. The end-to-end tests against that bundle: embedding, then scale-out (see `e2e.rs`).
//!
//! Clippy and the native tests run on every crate but the widget, which is a wasm32 crate
//! checked and tested for that target in its own steps.

use crate::setup::{self, Needs};
use crate::shell::{self, Result, command, run as run_command, step};
use crate::size;

/// The crates checked and tested on the host: all but the widget, which targets wasm32 and
/// is checked and tested for it in its own steps.
const HOST_CRATES: [&str; 3] = ["--workspace", "--exclude", "livequeue"];

/// The host crates whose tests run in the native step: all but the embedding tests, which
/// need the release bundle and run after it ([`crate::e2e`]).
const HOST_TEST_CRATES: [&str; 5] = [
    "--workspace",
    "--exclude",
    "livequeue",
    "--exclude",
    "livequeue-e2e",
];

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
    run_command(command("cargo").arg("test").args(HOST_TEST_CRATES))?;

    step("tests: the widget's pure logic, natively");
    run_command(command("cargo").args(["test", "-p", "livequeue", "--lib"]))?;

    crate::nginx::step_run()?;

    step("tests: widget in headless Chromium against real servers");
    crate::browser::run()?;

    step("release bundle and its budget");
    bundle_size()?;

    crate::e2e::run()?;

    println!("\nall checks passed");
    Ok(())
}

/// Builds the release bundle and fails when it is over its budget.
pub fn bundle_size() -> Result {
    let dist = crate::bundle::build_release()?;
    let unoptimized =
        shell::target_dir().join("wasm32-unknown-unknown/wasm-release/livequeue.wasm");
    let console = size::measure(&dist.join(crate::bundle::CONSOLE_DIR))?;
    size::report_console(&console);
    size::check(&size::measure(&dist)?, &unoptimized)
}
