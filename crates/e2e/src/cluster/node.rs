//! One `livequeue-server` node of the cluster: started on a port it keeps, so that killed
//! and started again it is the same address to nginx and to the tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use livequeue_protocol::Endpoint;

use crate::api::Api;
use crate::process::{Launch, Service};

/// How long a node may take to answer `/healthz` after it was started.
const START: Duration = Duration::from_secs(30);

/// A node: its address, its API, and its process while it runs.
pub struct Node {
    /// Its place in the cluster, 0-based (what the messages call it).
    pub index: usize,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its API, directly (not through nginx).
    pub api: Api,
    service: Service,
}

impl Node {
    /// Starts node `index` at `addr` as `launch` says, its output in `log`; returns once it
    /// answers `/healthz`.
    pub(crate) async fn start(
        index: usize,
        addr: SocketAddr,
        api: Api,
        launch: Launch,
        log: PathBuf,
    ) -> Self {
        let mut node = Self {
            index,
            addr,
            api,
            service: Service::start(&format!("node {index} ({addr})"), launch, log),
        };
        node.wait_for(Endpoint::Health.route(), 200, START).await;
        node
    }

    /// Whether it runs (it was not killed, or was restarted since).
    pub fn is_up(&self) -> bool {
        self.service.is_up()
    }

    /// Kills it at once (SIGKILL), as a crash or an OOM kill would: no drain, no goodbye to
    /// its clients, whose connections simply drop.
    pub fn kill(&mut self) {
        self.service.kill();
    }

    /// Starts it again on the same port, as it was started first (killing it first if it
    /// runs); returns once it answers `/healthz`.
    pub async fn restart(&mut self) {
        self.service.restart();
        self.wait_for(Endpoint::Health.route(), 200, START).await;
    }

    /// Waits until `GET /readyz` answers `status` (`200` ready, `503` not), within
    /// `within`; panics with the node's log otherwise.
    pub async fn wait_readyz(&mut self, status: u16, within: Duration) {
        self.wait_for(Endpoint::Ready.route(), status, within).await;
    }

    /// The last `lines` lines of its log (every run's, one after the other).
    pub fn log_tail(&self, lines: usize) -> String {
        self.service.log_tail(lines)
    }

    async fn wait_for(&mut self, path: &str, status: u16, within: Duration) {
        let api = &self.api;
        let what = format!("{status} from {path}");
        self.service
            .wait_until(&what, within, async || api.answers(path, status).await)
            .await;
    }
}
