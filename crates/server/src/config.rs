//! Configuration from flags and environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use livequeue_protocol::supervisor::TransportKind;

use crate::engine::EngineConfig;
use crate::security::Sources;

/// Command line of `livequeue-server`. Every flag has an environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "livequeue-server",
    version,
    about = "Reference queue server for livequeue"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "LIVEQUEUE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Secret for shopper tokens and labels. Generated at start when unset: tokens then do
    /// not survive a restart.
    #[arg(long, env = "LIVEQUEUE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Operator token for the admin API; without one the admin API refuses everyone.
    #[arg(long, env = "LIVEQUEUE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Browser origins allowed besides the server's own, comma-separated; `*` allows any.
    #[arg(long, env = "LIVEQUEUE_ALLOWED_ORIGINS", default_value = "")]
    pub allowed_origins: String,
    /// The built widget, served at `/`.
    #[arg(long, env = "LIVEQUEUE_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// Create the `demo-drop` and `demo-quick` experiences with synthetic shoppers.
    #[arg(long, env = "LIVEQUEUE_DEMO")]
    pub demo: bool,
    /// Seconds between SSE heartbeats.
    #[arg(long, env = "LIVEQUEUE_HEARTBEAT_SECS", default_value_t = 15)]
    pub heartbeat_secs: u64,
    /// Seconds between server WebSocket pings.
    #[arg(long, env = "LIVEQUEUE_WS_PING_SECS", default_value_t = 30)]
    pub ws_ping_secs: u64,
    /// Seconds an admission's grant stays redeemable.
    #[arg(long, env = "LIVEQUEUE_GRANT_TTL_SECS", default_value_t = 300)]
    pub grant_ttl_secs: u64,
    /// Seconds one extension adds to a shopper's grant (`POST …/extend`, once per grant).
    #[arg(long, env = "LIVEQUEUE_EXTEND_SECS", default_value_t = 120)]
    pub extend_secs: u64,
    /// Most units one grant may reserve in all (`POST …/reserve`).
    #[arg(long, env = "LIVEQUEUE_MAX_UNITS_PER_GRANT", default_value_t = 2)]
    pub max_units_per_grant: u64,
    /// Seconds a shopper token stays valid.
    #[arg(long, env = "LIVEQUEUE_TOKEN_TTL_SECS", default_value_t = 86_400)]
    pub token_ttl_secs: u64,
    /// Milliseconds between engine ticks (admissions, and at most one position update per
    /// connection per tick).
    #[arg(long, env = "LIVEQUEUE_TICK_MS", default_value_t = 1000)]
    pub tick_ms: u64,
    /// Transports to refuse (`ws`, `sse`, `poll`), comma-separated: for testing clients'
    /// fallback. Off by default.
    #[arg(long, env = "LIVEQUEUE_REFUSE_TRANSPORTS", value_delimiter = ',', value_parser = parse_transport)]
    pub refuse_transports: Vec<TransportKind>,
    /// Enable test controls (`POST /api/admin/experiences/{id}/inject`). Off by default.
    #[arg(long, env = "LIVEQUEUE_TEST_CONTROLS")]
    pub test_controls: bool,
    /// Pages that may frame the widget (its CSP's `frame-ancestors`), separated by spaces or
    /// commas: origins such as `https://shop.example`, `https://*.shop.example`, `'self'`,
    /// or `'none'`. With `--demo` the demo shop's origin is added.
    #[arg(
        long,
        env = "LIVEQUEUE_FRAME_ANCESTORS",
        default_value = "'self'",
        value_parser = Sources::frame_ancestors
    )]
    pub frame_ancestors: Sources,
    /// Origins the widget page may connect to besides its own (its CSP's `connect-src`),
    /// for a widget given another `api`: `https://api.example` also allows
    /// `wss://api.example`.
    #[arg(long, env = "LIVEQUEUE_CONNECT_SRC", default_value = "", value_parser = Sources::connect)]
    pub connect_src: Sources,
    /// With `--demo`: where the demo shop's page listens, an origin of its own so the
    /// widget is embedded cross-origin as in a real shop. Default: the same IP as `--addr`
    /// on a port the system picks (a fixed neighbour such as port + 1 would collide with
    /// `trunk serve` in `cargo xtask dev` and with test servers on free ports);
    /// `cargo xtask demo` passes port + 1.
    #[arg(long, env = "LIVEQUEUE_DEMO_SHOP_ADDR")]
    pub demo_shop_addr: Option<SocketAddr>,
    /// Seconds to keep serving after SIGTERM with `/readyz` answering `503`, so a load
    /// balancer stops sending shoppers before streams end; set it to the balancer's
    /// health-check interval times its unhealthy threshold. 0 ends at once.
    #[arg(long, env = "LIVEQUEUE_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,
    /// Keep the queue in Redis (`redis://host:port/`), shared by every node given the same
    /// URL; without it the queue lives in this process's memory.
    #[arg(long, env = "LIVEQUEUE_REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,
}

fn parse_transport(s: &str) -> Result<TransportKind, String> {
    TransportKind::parse(s).ok_or_else(|| format!("unknown transport `{s}` (ws, sse, poll)"))
}

/// Runtime configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Engine timings.
    pub engine: EngineConfig,
    /// Token and label secret.
    pub secret: Vec<u8>,
    /// Operator token.
    pub admin_token: Option<String>,
    /// Allowed origins, comma-separated.
    pub allowed_origins: String,
    /// The built widget.
    pub dist: PathBuf,
    /// Shopper token lifetime.
    pub token_ttl_secs: u64,
    /// Base SSE `retry:` in milliseconds; each connection gets base plus up to base again.
    pub sse_retry_ms: u64,
    /// A WebSocket send that waits longer than this closes the connection with
    /// [`livequeue_protocol::CloseCode::SlowConsumer`].
    pub ws_send_timeout: Duration,
    /// How long shutdown waits for connections to go.
    pub shutdown_grace: Duration,
    /// How long the node keeps serving after the shutdown signal, answering `/readyz` with
    /// `503`, before it ends its streams and stops accepting: time for a load balancer to
    /// see it leave. Zero (the default) ends at once.
    pub shutdown_drain: Duration,
    /// Transports this server refuses (tests of client fallback).
    pub refuse_transports: Vec<TransportKind>,
    /// Test controls enabled.
    pub test_controls: bool,
    /// `--demo`: serve the demo shop's checkout ([`crate::routes::checkout`]) as well.
    pub demo: bool,
    /// Who may frame the widget page (`frame-ancestors`).
    pub frame_ancestors: Sources,
    /// Extra origins the widget page may connect to (`connect-src`).
    pub connect_src: Sources,
    /// Redis, when the queue lives there (`--redis`).
    pub redis_url: Option<String>,
    /// How long a client may take to send a request head before the connection is closed
    /// (slowloris): [`crate::front::HEAD_TIMEOUT`] unless a test shortens it.
    pub head_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            engine: EngineConfig::default(),
            secret: random_secret(),
            admin_token: None,
            allowed_origins: String::new(),
            dist: PathBuf::from("dist"),
            token_ttl_secs: 86_400,
            sse_retry_ms: 2_000,
            ws_send_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            shutdown_drain: Duration::ZERO,
            head_timeout: crate::front::HEAD_TIMEOUT,
            refuse_transports: Vec::new(),
            test_controls: false,
            demo: false,
            frame_ancestors: Sources::self_only(),
            connect_src: Sources::default(),
            redis_url: None,
        }
    }
}

impl From<Args> for Config {
    fn from(a: Args) -> Self {
        let at_least_one = |n: u64| Duration::from_secs(n.max(1));
        Self {
            engine: EngineConfig {
                grant_ttl: at_least_one(a.grant_ttl_secs),
                tick: Duration::from_millis(a.tick_ms.max(10)),
                heartbeat: at_least_one(a.heartbeat_secs),
                ws_ping: at_least_one(a.ws_ping_secs),
                grant_extension: at_least_one(a.extend_secs),
                max_units_per_grant: a.max_units_per_grant.max(1),
            },
            secret: match a.secret {
                Some(s) if !s.is_empty() => s.into_bytes(),
                _ => {
                    tracing::warn!("LIVEQUEUE_SECRET is unset: tokens will not survive a restart");
                    random_secret()
                }
            },
            admin_token: a.admin_token,
            allowed_origins: a.allowed_origins,
            dist: a.dist,
            token_ttl_secs: a.token_ttl_secs.max(60),
            refuse_transports: a.refuse_transports,
            test_controls: a.test_controls,
            demo: a.demo,
            frame_ancestors: a.frame_ancestors,
            connect_src: a.connect_src,
            shutdown_drain: Duration::from_secs(a.shutdown_drain_secs),
            redis_url: a.redis.filter(|url| !url.is_empty()),
            ..Config::default()
        }
    }
}

fn random_secret() -> Vec<u8> {
    rand::random::<[u8; 32]>().to_vec()
}
