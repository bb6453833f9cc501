//! `cargo xtask demo`: the widget and the server built for release, serving the demo drop.

use std::net::SocketAddr;
use std::time::Duration;

use crate::process::{Guard, wait_for_http};
use crate::setup::{self, Needs};
use crate::shell::{Error, Result, command, run as run_command, step};

/// Builds everything for release and serves the demo until Ctrl-C.
pub fn run(addr: &str) -> Result {
    let socket: SocketAddr = addr
        .parse()
        .map_err(|e| Error(format!("--addr {addr}: {e}")))?;
    setup::run(&Needs::for_tests(false))?;

    step("widget: trunk build --release (dist/)");
    crate::bundle::build_release()?;

    step("server: cargo build --release");
    run_command(command("cargo").args(["build", "--release", "-p", "livequeue-server"]))?;

    step("serving the demo");
    // Ctrl-C reaches the server too (same process group); xtask stays to reap it.
    ctrlc::set_handler(|| {}).map_err(|e| Error(format!("cannot handle Ctrl-C: {e}")))?;
    let binary = crate::shell::target_dir().join("release/livequeue-server");
    let mut server = Guard::spawn(
        "livequeue-server",
        command(&binary.to_string_lossy())
            .args(["--demo", "--addr", addr, "--dist", "dist"])
            .env("LIVEQUEUE_SECRET", crate::shell::demo_secret()),
    )?;
    wait_for_http(&mut server, socket, "/healthz", Duration::from_secs(30))?;
    println!("\nThe demo drop is live: http://{addr}/?experience=demo-drop");
    println!("Press Ctrl-C to stop.");
    let status = server.wait()?;
    println!("server exited ({status})");
    Ok(())
}
