//! `livequeue-server`: parses flags, starts the demo if asked, serves until SIGTERM/Ctrl-C.

use clap::Parser;
use std::net::SocketAddr;
use std::time::Duration;

use livequeue_server::engine::Engine;
use livequeue_server::{AppState, Args, Config, bind, demo, demo_shop, serve};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let (addr, demo_on, shop_addr) = (args.addr, args.demo, args.demo_shop_addr);
    let mut config = Config::from(args);
    let listener = bind(addr)?;
    let widget = origin(listener.local_addr()?);
    // The demo shop listens before the widget serves, so its origin is in the widget's
    // `frame-ancestors` from the first answer.
    let shop = if demo_on {
        let shop_addr = shop_addr.unwrap_or_else(|| std::net::SocketAddr::new(addr.ip(), 0));
        let shop_listener = bind(shop_addr).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("the demo shop cannot listen on {shop_addr} (--demo-shop-addr): {e}"),
            )
        })?;
        let shop = origin(shop_listener.local_addr()?);
        config.frame_ancestors.add(shop.clone());
        let app = demo_shop::app(&widget);
        // It lives as long as the process: `main` returning after `serve` ends it.
        tokio::spawn(async move {
            if let Err(e) = axum::serve(shop_listener, app).await {
                tracing::error!(%e, "the demo shop stopped");
            }
        });
        Some(shop)
    } else {
        None
    };
    let engine = match config.redis_url.clone() {
        None => Engine::memory(config.engine.clone()),
        Some(url) => redis_engine(&config, &url).await,
    };
    let state = AppState::with_engine(config, engine);
    if demo_on {
        demo::start(&state.engine).await;
    }
    if let Some(shop) = &shop {
        tracing::info!("demo shop (open this): {shop}/ embeds the widget from {widget}");
    }
    tracing::info!("livequeue listening on {widget}");
    if state.config.admin_token.is_some() {
        // Never the token itself: it is the operator's secret (LIVEQUEUE_ADMIN_TOKEN).
        tracing::info!("operator console: {widget}/operator/ (sign in with LIVEQUEUE_ADMIN_TOKEN)");
    }
    tracing::info!("widget frame-ancestors: {}", state.config.frame_ancestors);
    if demo_on {
        tracing::info!(
            "demo, the big drop: {widget}/?experience={}",
            demo::EXPERIENCE
        );
        tracing::info!(
            "demo, the short line (admitted within a minute; extend, reserve, leave): {widget}/?experience={}",
            demo::QUICK_EXPERIENCE
        );
    }
    serve(listener, state, shutdown_signal()).await
}

/// The Redis engine on `url`, waiting for Redis as long as it takes: a node started
/// before its Redis (a whole deployment starting at once) serves once Redis answers.
async fn redis_engine(config: &Config, url: &str) -> Engine {
    // The URL may carry a password: the log names only where it points.
    let at = url.rsplit('@').next().unwrap_or(url);
    let mut delay = Duration::from_millis(200);
    loop {
        match Engine::redis(config.engine.clone(), url).await {
            Ok(engine) => {
                tracing::info!("queue in Redis at {at}");
                return engine;
            }
            Err(e) => {
                tracing::warn!("waiting for Redis at {at}: {e}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The browser origin of a listening address: an unspecified IP (`0.0.0.0`, `::`) is
/// reached as loopback from this machine.
fn origin(at: SocketAddr) -> String {
    let ip = match at.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    format!("http://{}", SocketAddr::new(ip, at.port()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(%e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(%e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
