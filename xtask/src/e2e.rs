//! `cargo xtask e2e` (and a step of `cargo xtask test`): the end-to-end tests of
//! `crates/e2e`. First embedding the widget in shops' pages: the real server binary with
//! `--demo`, shop pages on other origins, headless Chromium through chromedriver (and
//! headless Firefox through geckodriver where the engines differ). Then scaling out
//! (`tests/scale_out.rs`): server nodes sharing one Redis behind nginx, each test with a
//! cluster of its own, run one at a time, since two clusters at once on two cores would
//! crowd the timings the tests allow.
//!
//! The tests serve the release bundle in `dist/`: `cargo xtask test` runs them right after
//! building it (the bundle and budget step); `cargo xtask e2e` builds it first (or, with
//! `--reuse-bundle`, tests the one in `dist/`). Nothing is skipped: without chromedriver,
//! Firefox, geckodriver, redis-server, nginx or a bundle the step fails and says what is
//! missing.

use std::path::{Path, PathBuf};

use crate::nginx::NGINX;
use crate::setup::{CHROMEDRIVER, FIREFOX, REDIS_SERVER, geckodriver_path};
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
    for (program, package) in [(REDIS_SERVER, "redis-server"), (NGINX, "nginx")] {
        if !Path::new(program).is_file() {
            return Err(Error(format!(
                "the scale-out tests need {program}: run `cargo xtask setup --for-tests` (as \
                 root) or `apt-get install {package}`"
            )));
        }
    }
    let dist = shell::root().join("dist");
    if !dist.join("index.html").is_file() {
        return Err(Error(format!(
            "no widget bundle in {}: run `cargo xtask size` (or `cargo xtask e2e`, which builds it)",
            dist.display()
        )));
    }

    step("end-to-end tests: server build");
    run_command(command("cargo").args(["build", "-p", "livequeue-server"]))?;

    let server = shell::target_dir().join("debug/livequeue-server");
    let tmp = shell::browser_tmp("e2e")?;
    let tests = |targets: &[String], threads: &str| {
        let mut cargo = command("cargo");
        cargo
            .args(["test", "-p", "livequeue-e2e"])
            .args(targets)
            .args(["--", threads])
            .env("LIVEQUEUE_E2E_SERVER", &server)
            .env("LIVEQUEUE_E2E_DIST", &dist)
            .env("CHROMEDRIVER", &chromedriver)
            .env("GECKODRIVER", &geckodriver)
            .env("TMPDIR", &tmp);
        run_command(&mut cargo)
    };
    step("embedding tests: shops on other origins, headless Chromium and Firefox (crates/e2e)");
    let result = embedding_targets().and_then(|targets| tests(&targets, "--test-threads=2"));
    let result = result.and_then(|()| {
        step("scale-out tests: nodes sharing Redis behind nginx, one cluster at a time");
        tests(
            &["--test".to_owned(), SCALE_OUT.to_owned()],
            "--test-threads=1",
        )
    });
    // What a killed browser left behind goes now, not at the next run.
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// The scale-out test file of `crates/e2e/tests`, run on its own.
const SCALE_OUT: &str = "scale_out";

/// `--lib` and a `--test <name>` for each test file of `crates/e2e/tests` but
/// [`SCALE_OUT`], read from the directory so that a new file is run without a change here.
fn embedding_targets() -> Result<Vec<String>> {
    let dir = shell::root().join("crates/e2e/tests");
    let mut names = Vec::new();
    for entry in
        std::fs::read_dir(&dir).map_err(|e| Error(format!("cannot list {}: {e}", dir.display())))?
    {
        let path = entry?.path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if path.extension().is_some_and(|e| e == "rs") && stem != SCALE_OUT {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    let mut targets = vec!["--lib".to_owned()];
    for name in names {
        targets.extend(["--test".to_owned(), name]);
    }
    Ok(targets)
}
