//! Idempotent installs. Each tool is probed first and installed only when missing or of the
//! wrong version, so a machine that has everything pays a few `--version` calls.
//!
//! Versions are pinned where the build depends on them (see `shared/TOOLCHAIN.md`):
//! trunk 0.21.14 (0.22 needs a newer rustc), wasm-bindgen-cli exactly the `wasm-bindgen` of
//! `Cargo.lock` (trunk refuses any other and would try to download one), binaryen 132 from
//! npm (Debian's 108 miscompiles), geckodriver 0.37.1 from the cargo registry (Mozilla's
//! own downloads are out of reach). Chromium, chromedriver, Firefox ESR and nginx (the load
//! balancer of the tests through `deploy/nginx.conf`) come from apt.
//! So does Redis, whose own `redis-server` the Redis queue's tests start on a free port.

use std::cell::Cell;
use std::path::Path;

use crate::shell::{self, Error, Result, command, is_root, probe_stdout, run as run_command, step};

/// The trunk release the project builds with.
pub const TRUNK_VERSION: &str = "0.21.14";
/// The binaryen release installed from npm.
pub const BINARYEN_VERSION: &str = "132";
/// The terser release that minifies wasm-bindgen's JavaScript glue in release bundles
/// (installed from npm next to binaryen).
pub const TERSER_VERSION: &str = "5.51.4";
/// Where apt installs chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where apt installs Firefox ESR.
pub const FIREFOX: &str = "/usr/bin/firefox-esr";
/// The geckodriver release installed from the cargo registry.
pub const GECKODRIVER_VERSION: &str = "0.37.1";
/// Where apt installs redis-server (the server's `tests/redis_queue.rs` runs it there).
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// What to install besides the widget's build tools.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// The browsers and their drivers, for the browser tests: Chromium and chromedriver,
    /// Firefox and geckodriver; and nginx, for the tests through it.
    pub browser: bool,
}

impl Needs {
    /// The build tools, plus the browser when `tests`.
    pub fn for_tests(tests: bool) -> Self {
        Self { browser: tests }
    }
}

/// Installs whatever is missing.
pub fn run(needs: &Needs) -> Result {
    step("setup: checking tools");
    let apt = Apt::default();
    wasm_target()?;
    rust_src()?;
    trunk()?;
    wasm_bindgen()?;
    binaryen(&apt)?;
    terser()?;
    if needs.browser {
        browser(&apt)?;
        firefox(&apt)?;
        geckodriver()?;
        nginx(&apt)?;
        redis(&apt)?;
    }
    Ok(())
}

fn wasm_target() -> Result {
    let installed =
        probe_stdout(command("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        println!("ok: wasm32-unknown-unknown target");
        return Ok(());
    }
    run_command(command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The standard library's sources, which the release widget rebuilds (`build-std`, see
/// `bundle.rs`). Listed in `rust-toolchain.toml` too, but rustup installs a listed component
/// by itself only where auto-install is on (`RUSTUP_AUTO_INSTALL=0` turns it off).
fn rust_src() -> Result {
    let installed = probe_stdout(command("rustup").args(["component", "list", "--installed"]))
        .unwrap_or_default();
    if installed.lines().any(|l| l.trim().starts_with("rust-src")) {
        println!("ok: rust-src component");
        return Ok(());
    }
    run_command(command("rustup").args(["component", "add", "rust-src"]))
}

fn trunk() -> Result {
    let wanted = format!("trunk {TRUNK_VERSION}");
    if probe_stdout(command("trunk").arg("--version")).as_deref() == Some(wanted.as_str()) {
        println!("ok: {wanted}");
        return Ok(());
    }
    println!("installing {wanted} (about 10 minutes on 2 cores)");
    run_command(command("cargo").args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

fn wasm_bindgen() -> Result {
    let version = locked_version(&shell::root().join("Cargo.lock"), "wasm-bindgen")?;
    let wanted = format!("wasm-bindgen {version}");
    if probe_stdout(command("wasm-bindgen").arg("--version")).as_deref() == Some(wanted.as_str()) {
        println!("ok: {wanted}");
        return Ok(());
    }
    println!("installing wasm-bindgen-cli {version} (the version in Cargo.lock)");
    // Not `--locked`: the CLI's own lock file pins a yanked crate.
    run_command(command("cargo").args(["install", "wasm-bindgen-cli", "--version", &version]))
}

/// The version of `package` recorded in the lock file at `lock`.
pub fn locked_version(lock: &Path, package: &str) -> Result<String> {
    let text = std::fs::read_to_string(lock)
        .map_err(|e| Error(format!("cannot read {}: {e}", lock.display())))?;
    let wanted_name = format!("name = \"{package}\"");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted_name {
            let version = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'));
            if let Some(version) = version {
                return Ok(version.to_owned());
            }
        }
    }
    Err(Error(format!("{package} is not in {}", lock.display())))
}

fn binaryen(apt: &Apt) -> Result {
    let wasm_opt = wasm_opt_path();
    let working = |wanted: &str| {
        probe_stdout(std::process::Command::new(&wasm_opt).arg("--version"))
            .is_some_and(|v| v.contains(&format!("version {wanted}")))
    };
    if working(BINARYEN_VERSION) {
        println!("ok: wasm-opt {BINARYEN_VERSION} in {}", wasm_opt.display());
        return Ok(());
    }
    if probe_stdout(command("npm").arg("--version")).is_none() {
        apt.install(&["npm"], "npm (to install binaryen)")?;
    }
    let prefix = shell::binaryen_prefix();
    std::fs::create_dir_all(&prefix)?;
    run_command(
        command("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("binaryen@{BINARYEN_VERSION}")),
    )?;
    if working(BINARYEN_VERSION) {
        Ok(())
    } else {
        Err(Error(format!(
            "{} does not run after install",
            wasm_opt.display()
        )))
    }
}

/// The path of the wasm-opt installed by [`binaryen`].
pub fn wasm_opt_path() -> std::path::PathBuf {
    shell::binaryen_prefix().join("node_modules/.bin/wasm-opt")
}

/// The path of the terser installed by [`terser`].
pub fn terser_path() -> std::path::PathBuf {
    shell::binaryen_prefix().join("node_modules/.bin/terser")
}

fn terser() -> Result {
    let working = || {
        probe_stdout(std::process::Command::new(terser_path()).arg("--version"))
            .is_some_and(|v| v.contains(TERSER_VERSION))
    };
    if working() {
        println!("ok: terser {TERSER_VERSION}");
        return Ok(());
    }
    run_command(
        command("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(shell::binaryen_prefix())
            .arg(format!("binaryen@{BINARYEN_VERSION}"))
            .arg(format!("terser@{TERSER_VERSION}")),
    )?;
    if working() {
        Ok(())
    } else {
        Err(Error(format!(
            "{} does not run after install",
            terser_path().display()
        )))
    }
}

fn browser(apt: &Apt) -> Result {
    if Path::new(CHROMEDRIVER).exists() {
        println!("ok: {CHROMEDRIVER}");
        return Ok(());
    }
    apt.install(
        &["chromium", "chromium-driver"],
        "Chromium and chromedriver",
    )
}

fn firefox(apt: &Apt) -> Result {
    if Path::new(FIREFOX).exists() {
        println!("ok: {FIREFOX}");
        return Ok(());
    }
    apt.install(&["firefox-esr"], "Firefox ESR")
}

/// nginx, run by the tests in a prefix of their own (the package's service is not used).
fn nginx(apt: &Apt) -> Result {
    if Path::new(crate::nginx::NGINX).exists() {
        println!("ok: {}", crate::nginx::NGINX);
        return Ok(());
    }
    apt.install(&["nginx"], "nginx")
}

/// redis-server, started by the Redis queue's tests on a port of their own (the package's
/// service is not used).
fn redis(apt: &Apt) -> Result {
    if Path::new(REDIS_SERVER).exists() {
        println!("ok: {REDIS_SERVER}");
        return Ok(());
    }
    apt.install(&["redis-server"], "redis-server")
}

/// Where [`geckodriver`] installs geckodriver: `cargo install`'s default root, named
/// explicitly so that the probe and the install agree whatever `CARGO_HOME` says.
pub fn geckodriver_path() -> std::path::PathBuf {
    shell::home().join(".cargo/bin/geckodriver")
}

fn geckodriver() -> Result {
    let path = geckodriver_path();
    let wanted = format!("geckodriver {GECKODRIVER_VERSION}");
    // The first line is the version; the rest is the source revision and the licence.
    let installed = probe_stdout(std::process::Command::new(&path).arg("--version"))
        .and_then(|v| v.lines().next().map(str::to_owned));
    if installed.as_deref() == Some(wanted.as_str()) {
        println!("ok: {wanted} in {}", path.display());
        return Ok(());
    }
    println!("installing {wanted} (about 2 minutes on 2 cores)");
    run_command(
        command("cargo")
            .args([
                "install",
                "geckodriver",
                "--version",
                GECKODRIVER_VERSION,
                "--locked",
            ])
            .arg("--root")
            .arg(shell::home().join(".cargo")),
    )
}

/// `apt-get`, updated at most once per run, and only as root.
#[derive(Default)]
struct Apt {
    updated: Cell<bool>,
}

impl Apt {
    fn install(&self, packages: &[&str], what: &str) -> Result {
        if !is_root() {
            return Err(Error(format!(
                "{what} missing: install with `sudo apt-get install -y {}` (not root, so \
                 xtask does not)",
                packages.join(" ")
            )));
        }
        if !self.updated.get() {
            run_command(command("apt-get").arg("update"))?;
            self.updated.set(true);
        }
        run_command(
            command("apt-get")
                .args(["install", "-y", "--no-install-recommends"])
                .args(packages)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_wasm_bindgen_version_is_read_from_the_lock_file() {
        let dir = std::env::temp_dir().join(format!("xtask-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lock = dir.join("Cargo.lock");
        std::fs::write(
            &lock,
            "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"9.9.9\"\n\n\
             [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n",
        )
        .unwrap();
        assert_eq!(locked_version(&lock, "wasm-bindgen").unwrap(), "0.2.130");
        assert!(locked_version(&lock, "trunk").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
