//! `cargo xtask e2e` (and a step of `cargo xtask test`): embedding the widget in shops'
//! pages, end to end (`crates/e2e`): the real server binary with `--demo`, shop pages on
//! other origins, headless Chromium through chromedriver (and headless Firefox through
//! geckodriver where the engines differ).
//!
//! The tests serve the release bundle in `dist/`: `cargo xtask test` runs them right after
//! building it (the bundle and budget step); `cargo xtask e2e` builds it first (or, with
//! `--reuse-bundle`, tests the one in `dist/`). Nothing is skipped: without chromedriver,
//! Firefox, geckodriver or a bundle the step fails and says what is missing.

use std::path::PathBuf;

use crate::setup::{CHROMEDRIVER, FIREFOX, geckodriver_path};
use crate::shell::{self, Error, Result, command, run as run_command, step};

/// Builds the release bundle, then runs the embedding tests.
pub fn run_with_bundle() -> Result {
    step("release bundle (dist/) for the embedding tests");
    crate::bundle::build_release()?;
    run()
}

/// Builds the server and runs the embedding tests against `dist/` as it is.
pub fn run() -> Result {
    let chromedriver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CHROMEDRIVER));
    if !chromedriver.is_file() {
        return Err(Error(format!(
            "the embedding tests need chromedriver, not found at {}: run `cargo xtask setup \
             --for-tests` (as root) or `apt-get install chromium chromium-driver`, or set \
             CHROMEDRIVER",
            chromedriver.display()
        )));
    }
    let geckodriver = std::env::var_os("GECKODRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(geckodriver_path);
    if !geckodriver.is_file() {
        return Err(Error(format!(
            "the embedding tests need geckodriver, not found at {}: run `cargo xtask setup \
             --for-tests` or `cargo install geckodriver --version {} --locked`, or set \
             GECKODRIVER",
            geckodriver.display(),
            crate::setup::GECKODRIVER_VERSION
        )));
    }
    // The tests' own default, which `LIVEQUEUE_E2E_FIREFOX` overrides.
    let firefox = std::env::var_os("LIVEQUEUE_E2E_FIREFOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(FIREFOX));
    if !firefox.is_file() {
        return Err(Error(format!(
            "the embedding tests need Firefox, not found at {}: run `cargo xtask setup \
             --for-tests` (as root) or `apt-get install firefox-esr`, or set \
             LIVEQUEUE_E2E_FIREFOX",
            firefox.display()
        )));
    }
    let dist = shell::root().join("dist");
    if !dist.join("index.html").is_file() {
        return Err(Error(format!(
            "no widget bundle in {}: run `cargo xtask size` (or `cargo xtask e2e`, which builds it)",
            dist.display()
        )));
    }

    step("embedding tests: server build");
    run_command(command("cargo").args(["build", "-p", "livequeue-server"]))?;

    step("embedding tests: shops on other origins, headless Chromium and Firefox (crates/e2e)");
    let server = shell::target_dir().join("debug/livequeue-server");
    let tmp = shell::browser_tmp("e2e")?;
    let result = run_command(
        command("cargo")
            .args(["test", "-p", "livequeue-e2e", "--", "--test-threads=2"])
            .env("LIVEQUEUE_E2E_SERVER", &server)
            .env("LIVEQUEUE_E2E_DIST", &dist)
            .env("CHROMEDRIVER", &chromedriver)
            .env("GECKODRIVER", &geckodriver)
            .env("TMPDIR", &tmp),
    );
    // What a killed browser left behind goes now, not at the next run.
    let _ = std::fs::remove_dir_all(&tmp);
    result
}
