//! The livequeue reference queue server.
//!
//! # Layout
//!
//! - [`engine`]: the queue itself (experiences, tickets, admissions, stock, grants) in this
//!   process's memory, with the fan-out that feeds connections.
//! - [`conn`]: what one push connection sends, independent of SSE or WebSocket framing.
//! - [`front`]: the accept loop and each connection's first request head: event streams
//!   written on the bare socket, everything else served by hyper.
//! - [`routes`]: the HTTP surface, one file per concern (`queue`, `shopper`, `sse`, `ws`,
//!   `admin`, `operator_stream`, `health` (liveness, readiness, metrics), and `checkout`,
//!   the demo shop's, served only with `--demo`).
//! - [`metrics`]: the node's counters and their Prometheus registry.
//! - [`readiness`]: whether the node should be sent traffic (`/readyz`).
//! - [`auth`]: shopper tokens, the operator token, allowed origins, anonymous labels.
//! - [`state`]: [`AppState`], and the authorization every transport shares.
//! - [`error`]: the one JSON error type.
//! - [`demo`]: the synthetic experiences behind `--demo` (`demo-drop`, `demo-quick`).
//! - [`widget`]: the built widget from `dist/`, precompressed and with cache headers.
//! - [`console`]: the operator console's page from `dist/operator/`, at `/operator/`.
//! - [`security`]: the security headers of every answer and the widget page's CSP.
//! - [`access_log`]: one `debug` line per request, with tokens redacted.
//! - [`demo_shop`]: with `--demo`, a shop's page on its own origin embedding the widget.
//!
//! [`app`] builds the router from an [`AppState`], apart from `main`, so tests serve the
//! same router on port 0; [`serve`] runs it until a shutdown signal, answers `/readyz` with
//! `503` from then on (for the drain period, if one is set), then ends every stream and
//! closes every WebSocket ([`livequeue_protocol::CloseCode::Restart`]) within the grace
//! period.

pub mod access_log;
pub mod auth;
pub mod config;
pub mod conn;
pub mod console;
pub mod demo;
pub mod demo_shop;
pub mod engine;
pub mod error;
pub mod front;
pub mod metrics;
pub mod readiness;
pub mod routes;
pub mod security;
pub mod state;
pub mod widget;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use config::{Args, Config};
pub use state::AppState;

use error::AppError;
use livequeue_protocol::{Endpoint, ErrorCode};
use readiness::NotReady;
use routes::{admin, checkout, embed, health, operator_stream, queue, shopper, sse, ws};

/// Largest request body: every body this API takes is a few hundred bytes.
pub const MAX_BODY: usize = 16 * 1024;

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
            sse::LAST_EVENT_ID_HEADER,
        ])
        .expose_headers([header::ETAG])
        .max_age(std::time::Duration::from_secs(600));

    let routes = Router::new()
        .route(Endpoint::Join.route(), post(queue::join))
        .route(Endpoint::Poll.route(), get(queue::poll))
        .route(Endpoint::Sse.route(), get(sse::stream))
        .route(Endpoint::Redeem.route(), post(queue::redeem))
        .route(Endpoint::Extend.route(), post(shopper::extend))
        .route(Endpoint::Reserve.route(), post(shopper::reserve))
        .route(Endpoint::Leave.route(), post(shopper::leave))
        .route(Endpoint::Entries.route(), get(admin::entries))
        .route(
            Endpoint::CreateExperience.route(),
            get(admin::list).post(admin::create),
        )
        .route(
            Endpoint::Experience.route(),
            get(admin::get).patch(admin::patch),
        )
        .route(Endpoint::Admit.route(), post(admin::admit))
        .route(Endpoint::StreamTicket.route(), post(admin::stream_ticket))
        .route(
            Endpoint::OperatorStream.route(),
            get(operator_stream::stream),
        )
        .route(Endpoint::Synthetic.route(), post(admin::synthetic))
        .route(Endpoint::Inject.route(), post(admin::inject))
        .route(Endpoint::Transports.route(), put(admin::refuse_transports))
        .route(Endpoint::WebSocket.route(), get(ws::upgrade))
        .route(Endpoint::Health.route(), get(health::live))
        .route(Endpoint::Ready.route(), get(health::ready))
        .route(Endpoint::Metrics.route(), get(health::metrics))
        .route(embed::ROUTE, get(embed::script));
    // The demo shop's checkout exists only with `--demo`: a real shop has its own.
    let routes = if state.config.demo {
        routes.merge(checkout::router())
    } else {
        routes
    };
    routes
        .method_not_allowed_fallback(|| async {
            AppError::new(
                ErrorCode::MethodNotAllowed,
                "method not allowed on this path",
            )
        })
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), origin_guard))
        .layer(cors)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::internal("handler panicked").into_response()
        }))
        // Outside every other layer, so refusals and panics get them too.
        .layer(security::layer())
        .layer(access_log::layer())
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

/// API paths that match no route get a JSON 404; `/operator/…` is the operator console
/// ([`console::serve`]); everything else is the widget from `dist/` ([`widget::serve`]).
async fn fallback(State(app): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path == "/api" || path.starts_with("/ws") {
        return AppError::not_found(format!("no endpoint at {path}")).into_response();
    }
    if console::owns(path) {
        return console::serve(&app.config, request).await;
    }
    widget::serve(&app.config, request).await
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

/// Serves until `shutdown` resolves; from then on `/readyz` answers `503`, and after
/// [`Config::shutdown_drain`] (during which everything else is served as before) it ends
/// every stream and closes every WebSocket with [`livequeue_protocol::CloseCode::Restart`];
/// returns when all connections are gone or the grace period is over.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let engine = state.engine.clone();
    let grace = state.config.shutdown_grace;
    let drain = state.config.shutdown_drain;
    let fired = Arc::new(tokio::sync::Notify::new());
    let notify = fired.clone();
    let signal = async move {
        shutdown.await;
        engine.readiness().set(NotReady::ShuttingDown);
        if !drain.is_zero() {
            tracing::info!(
                ?drain,
                "shutting down: not ready, serving while load balancers drain"
            );
            tokio::time::sleep(drain).await;
        }
        tracing::info!("shutting down: closing streams");
        engine.shutdown();
        notify.notify_one();
    };
    // One router shared by every connection: serving the `Router` itself makes axum rebuild
    // it per connection (`with_state`), and an open SSE stream keeps that copy alive (about
    // 20 KB each). The front clones the shared one (an `Arc`).
    let head_timeout = state.config.head_timeout;
    let server = front::run(listener, app(state), head_timeout, signal);
    tokio::select! {
        () = server => Ok(()),
        _ = async { fired.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "connections still open after the grace period; exiting");
            Ok(())
        }
    }
}
