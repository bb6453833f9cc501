//! The real `livequeue-server --demo`, as a child process on a free port.
//!
//! Its output (`RUST_LOG=debug`, so the access log is on) goes to a file that the tests
//! read, to check that no token ever reaches it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use livequeue_protocol::QueueState;
use livequeue_protocol::api::JoinResponse;

use crate::api::{self, Api};
use crate::{free_port, workspace};

/// The operator token the tests' servers are started with.
pub const OPERATOR: &str = "e2e-operator";

/// A running server, killed when dropped.
pub struct QueueServer {
    child: Child,
    /// `http://127.0.0.1:<port>`: the widget's origin.
    pub origin: String,
    /// The demo shop's origin (`--demo-shop-addr`).
    pub demo_shop: String,
    /// Where its output goes.
    pub log: PathBuf,
    /// A client for its API (the one [`QueueServer::api`] uses).
    pub http: reqwest::Client,
    api: Api,
}

/// The server binary: `LIVEQUEUE_E2E_SERVER`, else the workspace's debug build.
pub(crate) fn binary() -> PathBuf {
    let path = std::env::var_os("LIVEQUEUE_E2E_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace().join("target"))
                .join("debug/livequeue-server")
        });
    assert!(
        path.is_file(),
        "no server binary at {}: build it (`cargo build -p livequeue-server`; `cargo xtask e2e` \
         does) or point LIVEQUEUE_E2E_SERVER at it",
        path.display()
    );
    path
}

/// The built widget: `LIVEQUEUE_E2E_DIST`, else the workspace's `dist/` (the release bundle
/// `cargo xtask size` writes).
pub(crate) fn dist() -> PathBuf {
    let path = std::env::var_os("LIVEQUEUE_E2E_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("dist"));
    assert!(
        path.join("index.html").is_file(),
        "no widget bundle in {}: build it with `cargo xtask size` (or point LIVEQUEUE_E2E_DIST at one)",
        path.display()
    );
    path
}

impl QueueServer {
    /// Starts `--demo` with `frame_ancestors` as `LIVEQUEUE_FRAME_ANCESTORS`; returns once
    /// it answers `/healthz`. `name` names its log file.
    pub async fn start(name: &str, frame_ancestors: &str) -> Self {
        Self::launch(
            name,
            free_port(),
            &[("LIVEQUEUE_FRAME_ANCESTORS", frame_ancestors)],
        )
        .await
    }

    /// Starts `--demo` on `port` with `env` added to its environment (for tests that need
    /// to know two servers' origins before either starts).
    pub async fn launch(name: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let shop_port = free_port();
        let log = std::env::temp_dir().join(format!(
            "livequeue-e2e-{name}-{}-{port}.log",
            std::process::id()
        ));
        let out = std::fs::File::create(&log).expect("server log file");
        let err = out.try_clone().expect("server log file");
        let child = Command::new(binary())
            .args(["--demo", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--demo-shop-addr", &format!("127.0.0.1:{shop_port}")])
            .arg("--dist")
            .arg(dist())
            .envs(env.iter().copied())
            .env("LIVEQUEUE_ADMIN_TOKEN", OPERATOR)
            .env("RUST_LOG", "debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("cannot start livequeue-server");
        let api = Api::new(format!("http://127.0.0.1:{port}"), OPERATOR);
        let mut server = Self {
            child,
            origin: api.origin.clone(),
            demo_shop: format!("http://127.0.0.1:{shop_port}"),
            log,
            http: api.http.clone(),
            api,
        };
        server.wait_until_up().await;
        server
    }

    async fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("livequeue-server exited ({status}):\n{}", self.log_text());
            }
            let up = self.http.get(self.url("/healthz")).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "livequeue-server did not answer within 30 s:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `origin + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Everything the server has written so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its API, with the operator token.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Creates an experience that admits no one by itself, so places stay put; its
    /// shoppers check out at `/checkout/{id}` of this server.
    pub async fn still_experience(&self, id: &str) {
        let checkout = format!("/checkout/{id}");
        self.api()
            .create(&api::still_experience(id, 100, &checkout))
            .await;
    }

    /// Admits the first `count` shoppers of `experience`'s line now, as an operator does.
    pub async fn admit(&self, experience: &str, count: u64) {
        self.api().admit(experience, count).await;
    }

    /// A new shopper in `experience`'s line, as a shop's server would make one.
    pub async fn join(&self, experience: &str) -> JoinResponse {
        self.api().join(experience).await
    }

    /// `who`'s state as the server has it.
    pub async fn state(&self, experience: &str, who: &JoinResponse) -> QueueState {
        self.api().state(experience, who).await
    }
}

impl Drop for QueueServer {
    fn drop(&mut self) {
        // Already gone if this fails; nothing else to do.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
