//! `cargo xtask dev`: the demo server and `trunk serve` side by side, stopped together.
//!
//! `trunk serve` rebuilds the widget on every change and proxies `/api` and `/ws` to the
//! server (see `Trunk.toml`), so the page and the API share an origin as in production.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::process::{Guard, wait_for_http, wait_for_port};
use crate::setup::{self, Needs};
use crate::shell::{Error, Result, command, run as run_command, step};

/// Where the server listens (trunk's proxy points there).
const SERVER_ADDR: &str = "127.0.0.1:8080";
/// Where `trunk serve` listens (`Trunk.toml`).
const TRUNK_ADDR: &str = "127.0.0.1:8081";
/// Where the demo shop listens: not the server's port + 1 (its default), which is trunk's.
const SHOP_ADDR: &str = "127.0.0.1:8082";
/// The page's origins under `trunk serve`, allowed by the server.
const DEV_ORIGINS: &str = "http://127.0.0.1:8081,http://localhost:8081";

/// Runs both until Ctrl-C or until either one exits.
pub fn run() -> Result {
    setup::run(&Needs::for_tests(false))?;

    step("server: cargo build");
    // Built first and started directly, not with `cargo run`: stopping `cargo run` would
    // leave the server it started behind.
    run_command(command("cargo").args(["build", "-p", "livequeue-server"]))?;

    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| Error(format!("cannot handle Ctrl-C: {e}")))?;

    step("starting the server and trunk serve");
    let binary = crate::shell::target_dir().join("debug/livequeue-server");
    let mut server = Guard::spawn(
        "livequeue-server",
        command(&binary.to_string_lossy())
            .args([
                "--demo",
                "--addr",
                SERVER_ADDR,
                "--demo-shop-addr",
                SHOP_ADDR,
            ])
            // trunk's proxy forwards the page's `Origin` (trunk's own address), which the
            // server would refuse as foreign.
            .env("LIVEQUEUE_ALLOWED_ORIGINS", DEV_ORIGINS)
            .env("LIVEQUEUE_SECRET", crate::shell::demo_secret()),
    )?;
    let server_addr: SocketAddr = SERVER_ADDR.parse().expect("constant address");
    wait_for_http(
        &mut server,
        server_addr,
        "/healthz",
        Duration::from_secs(30),
    )?;
    let mut trunk = Guard::spawn(
        "trunk serve",
        crate::trunk::command_for_trunk()?.arg("serve"),
    )?;
    let trunk_addr: SocketAddr = TRUNK_ADDR.parse().expect("constant address");
    // The first build compiles the widget: give it time.
    wait_for_port(&mut trunk, trunk_addr, Duration::from_secs(600))?;
    println!("\nWidget with live reload: http://{TRUNK_ADDR}/?experience=demo-drop");
    println!("Demo shop (embeds the server's build of the widget): http://{SHOP_ADDR}/");
    println!("Press Ctrl-C to stop both.");

    while !interrupted.load(Ordering::SeqCst) {
        if let Some(status) = server.exited() {
            println!("the server exited ({status})");
            break;
        }
        if let Some(status) = trunk.exited() {
            println!("trunk serve exited ({status})");
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Dropping the guards stops whichever is still running.
    drop(trunk);
    drop(server);
    Ok(())
}
