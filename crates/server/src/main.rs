//! `livequeue-server`: parses flags, starts the demo if asked, serves until SIGTERM/Ctrl-C.

use clap::Parser;
use livequeue_server::{AppState, Args, Config, bind, demo, serve};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let (addr, demo_on) = (args.addr, args.demo);
    let state = AppState::new(Config::from(args));
    if demo_on {
        demo::start(&state.engine);
    }
    let listener = bind(addr)?;
    tracing::info!("livequeue listening on http://{}", listener.local_addr()?);
    if demo_on {
        let at = listener.local_addr()?;
        tracing::info!(
            "demo, the big drop: http://{at}/?experience={}",
            demo::EXPERIENCE
        );
        tracing::info!(
            "demo, the short line (admitted within a minute; extend, reserve, leave): http://{at}/?experience={}",
            demo::QUICK_EXPERIENCE
        );
    }
    serve(listener, state, shutdown_signal()).await
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
