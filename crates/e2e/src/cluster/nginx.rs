//! nginx in front of the cluster's nodes, running the repository's `deploy/nginx.conf`
//! unchanged, with its two includes written for these nodes by the same code as xtask's
//! nginx step ([`conf`], which is `xtask/src/nginx_prefix.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use livequeue_protocol::Endpoint;

use crate::api::Api;
use crate::process::{Launch, Service};
use crate::{free_port, workspace};

/// The prefix directory and nginx's arguments, shared with xtask (see the file's own doc
/// for why a shared file and not a shared crate).
#[path = "../../../../xtask/src/nginx_prefix.rs"]
mod conf;

/// How long nginx may take to start and reach a node.
const START: Duration = Duration::from_secs(15);
/// How long nginx gets to stop on SIGTERM (fast shutdown) before its group is killed.
const STOP: Duration = Duration::from_secs(5);

/// A running nginx, stopped when dropped.
pub struct Nginx {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The API through it: what a widget served by it talks to.
    pub api: Api,
    /// Its prefix: configuration, pid file, temp files, `logs/`.
    prefix: PathBuf,
    service: Service,
}

impl Nginx {
    /// Starts nginx in `prefix` (made afresh) in front of `nodes`, on a free port; returns
    /// once `GET /healthz` through it answers `200` (nginx runs and reaches a node).
    pub(crate) async fn start(prefix: PathBuf, nodes: &[SocketAddr], admin: &str) -> Self {
        assert!(
            std::path::Path::new(conf::NGINX).is_file(),
            "{} is missing: the scale-out tests run the repository's nginx.conf in front of \
             the nodes. Install it with `apt-get install nginx` (or `cargo xtask setup \
             --for-tests`, as root)",
            conf::NGINX
        );
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        conf::prepare(&workspace(), &prefix, nodes, addr).unwrap_or_else(|e| panic!("{e}"));
        // `-t` first: a configuration error is reported as nginx words it.
        let checked = Command::new(conf::NGINX)
            .args(conf::args(&prefix))
            .arg("-t")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", conf::NGINX));
        assert!(
            checked.status.success(),
            "nginx refuses the configuration in {}:\n{}",
            prefix.display(),
            String::from_utf8_lossy(&checked.stderr)
        );
        let mut args = conf::args(&prefix);
        args.extend(conf::FOREGROUND.map(Into::into));
        let log = prefix.join("logs/nginx.out");
        let mut nginx = Self {
            addr,
            api: Api::new(format!("http://{addr}"), admin),
            prefix,
            service: Service::start(
                &format!("nginx ({addr})"),
                Launch::new(conf::NGINX, args),
                log,
            ),
        };
        let (api, path) = (&nginx.api, Endpoint::Health.route());
        nginx
            .service
            .wait_until("200 from /healthz through nginx", START, async || {
                api.answers(path, 200).await
            })
            .await;
        nginx
    }

    /// The last `lines` lines of its error log, then of its own output.
    pub fn log_tail(&self, lines: usize) -> String {
        format!(
            "{}\n{}",
            crate::process::tail(&conf::error_log(&self.prefix), lines),
            self.service.log_tail(lines)
        )
    }

    /// Stops it: SIGTERM, whose fast shutdown takes the workers along, then SIGKILL to
    /// the group for anything left.
    pub fn stop(&mut self) {
        self.service.stop(STOP);
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}
