//! `cargo xtask demo`: the widget and the server built for release, serving the demo drop
//! and the demo shop, which embeds the widget from an origin of its own (the server's port
//! + 1) as a real shop would.

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
    let shop = SocketAddr::new(
        socket.ip(),
        socket
            .port()
            .checked_add(1)
            .ok_or_else(|| Error(format!("--addr {addr}: no port after it for the demo shop")))?,
    );
    setup::run(&Needs::for_tests(false))?;

    step("widget and operator console: trunk build --release (dist/, dist/operator/)");
    crate::bundle::build_release()?;

    step("server: cargo build --release");
    run_command(command("cargo").args(["build", "--release", "-p", "livequeue-server"]))?;

    step("serving the demo");
    // The operator token of this demo run: `LIVEQUEUE_ADMIN_TOKEN` when set, else a fixed
    // development one (the demo is for a laptop, never for production).
    let operator = std::env::var("LIVEQUEUE_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "demo-operator".to_owned());
    // Ctrl-C reaches the server too (same process group); xtask stays to reap it.
    ctrlc::set_handler(|| {}).map_err(|e| Error(format!("cannot handle Ctrl-C: {e}")))?;
    let binary = crate::shell::target_dir().join("release/livequeue-server");
    let mut server = Guard::spawn(
        "livequeue-server",
        command(&binary.to_string_lossy())
            .args(["--demo", "--addr", addr, "--dist", "dist"])
            .args(["--demo-shop-addr", &shop.to_string()])
            // Turns held for 90 s rather than 5 min: a newcomer sees the warning before the
            // end and "Need more time?" within the demo's two minutes.
            .args(["--grant-ttl-secs", "90"])
            .env("LIVEQUEUE_SECRET", crate::shell::demo_secret())
            .env("LIVEQUEUE_ADMIN_TOKEN", &operator),
    )?;
    wait_for_http(&mut server, socket, "/healthz", Duration::from_secs(30))?;
    println!(
        "\nThe demo is live. Open this: the demo shop, embedding the queue from another origin:"
    );
    println!("  http://{shop}/");
    println!("The widget on its own:");
    println!("  http://{addr}/?experience=demo-quick   a short line: your turn within a minute");
    println!(
        "  http://{addr}/?experience=demo-drop    a big drop: more people ahead than units left"
    );
    println!("The operator console (sign in with the token below):");
    println!("  http://{addr}/operator/");
    println!("Operator token: {operator}");
    println!("Operator API: Authorization: Bearer {operator}");
    println!(
        "  e.g. curl -H 'Authorization: Bearer {operator}' http://{addr}/api/admin/experiences/demo-drop"
    );
    println!("Press Ctrl-C to stop.");
    let status = server.wait()?;
    println!("server exited ({status})");
    Ok(())
}
