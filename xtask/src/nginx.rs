//! nginx in front of server nodes, running `deploy/nginx.conf` as shipped, and the step of
//! `cargo xtask test` (also `cargo xtask nginx-tests`) that tests through it
//! (`crates/server/tests/through_nginx.rs`).
//!
//! [`Nginx::start`] copies `deploy/nginx.conf` unchanged into its own prefix,
//! `target/xtask/nginx/<name>/`, and writes next to it the two files a deployer edits:
//! `nginx-nodes.conf` (the nodes, with the parameters of the first `server` line of
//! `deploy/nginx-nodes.conf`) and `nginx-listen.conf` (a free loopback port). It runs
//! `nginx -p <prefix> -c <prefix>/nginx.conf -e stderr -g 'daemon off;'` as a [`Guard`],
//! so nginx stops (SIGTERM: fast shutdown) when the step ends, however it ends.
//!
//! [`run`] starts two nodes (in-memory engine: they share a token secret but no line yet),
//! nginx in front of them, and runs the ignored tests of `through_nginx` twice: all but the
//! one that stops a node, then that one alone, so no test loses a node underneath it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{Guard, free_port, wait_for_http};
use crate::shell::{self, Error, Result, command, run as run_command, step, target_dir};

/// Where Debian's package installs nginx.
pub const NGINX: &str = "/usr/sbin/nginx";
/// The configuration in the repository, relative to its root.
const CONF: &str = "deploy/nginx.conf";
/// The example node list, whose first `server` line's parameters the harness copies.
const NODES_EXAMPLE: &str = "deploy/nginx-nodes.conf";
/// The file names `deploy/nginx.conf` includes.
const NODES_FILE: &str = "nginx-nodes.conf";
const LISTEN_FILE: &str = "nginx-listen.conf";
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
        let root = shell::root();
        let prefix = target_dir().join("xtask/nginx").join(name);
        if prefix.exists() {
            std::fs::remove_dir_all(&prefix)?;
        }
        // nginx creates its temp directories but not the log directory.
        std::fs::create_dir_all(prefix.join("logs"))?;
        let conf = prefix.join("nginx.conf");
        std::fs::copy(root.join(CONF), &conf)
            .map_err(|e| Error(format!("cannot copy {CONF}: {e}")))?;
        let example = std::fs::read_to_string(root.join(NODES_EXAMPLE))
            .map_err(|e| Error(format!("cannot read {NODES_EXAMPLE}: {e}")))?;
        std::fs::write(prefix.join(NODES_FILE), node_list(&example, nodes)?)?;
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        std::fs::write(prefix.join(LISTEN_FILE), format!("listen {addr};\n"))?;

        let nginx = |prefix: &Path, conf: &Path| {
            let mut nginx = command(NGINX);
            // `-e stderr`: not the compiled-in /var/log/nginx/error.log, which it would
            // open before reading the configuration.
            nginx
                .arg("-p")
                .arg(prefix)
                .arg("-c")
                .arg(conf)
                .args(["-e", "stderr"]);
            nginx
        };
        // `-t` first: a configuration error is reported as nginx words it.
        run_command(nginx(&prefix, &conf).arg("-t"))?;
        let mut guard = Guard::spawn_logged(
            &format!("nginx ({name})"),
            nginx(&prefix, &conf).args(["-g", "daemon off;"]),
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
        let text = std::fs::read_to_string(self.prefix.join("logs/error.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let out = self.guard.log_tail(20);
        format!(
            "{}\n{out}",
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    }
}

/// The node list for `nodes`: one `server` line each, with the parameters of the first
/// `server` line of the example list (so the tests run with the shipped parameters).
fn node_list(example: &str, nodes: &[SocketAddr]) -> Result<String> {
    let parameters = example
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("server "))
        .and_then(|rest| rest.strip_suffix(';'))
        .map(|rest| {
            rest.split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .ok_or_else(|| Error(format!("{NODES_EXAMPLE} has no `server …;` line")))?;
    Ok(nodes
        .iter()
        .map(|node| {
            if parameters.is_empty() {
                format!("server {node};\n")
            } else {
                format!("server {node} {parameters};\n")
            }
        })
        .collect())
}

/// One node of the step: `livequeue-server` on a free port.
fn start_node(index: usize) -> Result<(Guard, SocketAddr)> {
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

/// Two nodes, nginx in front of them, and the tests through it.
pub fn run() -> Result {
    if !Path::new(NGINX).is_file() {
        return Err(Error(format!(
            "the tests through nginx need {NGINX}: run `cargo xtask setup --for-tests` (as \
             root) or `apt-get install nginx`"
        )));
    }
    run_command(command("cargo").args([
        "build",
        "-p",
        "livequeue-server",
        "--bin",
        "livequeue-server",
    ]))?;
    let started = std::time::Instant::now();
    let (first, first_addr) = start_node(0)?;
    let (second, second_addr) = start_node(1)?;
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
    // nginx stops first (it drops first), then the nodes.
    drop(nginx);
    result
}

/// The step's header and [`run`], for `cargo xtask test`.
pub fn step_run() -> Result {
    step("tests: two server nodes behind nginx (deploy/nginx.conf)");
    run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_list_takes_the_parameters_of_the_examples_first_server_line() {
        let example = "# nodes\n  server 10.0.0.1:8081 max_fails=1 fail_timeout=10s;\n\
                       server 10.0.0.2:8081 weight=5;\n";
        let nodes: [SocketAddr; 2] = [
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
        ];
        assert_eq!(
            node_list(example, &nodes).unwrap(),
            "server 127.0.0.1:1 max_fails=1 fail_timeout=10s;\n\
             server 127.0.0.1:2 max_fails=1 fail_timeout=10s;\n"
        );
        assert_eq!(
            node_list("server a:1;\n", &nodes[..1]).unwrap(),
            "server 127.0.0.1:1;\n"
        );
        assert!(node_list("# nothing\n", &nodes).is_err());
    }
}
