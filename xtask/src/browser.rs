//! The widget's browser tests: real servers, real Chromium.
//!
//! Three servers run for the tests, each `--demo` on its own free port:
//! - the main one (`LIVEQUEUE_TEST_API`), with an operator token (`LIVEQUEUE_TEST_ADMIN`)
//!   and `--test-controls`, and a fixed secret so shopper tokens survive its restart;
//! - one refusing WebSocket (`LIVEQUEUE_TEST_API_NO_WS`), to see the feed fall back to SSE;
//! - one refusing WebSocket and SSE (`LIVEQUEUE_TEST_API_POLL_ONLY`), to see it poll.
//!
//! Beside them runs a server written the way the guide writes one
//! (`crates/server/examples/guide_server.rs`, `LIVEQUEUE_TEST_GUIDE_API`): no tokens, no
//! cursors, comment heartbeats every second, its own join; the widget must follow it.
//!
//! A tiny control endpoint (`LIVEQUEUE_TEST_CONTROL`, `POST /restart`) stops the main server
//! for real (SIGTERM), waits a moment and starts it again on the same port: the restart test
//! exercises a real process restart, not a simulation. The URLs reach the wasm tests at
//! compile time (`option_env!`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::process::{Guard, free_port, wait_for_http};
use crate::setup::CHROMEDRIVER;
use crate::shell::{Error, Result, command, run as run_command, target_dir};

/// The operator token of the test servers.
const ADMIN: &str = "browser-test-admin";
/// How long the main server stays down during a restart.
const DOWN_FOR: Duration = Duration::from_millis(1500);
/// The guide-style server's comment heartbeat: well inside the tests' silence window, so a
/// widget that counted comments as silence would be caught.
const GUIDE_HEARTBEAT_MS: &str = "1000";

fn server_bin() -> PathBuf {
    target_dir().join("debug/livequeue-server")
}

/// One test server's command line.
struct Spec {
    name: &'static str,
    addr: SocketAddr,
    extra: Vec<&'static str>,
}

impl Spec {
    fn new(name: &'static str, extra: &[&'static str]) -> Result<Self> {
        Ok(Self {
            name,
            addr: ([127, 0, 0, 1], free_port()?).into(),
            extra: extra.to_vec(),
        })
    }

    fn start(&self) -> Result<Guard> {
        let log = target_dir().join(format!("xtask/{}.log", self.name));
        let mut server = Guard::spawn_logged(
            self.name,
            command(&server_bin().to_string_lossy())
                .args(["--demo", "--addr", &self.addr.to_string()])
                .args(&self.extra)
                .env("LIVEQUEUE_ALLOWED_ORIGINS", "*")
                .env("LIVEQUEUE_ADMIN_TOKEN", ADMIN)
                .env("LIVEQUEUE_SECRET", "browser-test-secret"),
            &log,
        )?;
        wait_for_http(&mut server, self.addr, "/healthz", Duration::from_secs(30))?;
        Ok(server)
    }
}

/// Starts the servers, runs `cargo test -p livequeue --target wasm32-unknown-unknown`, stops
/// everything (also on failure).
pub fn run() -> Result {
    run_with(&[], &[])
}

/// The widget's benchmarks (`tests/bench.rs`, ignored in ordinary runs), compiled with
/// `LIVEQUEUE_BENCH` set, against the release server.
pub fn bench() -> Result {
    run_with(
        &[
            "--test",
            "bench",
            "--release",
            "--",
            "--include-ignored",
            "--nocapture",
        ],
        &[("LIVEQUEUE_BENCH", "1")],
    )
}

fn run_with(cargo_args: &[&str], env: &[(&str, &str)]) -> Result {
    run_command(command("cargo").args([
        "build",
        "-p",
        "livequeue-server",
        "--bins",
        "--example",
        "guide_server",
    ]))?;
    // Turns of 75 s: the warning a minute before a turn ends (and "Need more time?") shows
    // 15 s into a turn, so the browser tests reach it without waiting minutes.
    let main = Spec::new(
        "server-main",
        &["--test-controls", "--grant-ttl-secs", "75"],
    )?;
    let no_ws = Spec::new(
        "server-no-ws",
        &["--refuse-transports", "ws", "--test-controls"],
    )?;
    let poll_only = Spec::new("server-poll-only", &["--refuse-transports", "ws,sse"])?;
    let main_url = format!("http://{}", main.addr);
    let main_guard = Arc::new(Mutex::new(Some(main.start()?)));
    let _no_ws = no_ws.start()?;
    let _poll_only = poll_only.start()?;
    let (_guide, guide_addr) = start_guide()?;
    let control = start_control(main, Arc::clone(&main_guard))?;

    let tmp = crate::shell::browser_tmp("browser")?;
    let mut cargo = command("cargo");
    cargo.envs(env.iter().copied()).env("TMPDIR", &tmp);
    let result = run_command(
        cargo
            .args([
                "test",
                "-p",
                "livequeue",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .args(cargo_args)
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                "wasm-bindgen-test-runner",
            )
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
            .env("LIVEQUEUE_TEST_API", &main_url)
            .env("LIVEQUEUE_TEST_API_NO_WS", format!("http://{}", no_ws.addr))
            .env(
                "LIVEQUEUE_TEST_API_POLL_ONLY",
                format!("http://{}", poll_only.addr),
            )
            .env("LIVEQUEUE_TEST_GUIDE_API", format!("http://{guide_addr}"))
            .env("LIVEQUEUE_TEST_ADMIN", ADMIN)
            .env("LIVEQUEUE_TEST_CONTROL", format!("http://{control}")),
    );
    if result.is_err()
        && let Ok(guard) = main_guard.lock()
        && let Some(server) = guard.as_ref()
    {
        println!(
            "--- main server log (last lines) ---\n{}",
            server.log_tail(40)
        );
    }
    // What a killed Chromium left behind goes now, not at the next run.
    let _ = std::fs::remove_dir_all(&tmp);
    // The guards drop here (and on every early return): the servers stop.
    main_guard
        .lock()
        .map_err(|_| Error("server guard poisoned".into()))?
        .take();
    result
}

/// Starts the guide-style server on a free port.
fn start_guide() -> Result<(Guard, SocketAddr)> {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let mut guide = Guard::spawn_logged(
        "guide-server",
        command(
            &target_dir()
                .join("debug/examples/guide_server")
                .to_string_lossy(),
        )
        .arg(addr.to_string())
        .arg(GUIDE_HEARTBEAT_MS),
        &target_dir().join("xtask/guide-server.log"),
    )?;
    wait_for_http(&mut guide, addr, "/healthz", Duration::from_secs(30))?;
    Ok((guide, addr))
}

/// Serves `POST /restart` on a free port, restarting the main server; returns its address.
fn start_control(main: Spec, guard: Arc<Mutex<Option<Guard>>>) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if answer(stream)
                && let Ok(mut slot) = guard.lock()
            {
                // Dropping the guard stops the server with SIGTERM (graceful shutdown).
                slot.take();
                std::thread::sleep(DOWN_FOR);
                match main.start() {
                    Ok(server) => *slot = Some(server),
                    Err(e) => eprintln!("restart failed: {e}"),
                }
            }
        }
    });
    Ok(addr)
}

/// Answers one control request (with CORS, since the test page has its own origin); true
/// when it asked for a restart.
fn answer(mut stream: TcpStream) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = [0u8; 1024];
    let n = stream.read(&mut head).unwrap_or(0);
    let request = String::from_utf8_lossy(&head[..n]);
    let restart = request.starts_with("POST /restart");
    let status = if restart || request.starts_with("OPTIONS") {
        "200 OK"
    } else {
        "404 Not Found"
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST\r\n\
         Access-Control-Allow-Headers: *\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(response.as_bytes());
    restart
}
