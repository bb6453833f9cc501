//! nginx in front of server nodes, running `deploy/nginx.conf` as shipped, and the step of
//! `cargo xtask test` (also `cargo xtask nginx-tests`) that tests through it
//! (`crates/server/tests/through_nginx.rs`).
//!
//! [`Nginx::start`] has [`nginx_prefix::prepare`] write its own prefix,
//! `target/xtask/nginx/<name>/`: `deploy/nginx.conf` unchanged, and next to it the two files
//! a deployer edits, for these nodes and a free loopback port. It runs
//! `nginx -p <prefix> -c <prefix>/nginx.conf -e stderr -g 'daemon off;'` as a [`Guard`],
//! so nginx stops (SIGTERM: fast shutdown) when the step ends, however it ends.
//!
//! [`run`] starts a `redis-server` of its own (a free loopback port, nothing on disk), two
//! nodes sharing it (`--redis`, and one token secret: one line whichever node nginx picks),
//! nginx in front of them, and runs the ignored tests of `through_nginx` one at a time
//! (each reads the nodes' connection counts), twice: all but the one that stops a node,
//! then that one alone, so no test loses a node underneath it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::nginx_prefix;
pub use crate::nginx_prefix::NGINX;
use crate::process::{Guard, free_port, wait_for_http, wait_for_port};
use crate::setup::REDIS_SERVER;
use crate::shell::{self, Error, Result, command, run as run_command, step, target_dir};

/// The nodes' operator token and token secret in this step.
const ADMIN: &str = "nginx-test-admin";
const SECRET: &str = "nginx-test-secret";
/// The name prefix of the test that stops a node: it runs alone, after the others.
const STOPS_A_NODE: &str = "a_stopped_node";
/// The test binary.
const TESTS: &str = "through_nginx";

/// A running nginx, stopped when dropped.
pub struct Nginx {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its prefix: configuration, pid file, temp files, `logs/`.
    pub prefix: PathBuf,
    /// Dropped last: the process itself.
    guard: Guard,
}

impl Nginx {
    /// Starts nginx as `name` in front of `nodes`; returns once `GET /healthz` through it
    /// answers `200` (so nginx runs and reaches a node).
    pub fn start(name: &str, nodes: &[SocketAddr]) -> Result<Self> {
        let prefix = target_dir().join("xtask/nginx").join(name);
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        nginx_prefix::prepare(&shell::root(), &prefix, nodes, addr).map_err(Error)?;
        let nginx = |prefix: &Path| {
            let mut nginx = command(NGINX);
            nginx.args(nginx_prefix::args(prefix));
            nginx
        };
        // `-t` first: a configuration error is reported as nginx words it.
        run_command(nginx(&prefix).arg("-t"))?;
        let mut guard = Guard::spawn_logged(
            &format!("nginx ({name})"),
            nginx(&prefix).args(nginx_prefix::FOREGROUND),
            &prefix.join("logs/nginx.out"),
        )?;
        wait_for_http(&mut guard, addr, "/healthz", Duration::from_secs(10))?;
        Ok(Self {
            addr,
            prefix,
            guard,
        })
    }

    /// The last lines of nginx's error log, to explain a failure.
    pub fn error_log_tail(&self) -> String {
        let text =
            std::fs::read_to_string(nginx_prefix::error_log(&self.prefix)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let out = self.guard.log_tail(20);
        format!(
            "{}\n{out}",
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    }
}

/// The step's `redis-server`, on a free loopback port, keeping nothing on disk (the step's
/// line lives as long as the step).
fn start_redis() -> Result<(Guard, SocketAddr)> {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let mut redis = Guard::spawn_logged(
        "redis",
        command(REDIS_SERVER)
            .args(["--port", &addr.port().to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--protected-mode", "no"]),
        &target_dir().join("xtask/nginx-redis.log"),
    )?;
    wait_for_port(&mut redis, addr, Duration::from_secs(10))?;
    Ok((redis, addr))
}

/// One node of the step: `livequeue-server` on a free port, its line in the Redis at
/// `redis`.
fn start_node(index: usize, redis: SocketAddr) -> Result<(Guard, SocketAddr)> {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let name = format!("nginx-node-{index}");
    let mut node = Guard::spawn_logged(
        &name,
        command(
            &target_dir()
                .join("debug/livequeue-server")
                .to_string_lossy(),
        )
        .args(["--addr", &addr.to_string()])
        .args(["--redis", &format!("redis://{redis}/")])
        // A listed origin, so that the tests can tell a foreign one is refused.
        .env("LIVEQUEUE_ALLOWED_ORIGINS", "https://shop.example")
        .env("LIVEQUEUE_ADMIN_TOKEN", ADMIN)
        // One secret for all: a shopper's token is good on every node.
        .env("LIVEQUEUE_SECRET", SECRET),
        &target_dir().join(format!("xtask/{name}.log")),
    )?;
    wait_for_http(&mut node, addr, "/healthz", Duration::from_secs(30))?;
    Ok((node, addr))
}

/// Redis, two nodes sharing it, nginx in front of them, and the tests through it.
pub fn run() -> Result {
    for (program, package) in [(NGINX, "nginx"), (REDIS_SERVER, "redis-server")] {
        if !Path::new(program).is_file() {
            return Err(Error(format!(
                "the tests through nginx need {program}: run `cargo xtask setup --for-tests` \
                 (as root) or `apt-get install {package}`"
            )));
        }
    }
    run_command(command("cargo").args([
        "build",
        "-p",
        "livequeue-server",
        "--bin",
        "livequeue-server",
    ]))?;
    let started = std::time::Instant::now();
    // Dropped last of all (declared first): the nodes and nginx stop before their store.
    let (_redis, redis_addr) = start_redis()?;
    let (first, first_addr) = start_node(0, redis_addr)?;
    let (second, second_addr) = start_node(1, redis_addr)?;
    let nginx = Nginx::start("through-nginx", &[first_addr, second_addr])?;
    let urls = format!("http://{first_addr},http://{second_addr}");
    let tests = |filter: &[&str], pids: Option<String>| {
        let mut cargo = command("cargo");
        cargo
            .args([
                "test",
                "-p",
                "livequeue-server",
                "--test",
                TESTS,
                "--",
                "--ignored",
                "--test-threads=1",
            ])
            .args(filter)
            .env("LIVEQUEUE_NGINX_URL", format!("http://{}", nginx.addr))
            .env("LIVEQUEUE_NODE_URLS", &urls)
            .env("LIVEQUEUE_ADMIN_TOKEN", ADMIN)
            .env("LIVEQUEUE_NGINX_LOGS", nginx.prefix.join("logs"));
        if let Some(pids) = pids {
            cargo.env("LIVEQUEUE_NODE_PIDS", pids);
        }
        run_command(&mut cargo)
    };
    let pids = format!("{},{}", first.id(), second.id());
    let result =
        tests(&["--skip", STOPS_A_NODE], None).and_then(|()| tests(&[STOPS_A_NODE], Some(pids)));
    if result.is_err() {
        println!(
            "--- nginx (last lines) ---\n{}\n--- node 0 ---\n{}\n--- node 1 ---\n{}",
            nginx.error_log_tail(),
            first.log_tail(20),
            second.log_tail(20)
        );
    } else {
        println!(
            "nginx step: {:.1} s with nodes and nginx up",
            started.elapsed().as_secs_f64()
        );
    }
    // nginx stops first (it drops first), then the nodes, then Redis.
    drop(nginx);
    result
}

/// The step's header and [`run`], for `cargo xtask test`.
pub fn step_run() -> Result {
    step("tests: two server nodes behind nginx (deploy/nginx.conf)");
    run()
}
