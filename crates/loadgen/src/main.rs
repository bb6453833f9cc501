//! `livequeue-loadgen`: parses flags, raises the open-file limit, runs the mode asked for
//! (the fan-out phases, `--poll`, `--storm` or `--guide-js`) on a small runtime, prints the table and
//! writes the JSON.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use livequeue_loadgen::cli::{Args, Mode};
use livequeue_loadgen::cluster::{Cluster, Launch, Setup};
use livequeue_loadgen::guide::report::{GuideReport, GuideSoftware};
use livequeue_loadgen::guide::{self, GuideLaunch};
use livequeue_loadgen::limits;
use livequeue_loadgen::phase::{self, PhaseConfig};
use livequeue_loadgen::poll::{self, PollConfig, PollReport};
use livequeue_loadgen::report::{self, Machine, Report, ServerBinary};
use livequeue_loadgen::storm::{self, StormConfig, StormReport};
use livequeue_loadgen::transport::Transport;
use livequeue_loadgen::{Error, Result};
use tokio::signal::unix::{SignalKind, signal};

fn main() -> ExitCode {
    let args = Args::parse_args();
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
    match runtime.block_on(unless_stopped(run(args))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `work` unless SIGINT, SIGTERM or SIGHUP comes first. Then `work` is dropped, and
/// with it every process it started (see `livequeue_loadgen::child`).
async fn unless_stopped(work: impl Future<Output = Result<()>>) -> Result<()> {
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|e| Error::io(format!("listening for {name}"), e))
    };
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT")?;
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut hangup = listen(SignalKind::hangup(), "SIGHUP")?;
    let stopped = |name: &str| {
        Error::Setup(format!(
            "stopped by {name}: the servers and Redis started here are killed"
        ))
    };
    tokio::select! {
        result = work => result,
        _ = interrupt.recv() => Err(stopped("SIGINT")),
        _ = terminate.recv() => Err(stopped("SIGTERM")),
        _ = hangup.recv() => Err(stopped("SIGHUP")),
    }
}

async fn run(args: Args) -> Result<()> {
    match args.mode() {
        Mode::FanOut => run_fan_out(args).await,
        Mode::Poll(clients) => run_poll(args, clients).await,
        Mode::Storm(clients) => run_storm(args, clients).await,
        Mode::GuideJs => run_guide_js(args).await,
    }
}

/// Writes `report` as JSON to `--json`, when given.
fn write_json(args: &Args, report: &impl serde::Serialize) -> Result<()> {
    let Some(path) = &args.json else {
        return Ok(());
    };
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| Error::Setup(format!("encoding JSON: {e}")))?;
    std::fs::write(path, json).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// `--poll`: one fresh node with its queue in memory.
async fn run_poll(args: Args, clients: usize) -> Result<()> {
    let launch = Launch {
        server_bin: &args.server_bin,
        redis_bin: &args.redis_server_bin,
        admin_token: &args.admin_token,
    };
    let cluster = Cluster::start(Setup::Memory, &launch).await?;
    let cfg = PollConfig {
        clients,
        warmup: Duration::from_secs(args.poll_warmup_secs),
        window: Duration::from_secs(args.poll_secs),
        join_concurrency: args.join_concurrency,
        conns_per_ip: args.conns_per_ip,
        quiet_wait: Duration::from_secs(args.quiet_wait_secs),
    };
    let result = poll::run(&cluster, &cfg).await;
    cluster.stop().await;
    let result = result?;
    let report = PollReport {
        machine: Machine::this(),
        command: command_line(),
        loadgen_threads: args.threads.max(1),
        server_binary: ServerBinary::of(&args.server_bin),
        figures: result.figures(),
        poll: result,
    };
    println!("{}", poll::render(&report));
    write_json(&args, &report)
}

/// `--storm`: one node on a Redis of our own, restarted under its clients.
async fn run_storm(args: Args, clients: usize) -> Result<()> {
    let cfg = StormConfig {
        clients,
        transport: args.storm_transport,
        attempt_timeout: Duration::from_millis(args.storm_attempt_timeout_ms),
        deadline: Duration::from_secs(args.storm_deadline_secs),
        connect_concurrency: args.connect_concurrency,
        join_concurrency: args.join_concurrency,
        conns_per_ip: args.conns_per_ip,
        settle: Duration::from_millis(args.settle_ms),
        quiet_wait: Duration::from_secs(args.quiet_wait_secs),
        server_bin: args.server_bin.clone(),
        redis_bin: args.redis_server_bin.clone(),
        admin_token: args.admin_token.clone(),
    };
    let result = storm::run(&cfg).await?;
    let report = StormReport {
        machine: Machine::this(),
        command: command_line(),
        loadgen_threads: args.threads.max(1),
        server_binary: ServerBinary::of(&args.server_bin),
        figures: result.figures(),
        storm: result,
    };
    println!("{}", storm::render(&report));
    write_json(&args, &report)
}

/// Phase `index` of a fan-out run (livequeue's or the guide's), as the flags ask.
fn phase_config(
    args: &Args,
    transport: Transport,
    index: usize,
    connections: usize,
) -> PhaseConfig {
    PhaseConfig {
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
    }
}

/// The idle connections and fan-out phases (`--sse`, `--ws`).
async fn run_fan_out(args: Args) -> Result<()> {
    // Transport first, then setup: the phases compared with each other run back to back,
    // so the machine's drift over a run falls between transports, not between setups.
    let mut plan: Vec<(Transport, usize, Setup)> = Vec::new();
    for (transport, connections) in [(Transport::Sse, args.sse), (Transport::Ws, args.ws)] {
        if connections > 0 {
            for setup in args.setups() {
                plan.push((transport, connections, setup));
            }
        }
    }
    let mut results = Vec::new();
    let mut cluster: Option<Cluster> = None;
    for (index, (transport, connections, setup)) in plan.into_iter().enumerate() {
        let reuse = args.url.is_some() || args.reuse_server;
        let reusable = cluster.as_ref().is_some_and(|c| c.setup == setup);
        if !(reuse && reusable) {
            if let Some(old) = cluster.take() {
                old.stop().await;
            }
            cluster = Some(open_cluster(&args, setup).await?);
        }
        let Some(c) = cluster.as_ref() else {
            return Err(Error::Setup("no server".into()));
        };
        let cfg = phase_config(&args, transport, index, connections);
        results.push(phase::run(c, &cfg).await?);
    }
    if let Some(c) = cluster.take() {
        c.stop().await;
    }
    let report = Report {
        machine: Machine::this(),
        command: command_line(),
        loadgen_threads: args.threads.max(1),
        server_binary: args
            .url
            .is_none()
            .then(|| ServerBinary::of(&args.server_bin))
            .flatten(),
        figures: report::phase_figures(&results),
        phases: results,
    };
    println!("{}", report::render(&report));
    write_json(&args, &report)
}

/// `--guide-js`: the fan-out phases against the guide's JavaScript server, SSE then
/// WebSocket, each on a fresh redis-server and node.
async fn run_guide_js(args: Args) -> Result<()> {
    if args.sse > guide::SSE_LIMIT {
        eprintln!(
            "--sse {}: the guide's SSE route holds two descriptors per client in node (the \
             client's socket and its own Redis subscriber's) under the limit of 20,000, so \
             past about {} clients node runs out of descriptors and the rest fail",
            args.sse,
            guide::SSE_LIMIT
        );
    }
    let deps = args
        .guide_js_deps
        .clone()
        .unwrap_or_else(guide::servers::default_deps_dir);
    let modules = guide::servers::ensure_deps(&args.guide_js_script, &deps).await?;
    let launch = GuideLaunch {
        node: args.node_bin.clone(),
        script: args.guide_js_script.clone(),
        modules: modules.clone(),
        redis: args.redis_server_bin.clone(),
    };
    let mut phases = Vec::new();
    let mut redis_version = None;
    let plan = [(Transport::Sse, args.sse), (Transport::Ws, args.ws)];
    for (index, (transport, connections)) in plan.into_iter().filter(|(_, n)| *n > 0).enumerate() {
        let cfg = phase_config(&args, transport, index, connections);
        let (phase, version) = guide::run_phase(&launch, &cfg).await?;
        redis_version = redis_version.or(version);
        phases.push(phase);
    }
    let manifest = args.guide_js_script.with_file_name("package.json");
    let dependencies = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("dependencies").cloned())
        .unwrap_or_default();
    let report = GuideReport {
        machine: Machine::this(),
        command: command_line(),
        loadgen_threads: args.threads.max(1),
        software: GuideSoftware {
            script: args.guide_js_script.display().to_string(),
            node: guide::servers::node_version(&args.node_bin).await,
            dependencies,
            node_modules: modules.display().to_string(),
            redis: redis_version,
            redis_maxclients: guide::servers::REDIS_MAXCLIENTS,
        },
        figures: guide::report::figures(&phases),
        phases,
    };
    println!("{}", guide::report::render(&report));
    write_json(&args, &report)
}

async fn open_cluster(args: &Args, setup: Setup) -> Result<Cluster> {
    let Some(url) = &args.url else {
        let launch = Launch {
            server_bin: &args.server_bin,
            redis_bin: &args.redis_server_bin,
            admin_token: &args.admin_token,
        };
        return Cluster::start(setup, &launch).await;
    };
    if let Some(pid) = args.server_pid
        && let Err(e) = limits::raise_nofile_of(pid, args.nofile)
    {
        eprintln!("cannot raise the server's open-file limit: {e}");
    }
    Cluster::attach(url, args.server_pid, &args.admin_token).await
}
