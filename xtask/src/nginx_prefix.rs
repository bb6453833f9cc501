//! The prefix directory a test's nginx runs in, and the arguments that run it there.
//!
//! [`prepare`] copies `deploy/nginx.conf` unchanged into the prefix and writes next to it
//! the two files a deployer edits: `nginx-nodes.conf` (the nodes, with the parameters of the
//! first `server` line of `deploy/nginx-nodes.conf`) and `nginx-listen.conf` (one loopback
//! address). What is tested is then what is shipped, with only the addresses changed.
//!
//! Two harnesses use this file: xtask's nginx step (`xtask/src/nginx.rs`) and the scale-out
//! tests' cluster (`crates/e2e/src/cluster/nginx.rs`), which includes it as a module with
//! `#[path]`. A shared file rather than a shared crate: xtask is a binary, which nothing can
//! depend on, and xtask depending on the e2e crate would build a WebDriver and HTTP stack
//! into every `cargo xtask` call. So it uses `std` alone and words its errors as sentences
//! (`String`), which each harness wraps in its own error or panic.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where Debian's package installs nginx.
pub const NGINX: &str = "/usr/sbin/nginx";
/// The configuration in the repository, relative to its root.
const CONF: &str = "deploy/nginx.conf";
/// The example node list, whose first `server` line's parameters the harnesses copy.
const NODES_EXAMPLE: &str = "deploy/nginx-nodes.conf";
/// The file names `deploy/nginx.conf` includes.
const NODES_FILE: &str = "nginx-nodes.conf";
const LISTEN_FILE: &str = "nginx-listen.conf";

/// Makes `prefix` afresh (whatever was there goes) for an nginx in front of `nodes`,
/// listening on `listen`; `root` is the repository's root. Returns the configuration's path.
pub fn prepare(
    root: &Path,
    prefix: &Path,
    nodes: &[SocketAddr],
    listen: SocketAddr,
) -> Result<PathBuf, String> {
    let io = |what: &str, e: std::io::Error| format!("{what} in {}: {e}", prefix.display());
    if prefix.exists() {
        std::fs::remove_dir_all(prefix).map_err(|e| io("cannot empty the nginx prefix", e))?;
    }
    // nginx creates its temp directories but not the log directory.
    std::fs::create_dir_all(prefix.join("logs"))
        .map_err(|e| io("cannot create the log directory", e))?;
    let conf = prefix.join("nginx.conf");
    std::fs::copy(root.join(CONF), &conf).map_err(|e| format!("cannot copy {CONF}: {e}"))?;
    let example = std::fs::read_to_string(root.join(NODES_EXAMPLE))
        .map_err(|e| format!("cannot read {NODES_EXAMPLE}: {e}"))?;
    std::fs::write(prefix.join(NODES_FILE), node_list(&example, nodes)?)
        .map_err(|e| io("cannot write the node list", e))?;
    std::fs::write(prefix.join(LISTEN_FILE), format!("listen {listen};\n"))
        .map_err(|e| io("cannot write the listen file", e))?;
    Ok(conf)
}

/// nginx's arguments for the configuration [`prepare`] wrote in `prefix`, for `-t` and to
/// run it. `-e stderr`: not the compiled-in /var/log/nginx/error.log, which nginx would open
/// before reading the configuration.
pub fn args(prefix: &Path) -> Vec<OsString> {
    vec![
        "-p".into(),
        prefix.into(),
        "-c".into(),
        prefix.join("nginx.conf").into(),
        "-e".into(),
        "stderr".into(),
    ]
}

/// The arguments that keep nginx in the foreground, added to [`args`] to run it: the
/// harness owns the master process, which takes its workers with it when it stops.
pub const FOREGROUND: [&str; 2] = ["-g", "daemon off;"];

/// nginx's error log in `prefix` (where `deploy/nginx.conf` puts it).
pub fn error_log(prefix: &Path) -> PathBuf {
    prefix.join("logs/error.log")
}

/// The node list for `nodes`: one `server` line each, with the parameters of the first
/// `server` line of the example list (so the tests run with the shipped parameters).
fn node_list(example: &str, nodes: &[SocketAddr]) -> Result<String, String> {
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
        .ok_or_else(|| format!("{NODES_EXAMPLE} has no `server …;` line"))?;
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
