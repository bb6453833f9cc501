//! The livequeue reference queue server.
//!
//! # Layout
//!
//! - [`engine`]: the queue itself (experiences, tickets, admissions, stock, grants) in this
//!   process's memory, with the fan-out that feeds connections.
//! - [`conn`]: what one push connection sends, independent of SSE or WebSocket framing.
//! - [`routes`]: the HTTP surface, one file per concern (`queue`, `sse`, `ws`, `admin`).
//! - [`auth`]: shopper tokens, the operator token, allowed origins, anonymous labels.
//! - [`error`]: the one JSON error type.
//! - [`demo`]: the synthetic drop behind `--demo`.
//!
//! [`app`] builds the router from an [`AppState`], apart from `main`, so tests serve the
//! same router on port 0; [`serve`] runs it until a shutdown signal, then ends every stream
//! and closes every WebSocket (1012) within the grace period.

pub mod auth;
pub mod config;
pub mod conn;
pub mod demo;
pub mod engine;
pub mod error;
pub mod routes;

use std::future::{Future, IntoFuture};
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

pub use config::{Args, Config};

use auth::{Auth, Origins};
use engine::Engine;
use error::AppError;
use livequeue_protocol::supervisor::TransportKind;
use routes::{ReadParams, admin, queue, sse, valid_experience_id, ws};

/// Largest request body: every body this API takes is a few hundred bytes.
pub const MAX_BODY: usize = 16 * 1024;

/// Everything a handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The queue.
    pub engine: Arc<Engine>,
    /// Tokens and labels.
    pub auth: Arc<Auth>,
    /// Allowed browser origins.
    pub origins: Arc<Origins>,
    /// Timings and paths.
    pub config: Arc<Config>,
    /// Transports refused now: `--refuse-transports`, changed at run time only through the
    /// test controls.
    pub refused: Arc<std::sync::RwLock<Vec<TransportKind>>>,
}

impl AppState {
    /// State for `config`, with a fresh engine.
    pub fn new(config: Config) -> Self {
        let auth = Auth::new(
            config.secret.clone(),
            config.token_ttl_secs,
            config.admin_token.clone(),
        );
        Self {
            engine: Engine::new(config.engine.clone()),
            auth: Arc::new(auth),
            origins: Arc::new(Origins::parse(&config.allowed_origins)),
            refused: Arc::new(std::sync::RwLock::new(config.refuse_transports.clone())),
            config: Arc::new(config),
        }
    }

    /// Checks the shopper's token for this experience; returns the consumer id.
    pub fn authorize(&self, experience_id: &str, params: &ReadParams) -> Result<String, AppError> {
        if !valid_experience_id(experience_id) {
            return Err(AppError::bad_request(
                "experienceId must be 1-64 of A-Z a-z 0-9 _ -",
            ));
        }
        let consumer = params.consumer_id.as_deref().filter(|s| !s.is_empty());
        let token = params.token.as_deref().filter(|s| !s.is_empty());
        let (Some(consumer), Some(token)) = (consumer, token) else {
            return Err(AppError::bad_request("consumerId and token are required"));
        };
        if !self.engine.exists(experience_id) {
            return Err(AppError::not_found(format!(
                "no experience `{experience_id}`"
            )));
        }
        self.auth
            .verify(token, consumer, experience_id, self.engine.now_ms() / 1000)
            .map_err(|e| {
                tracing::debug!(error = %e, "token refused");
                AppError::unauthorized("token is invalid or expired")
            })?;
        self.engine.ensure_consumer(experience_id, consumer)?;
        Ok(consumer.to_string())
    }

    /// Refuses a transport switched off with `--refuse-transports` (for fallback tests).
    pub fn transport_allowed(&self, kind: TransportKind) -> Result<(), AppError> {
        let refused = self
            .refused
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&kind);
        if refused {
            return Err(AppError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "transport_refused",
                message: format!("the {kind} transport is switched off on this server"),
            });
        }
        Ok(())
    }

    /// Whether the request's `Origin` (if any) may call.
    pub fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        origin.to_str().is_ok_and(|o| self.origins.allows(o, host))
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let origins = state.origins.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin.to_str().is_ok_and(|o| origins.is_listed(o))
        }))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::IF_NONE_MATCH,
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([header::ETAG])
        .max_age(std::time::Duration::from_secs(600));

    Router::new()
        .route("/api/experiences/{experience_id}/join", post(queue::join))
        .route("/api/queue/{experience_id}", get(queue::poll))
        .route("/api/sse/queue/{experience_id}", get(sse::stream))
        .route(
            "/api/experiences/{experience_id}/redeem",
            post(queue::redeem),
        )
        .route(
            "/api/experiences/{experience_id}/entries",
            get(queue::entries),
        )
        .route("/api/admin/experiences", post(admin::create))
        .route(
            "/api/admin/experiences/{experience_id}",
            get(admin::get).patch(admin::patch),
        )
        .route(
            "/api/admin/experiences/{experience_id}/admit",
            post(admin::admit),
        )
        .route(
            "/api/admin/experiences/{experience_id}/inject",
            post(admin::inject),
        )
        .route(
            "/api/admin/transports",
            axum::routing::put(admin::refuse_transports),
        )
        .route("/ws/queue", get(ws::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .method_not_allowed_fallback(|| async {
            AppError {
                status: StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                message: "method not allowed on this path".into(),
            }
        })
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), origin_guard))
        .layer(cors)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::internal("handler panicked").into_response()
        }))
        .with_state(state)
}

/// Refuses requests whose `Origin` is neither ours nor configured (browsers send it on
/// cross-origin requests and on every WebSocket upgrade).
async fn origin_guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if app.origin_allowed(request.headers()) {
        next.run(request).await
    } else {
        AppError::forbidden_origin().into_response()
    }
}

/// API paths that match no route get a JSON 404; everything else is the widget from `dist/`.
async fn fallback(State(app): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path == "/api" || path.starts_with("/ws") {
        return AppError::not_found(format!("no endpoint at {path}")).into_response();
    }
    let dist = &app.config.dist;
    if !dist.join("index.html").exists() {
        return (
            StatusCode::NOT_FOUND,
            "The widget is not built. Run `cargo xtask demo` (or `trunk build`) first.\n",
        )
            .into_response();
    }
    let serve = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
    match serve.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// Binds `addr` with a deep accept backlog. The default of 128 overflows when thousands of
/// browsers reconnect at once after a restart (SYNs dropped, retried a second later).
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Serves until `shutdown` resolves, then ends every stream and closes every WebSocket with
/// 1012; returns when all connections are gone or the grace period is over.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let engine = state.engine.clone();
    let grace = state.config.shutdown_grace;
    let fired = Arc::new(tokio::sync::Notify::new());
    let notify = fired.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: closing streams");
        engine.shutdown();
        notify.notify_one();
    };
    // One router shared by every connection: serving the `Router` itself makes axum rebuild
    // it per connection (`with_state`), and an open SSE stream keeps that copy alive (about
    // 20 KB each).
    let server = axum::serve(listener, app(state).into_make_service())
        .with_graceful_shutdown(signal)
        .into_future();
    tokio::select! {
        result = server => result,
        _ = async { fired.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "connections still open after the grace period; exiting");
            Ok(())
        }
    }
}
