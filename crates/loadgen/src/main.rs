//! `livequeue-loadgen`: parses flags, raises the open-file limit, runs the phases on a
//! small runtime, prints the table and writes the JSON.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use livequeue_loadgen::api::Api;
use livequeue_loadgen::cli::Args;
use livequeue_loadgen::limits;
use livequeue_loadgen::phase::{self, PhaseConfig};
use livequeue_loadgen::report::{self, Machine, Report};
use livequeue_loadgen::target::Target;
use livequeue_loadgen::transport::Transport;
use livequeue_loadgen::{Error, Result};

fn main() -> ExitCode {
    let args = Args::parse();
    // Before the runtime and the child exist, so both inherit it.
    match limits::raise_own_nofile(args.nofile) {
        Ok(n) if n < args.nofile => eprintln!(
            "open-file limit is {n} (wanted {}): the hard limit cannot be raised without \
             CAP_SYS_RESOURCE, so neither we nor the server can hold more than about {n} connections",
            args.nofile
        ),
        Ok(_) => {}
        Err(e) => eprintln!("cannot raise the open-file limit: {e}"),
    }
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let phases: Vec<(Transport, usize)> = [(Transport::Sse, args.sse), (Transport::Ws, args.ws)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut results = Vec::new();
    let mut target: Option<Target> = None;
    for (index, (transport, connections)) in phases.into_iter().enumerate() {
        let reuse = args.url.is_some() || args.reuse_server;
        if !reuse || target.is_none() {
            if let Some(old) = target.take() {
                old.stop().await;
            }
            target = Some(open_target(&args).await?);
        }
        let Some(t) = target.as_ref() else {
            return Err(Error::Setup("no server".into()));
        };
        let api = Api::new(&t.base_url, &args.admin_token);
        let cfg = PhaseConfig {
            transport,
            index,
            connections,
            publishes: args.publishes,
            interval: Duration::from_millis(args.interval_ms),
            delivery_timeout: Duration::from_millis(args.delivery_timeout_ms),
            connect_concurrency: args.connect_concurrency,
            join_concurrency: args.join_concurrency,
            conns_per_ip: args.conns_per_ip,
            settle: Duration::from_millis(args.settle_ms),
            quiet_wait: Duration::from_secs(args.quiet_wait_secs),
        };
        results.push(phase::run(t, &api, &cfg).await?);
    }
    if let Some(t) = target.take() {
        t.stop().await;
    }
    let report = Report {
        machine: Machine::this(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        loadgen_threads: args.threads.max(1),
        phases: results,
    };
    println!("{}", report::render(&report));
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Setup(format!("encoding JSON: {e}")))?;
        std::fs::write(path, json)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    Ok(())
}

async fn open_target(args: &Args) -> Result<Target> {
    match &args.url {
        Some(url) => {
            if let Some(pid) = args.server_pid
                && let Err(e) = limits::raise_nofile_of(pid, args.nofile)
            {
                eprintln!("cannot raise the server's open-file limit: {e}");
            }
            Target::attach(url, args.server_pid).await
        }
        None => {
            let t = Target::spawn(&args.server_bin, &args.admin_token).await?;
            eprintln!(
                "started {} (pid {:?}) on {}",
                args.server_bin.display(),
                t.pid,
                t.addr
            );
            Ok(t)
        }
    }
}
