//! The reconnect storm: N push clients held open against one node whose queue is on a
//! redis-server of our own, the node restarted under them, and the time until every
//! client is back.
//!
//! 1. Start redis-server and the node (`--redis`, the loadgen's fixed secret and operator
//!    token, so tokens and the queue survive the restart). Create an experience, join N
//!    shoppers, open N streams (see [`crate::reconnect`]), `--connect-concurrency` at a
//!    time, and wait until each has its first state.
//! 2. Restart: mark the instant, send the node SIGTERM (it ends every SSE stream and
//!    closes every WebSocket with `1012`), wait for it to exit, and start it again on the
//!    same port. It is back at its first successful `/healthz`. From its start, its
//!    `VmRSS` is sampled every 100 ms.
//! 3. Every client reconnects as its supervisor commands, each attempt with a timeout
//!    (past it the attempt "hung"). The storm ends when every client is back (a first
//!    state on an attempt begun after the restart), or at the deadline.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use livequeue_protocol::{ExperienceId, IdError};
use serde::Serialize;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::{Instant, sleep};

use crate::api::Api;
use crate::phase::INITIAL_STOCK;
use crate::procfs::{Cpu, Proc, machine_busy_us, reported};
use crate::quiet::wait_for_quiet;
use crate::reconnect::{Client, Second, StormTally};
use crate::redis_server::RedisServer;
use crate::report::{Figures, Machine, ServerBinary, machine_line, two_columns};
use crate::stats::{Latency, median};
use crate::target::{Ended, Target};
use crate::transport::Transport;
use crate::{Error, Result};

/// How long the node gets to exit after SIGTERM before it is killed (its own grace for
/// open connections is 5 s).
const EXIT_PATIENCE: Duration = Duration::from_secs(30);

/// How often the new process's RSS is read.
const RSS_EVERY: Duration = Duration::from_millis(100);

/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The project's bar for the storm: this many clients…
pub const BAR_CLIENTS: usize = 19_000;
/// …all back within this many seconds of the restart…
pub const BAR_ALL_BACK_SECS: f64 = 35.0;
/// …with no attempt hung past the 5 s attempt timeout.
pub const BAR_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a storm runs.
#[derive(Debug, Clone)]
pub struct StormConfig {
    /// Clients.
    pub clients: usize,
    /// Their transport.
    pub transport: Transport,
    /// An attempt with no first state after this hung.
    pub attempt_timeout: Duration,
    /// Longest wait for every client, from the restart (and for the first opens).
    pub deadline: Duration,
    /// First opens in flight.
    pub connect_concurrency: usize,
    /// Joins in flight.
    pub join_concurrency: usize,
    /// Connections per source address.
    pub conns_per_ip: usize,
    /// Pause before the restart, once every stream is open.
    pub settle: Duration,
    /// Longest wait for a quiet machine before the restart.
    pub quiet_wait: Duration,
    /// The server binary.
    pub server_bin: PathBuf,
    /// The redis-server binary.
    pub redis_bin: PathBuf,
    /// The operator token.
    pub admin_token: String,
}

/// What a storm measured. Times are seconds from the restart (the SIGTERM).
#[derive(Debug, Clone, Serialize)]
pub struct StormResult {
    /// The transport.
    pub transport: Transport,
    /// Clients asked for.
    pub clients: usize,
    /// Clients with their first state before the restart.
    pub connected_before: usize,
    /// Seconds to open them.
    pub connect_secs: f64,
    /// How the node ended after SIGTERM.
    pub ended: Ended,
    /// Restart → the old process exited.
    pub exited_secs: f64,
    /// Restart → the new process's first successful `/healthz`.
    pub up_secs: f64,
    /// Clients back.
    pub back: usize,
    /// Restart → the last client back, when every client that was connected is back.
    pub all_back_secs: Option<f64>,
    /// Up → the last client back, likewise.
    pub all_back_after_up_secs: Option<f64>,
    /// Restart → the last client back so far (whether or not all are).
    pub last_back_secs: Option<f64>,
    /// Restart → back, median over the clients back.
    pub median_back_secs: Option<f64>,
    /// Restart → back per client, µs percentiles.
    pub back_after: Latency,
    /// Attempts begun after the restart.
    pub attempts: u64,
    /// Of those, failed within the attempt timeout (refused while the node was down, …).
    pub failed_attempts: u64,
    /// Of those, with no first state within the attempt timeout.
    pub hung_attempts: u64,
    /// The attempt timeout, ms.
    pub attempt_timeout_ms: u64,
    /// Clients whose supervisor gave up.
    pub given_up: usize,
    /// Streams that dropped again after being back.
    pub dropped_again: u64,
    /// Most accepts (clients back) in one second.
    pub peak_accepts_per_sec: u32,
    /// Which second that was.
    pub peak_second: Option<usize>,
    /// Node RSS before the restart, bytes.
    pub rss_before: Option<u64>,
    /// Highest RSS of the new process while the clients came back (and a second after).
    pub peak_rss: Option<u64>,
    /// Highest RSS sampled within the peak second.
    pub rss_in_peak_second: Option<u64>,
    /// CPU time of the new process, from its start until a second after the last client
    /// came back.
    pub server_cpu: Option<Cpu>,
    /// CPU time of redis-server over the same span (from the restart).
    pub redis_cpu: Option<Cpu>,
    /// Our CPU time from the restart to the end.
    pub loadgen_cpu: Option<Cpu>,
    /// CPU time other processes took from the restart to the end, µs.
    pub others_cpu_us: Option<u64>,
    /// Wall time from the restart to the end, s.
    pub wall_secs: f64,
    /// The new process's RSS samples: (ms since the restart, bytes).
    pub rss_samples: Vec<(u64, u64)>,
    /// Every second since the restart.
    pub seconds: Vec<Second>,
    /// Why attempts failed before the restart.
    pub errors_before: std::collections::BTreeMap<String, usize>,
    /// Why attempts failed after the restart.
    pub errors_after: std::collections::BTreeMap<String, usize>,
}

/// A whole `--storm` run, as written with `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct StormReport {
    /// Where.
    pub machine: Machine,
    /// The command line.
    pub command: String,
    /// Worker threads of the loadgen.
    pub loadgen_threads: usize,
    /// The server binary started.
    pub server_binary: Option<ServerBinary>,
    /// The figures.
    pub storm: StormResult,
    /// The headline figures ([`StormResult::figures`]).
    pub figures: Figures,
}

impl StormResult {
    /// Whether the run meets the project's bar (19,000 clients or more, all back within
    /// 35 s, no attempt hung with a timeout of 5 s or less).
    pub fn meets_bar(&self) -> bool {
        self.clients >= BAR_CLIENTS
            && self.back >= self.clients
            && self.all_back_secs.is_some_and(|s| s <= BAR_ALL_BACK_SECS)
            && self.hung_attempts == 0
            && self.attempt_timeout_ms <= BAR_ATTEMPT_TIMEOUT.as_millis() as u64
    }

    /// The headline figures: `storm_clients`, `storm_all_back_s` and
    /// `storm_all_back_after_up_s` (absent unless every client is back), `storm_hung_attempts`,
    /// `storm_failed_attempts`, `storm_peak_accepts_per_s`, `storm_peak_rss_mb`, and
    /// `storm_back_clients`, `storm_server_up_s`.
    pub fn figures(&self) -> Figures {
        let mut f = Figures::default();
        let t = self.transport;
        f.add(
            "storm_clients",
            format!("{t} clients held open"),
            Some(self.clients as f64),
            "clients",
        );
        f.add(
            "storm_back_clients",
            "clients back after the restart",
            Some(self.back as f64),
            "clients",
        );
        f.add(
            "storm_all_back_s",
            "restart → every client back",
            self.all_back_secs,
            "s",
        );
        f.add(
            "storm_all_back_after_up_s",
            "server up → every client back",
            self.all_back_after_up_secs,
            "s",
        );
        f.add(
            "storm_server_up_s",
            "restart → server up (/healthz)",
            Some(self.up_secs),
            "s",
        );
        f.add(
            "storm_hung_attempts",
            format!("attempts hung over {} ms", self.attempt_timeout_ms),
            Some(self.hung_attempts as f64),
            "attempts",
        );
        f.add(
            "storm_failed_attempts",
            "attempts failed",
            Some(self.failed_attempts as f64),
            "attempts",
        );
        f.add(
            "storm_peak_accepts_per_s",
            "peak accepts per second (client side, 1 s buckets)",
            Some(f64::from(self.peak_accepts_per_sec)),
            "/s",
        );
        f.add(
            "storm_peak_rss_mb",
            "server RSS at the peak",
            self.peak_rss.map(|b| b as f64 / 1e6),
            "MB",
        );
        f
    }
}

/// The table of a storm, then its seconds.
pub fn render(report: &StormReport) -> String {
    let s = &report.storm;
    let secs = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
    let mb = |v: Option<u64>| v.map_or("–".into(), |b| format!("{:.1} MB", b as f64 / 1e6));
    let rows = vec![
        ("transport".into(), s.transport.to_string()),
        (
            "connected before the restart / wanted".into(),
            format!("{} / {}", s.connected_before, s.clients),
        ),
        (
            "time to open them (s)".into(),
            format!("{:.1}", s.connect_secs),
        ),
        (
            "old process ended".into(),
            format!("{:?} after {:.2} s", s.ended, s.exited_secs),
        ),
        (
            "restart → server up (s)".into(),
            format!("{:.2}", s.up_secs),
        ),
        (
            "clients back".into(),
            format!("{} / {}", s.back, s.connected_before),
        ),
        ("restart → all back (s)".into(), secs(s.all_back_secs)),
        (
            "server up → all back (s)".into(),
            secs(s.all_back_after_up_secs),
        ),
        (
            "restart → back, median (s)".into(),
            secs(s.median_back_secs),
        ),
        (
            "restart → back p99 / last (s)".into(),
            format!(
                "{} / {}",
                secs(s.back_after.p99_us.map(|us| us as f64 / 1e6)),
                secs(s.last_back_secs)
            ),
        ),
        ("attempts after the restart".into(), s.attempts.to_string()),
        ("  failed".into(), s.failed_attempts.to_string()),
        (
            format!("  hung over {} ms", s.attempt_timeout_ms),
            s.hung_attempts.to_string(),
        ),
        ("clients that gave up".into(), s.given_up.to_string()),
        (
            "dropped again once back".into(),
            s.dropped_again.to_string(),
        ),
        (
            "peak accepts per second".into(),
            format!(
                "{} (second {})",
                s.peak_accepts_per_sec,
                s.peak_second.map_or("–".into(), |i| i.to_string())
            ),
        ),
        ("server RSS before the restart".into(), mb(s.rss_before)),
        ("new server RSS, peak".into(), mb(s.peak_rss)),
        (
            "new server RSS in the peak second".into(),
            mb(s.rss_in_peak_second),
        ),
        ("CPU, restart → end, share of a core".into(), {
            let share = |us: Option<u64>| {
                us.map_or("–".into(), |us| {
                    format!("{:.0}%", 100.0 * us as f64 / (s.wall_secs.max(1e-3) * 1e6))
                })
            };
            format!(
                "server {} · redis {} · loadgen {} · others {} (over {:.1} s)",
                share(s.server_cpu.map(|c| c.total_us())),
                share(s.redis_cpu.map(|c| c.total_us())),
                share(s.loadgen_cpu.map(|c| c.total_us())),
                share(s.others_cpu_us),
                s.wall_secs
            )
        }),
        (
            format!("bar: {BAR_CLIENTS} back within {BAR_ALL_BACK_SECS} s, none hung"),
            if s.clients < BAR_CLIENTS {
                format!("not applicable (under {BAR_CLIENTS} clients)")
            } else if s.meets_bar() {
                "met".to_string()
            } else {
                "not met".to_string()
            },
        ),
    ];
    let mut out = format!(
        "{}\n",
        machine_line(&report.machine, report.loadgen_threads)
    );
    if let Some(bin) = &report.server_binary {
        out.push_str(&format!("{}\n", bin.line()));
    }
    out.push_str(&two_columns(&rows));
    out.push_str("\nsecond | attempts | accepted | failed | hung\n");
    for sec in &s.seconds {
        out.push_str(&format!(
            "{:>6} | {:>8} | {:>8} | {:>6} | {:>4}\n",
            sec.second, sec.attempts, sec.accepted, sec.failed, sec.hung
        ));
    }
    for (why, count) in &s.errors_before {
        out.push_str(&format!("before the restart: {count} × {why}\n"));
    }
    for (why, count) in &s.errors_after {
        out.push_str(&format!("after the restart: {count} × {why}\n"));
    }
    out
}

/// Seconds from `from` to `to`.
fn secs_between(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64()
}

/// Reads `proc`'s VmRSS every [`RSS_EVERY`] into `samples` (ms since `restart`) until
/// `stop` is set.
async fn sample_rss(
    proc: Proc,
    restart: Instant,
    samples: Arc<Mutex<Vec<(u64, u64)>>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        // The process may be starting or gone: a missing sample is no error.
        if let Ok(rss) = proc.vm_rss() {
            let ms = u64::try_from(restart.elapsed().as_millis()).unwrap_or(u64::MAX);
            samples.lock().await.push((ms, rss));
        }
        sleep(RSS_EVERY).await;
    }
}

/// Runs the storm.
pub async fn run(cfg: &StormConfig) -> Result<StormResult> {
    let redis = RedisServer::spawn(&cfg.redis_bin).await?;
    let url = redis.url();
    eprintln!(
        "started {} (pid {:?}) on {}",
        cfg.redis_bin.display(),
        redis.pid,
        redis.addr
    );
    let mut node = Target::spawn(&cfg.server_bin, &cfg.admin_token, Some(&url)).await?;
    eprintln!(
        "started {} (pid {:?}) on {} with --redis {url}",
        cfg.server_bin.display(),
        node.pid,
        node.addr
    );
    let api = Api::new(&node.base_url, &cfg.admin_token);
    let experience: Arc<ExperienceId> = Arc::new(
        format!("loadgen-storm-{}", std::process::id())
            .parse()
            .map_err(|e: IdError| Error::Setup(e.to_string()))?,
    );
    let n = cfg.clients;
    eprintln!("[storm] creating {experience} and joining {n} shoppers");
    api.create_experience(&experience, INITIAL_STOCK).await?;
    let shoppers = api.join_many(&experience, n, cfg.join_concurrency).await?;

    let origin = Instant::now();
    let tally = Arc::new(StormTally::new(origin, n));
    let first_opens = Arc::new(Semaphore::new(cfg.connect_concurrency.max(1)));
    // Jitters differ from run to run, as browsers' do.
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let salt = u64::from(std::process::id()) ^ clock;
    eprintln!("[storm] opening {n} {} streams", cfg.transport);
    let tasks: Vec<_> = shoppers
        .into_iter()
        .enumerate()
        .map(|(index, shopper)| {
            tokio::spawn(
                Client {
                    index,
                    transport: cfg.transport,
                    server: node.addr,
                    experience: experience.clone(),
                    shopper,
                    conns_per_ip: cfg.conns_per_ip,
                    attempt_timeout: cfg.attempt_timeout,
                    first_opens: first_opens.clone(),
                    tally: tally.clone(),
                    salt,
                }
                .run(),
            )
        })
        .collect();
    let mut note = Instant::now();
    while tally.ready_count() + tally.given_up_count() < n && origin.elapsed() < cfg.deadline {
        if note.elapsed() > PROGRESS_EVERY {
            eprintln!("  {} open", tally.ready_count());
            note = Instant::now();
        }
        sleep(Duration::from_millis(20)).await;
    }
    let connect_secs = origin.elapsed().as_secs_f64();
    let connected_before = tally.ready_count();
    eprintln!("[storm] {connected_before} of {n} open in {connect_secs:.1} s");
    sleep(cfg.settle).await;
    wait_for_quiet(cfg.quiet_wait).await;
    let rss_before = node.proc().and_then(|p| p.vm_rss().ok());

    eprintln!("[storm] restarting the node (SIGTERM)");
    let machine_before = machine_busy_us().ok();
    let loadgen_before = reported(Proc::Myself, "loadgen cpu", Proc::cpu);
    let redis_before = redis
        .proc()
        .and_then(|p| reported(p, "redis cpu", Proc::cpu));
    let restart = Instant::now();
    tally.mark_restart(restart);
    let ended = node.terminate(EXIT_PATIENCE).await?;
    let exited = Instant::now();
    let addr = node.addr;
    drop(node);
    let mut node = Target::start_on(addr, &cfg.server_bin, &cfg.admin_token, Some(&url))?;
    let samples = Arc::new(Mutex::new(Vec::new()));
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = node.proc().map(|proc| {
        tokio::spawn(sample_rss(
            proc,
            restart,
            samples.clone(),
            stop_sampling.clone(),
        ))
    });
    node.wait_ready().await?;
    let up = Instant::now();
    eprintln!(
        "[storm] old node exited after {:.2} s, new one (pid {:?}) up after {:.2} s",
        secs_between(restart, exited),
        node.pid,
        secs_between(restart, up)
    );
    let mut note = Instant::now();
    while tally.back_count() < connected_before
        && tally.given_up_count() < n
        && restart.elapsed() < cfg.deadline
    {
        if note.elapsed() > PROGRESS_EVERY {
            let (attempts, failed, hung, _) = tally.attempt_counts();
            eprintln!(
                "  {:.0} s: {} back, {attempts} attempts, {failed} failed, {hung} hung",
                restart.elapsed().as_secs_f64(),
                tally.back_count()
            );
            note = Instant::now();
        }
        sleep(Duration::from_millis(20)).await;
    }
    // One more second of RSS samples: the memory of the last accepts settles after them.
    sleep(Duration::from_secs(1)).await;
    stop_sampling.store(true, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        // It ends within one sampling period; a panic there only loses samples.
        let _ = sampler.await;
    }
    let since = |now: Option<Cpu>, then: Option<Cpu>| now.zip(then).map(|(a, b)| a.since(&b));
    let wall_secs = restart.elapsed().as_secs_f64();
    let server_cpu = node
        .proc()
        .and_then(|p| reported(p, "server cpu", Proc::cpu));
    let redis_cpu = since(
        redis
            .proc()
            .and_then(|p| reported(p, "redis cpu", Proc::cpu)),
        redis_before,
    );
    let loadgen_cpu = since(
        reported(Proc::Myself, "loadgen cpu", Proc::cpu),
        loadgen_before,
    );
    let ours = server_cpu
        .zip(loadgen_cpu)
        .map(|(s, l)| s.total_us() + l.total_us() + redis_cpu.map_or(0, |r| r.total_us()));
    let others_cpu_us = machine_busy_us()
        .ok()
        .zip(machine_before)
        .map(|(a, b)| a.saturating_sub(b))
        .zip(ours)
        .map(|(m, o)| m.saturating_sub(o));
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        // Aborted on purpose.
        let _ = task.await;
    }
    node.stop().await;
    redis.stop().await;

    let mut back_secs = tally.back_secs();
    let back = back_secs.len();
    let last_back_secs = back_secs.iter().copied().reduce(f64::max);
    let all = back >= connected_before && connected_before > 0;
    let up_secs = secs_between(restart, up);
    let mut back_us: Vec<u64> = back_secs.iter().map(|s| (s * 1e6) as u64).collect();
    let seconds = tally.seconds();
    let (peak_second, peak) = seconds
        .iter()
        .map(|s| (s.second, s.accepted))
        .max_by_key(|&(_, accepted)| accepted)
        .map_or((None, 0), |(i, a)| (Some(i), a));
    let rss_samples = samples.lock().await.clone();
    let peak_rss = rss_samples.iter().map(|&(_, rss)| rss).max();
    let rss_in_peak_second = peak_second.and_then(|sec| {
        let (from, to) = (sec as u64 * 1_000, (sec as u64 + 1) * 1_000);
        rss_samples
            .iter()
            .filter(|&&(ms, _)| ms >= from && ms < to)
            .map(|&(_, rss)| rss)
            .max()
    });
    let (attempts, failed_attempts, hung_attempts, dropped_again) = tally.attempt_counts();
    let (errors_before, errors_after) = tally.errors();
    back_secs.sort_by(f64::total_cmp);
    Ok(StormResult {
        transport: cfg.transport,
        clients: n,
        connected_before,
        connect_secs,
        ended,
        exited_secs: secs_between(restart, exited),
        up_secs,
        back,
        all_back_secs: last_back_secs.filter(|_| all),
        all_back_after_up_secs: last_back_secs
            .filter(|_| all)
            .map(|s| (s - up_secs).max(0.0)),
        last_back_secs,
        median_back_secs: median(&back_secs),
        back_after: Latency::of(&mut back_us),
        attempts,
        failed_attempts,
        hung_attempts,
        attempt_timeout_ms: u64::try_from(cfg.attempt_timeout.as_millis()).unwrap_or(u64::MAX),
        given_up: tally.given_up_count(),
        dropped_again,
        peak_accepts_per_sec: peak,
        peak_second,
        rss_before,
        peak_rss,
        rss_in_peak_second,
        server_cpu,
        redis_cpu,
        loadgen_cpu,
        others_cpu_us,
        wall_secs,
        rss_samples,
        seconds,
        errors_before,
        errors_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> StormResult {
        StormResult {
            transport: Transport::Sse,
            clients: 19_000,
            connected_before: 19_000,
            connect_secs: 3.0,
            ended: Ended::Exited("exit status: 0".into()),
            exited_secs: 0.2,
            up_secs: 0.5,
            back: 19_000,
            all_back_secs: Some(9.5),
            all_back_after_up_secs: Some(9.0),
            last_back_secs: Some(9.5),
            median_back_secs: Some(2.0),
            back_after: Latency::default(),
            attempts: 30_000,
            failed_attempts: 11_000,
            hung_attempts: 0,
            attempt_timeout_ms: 5_000,
            given_up: 0,
            dropped_again: 0,
            peak_accepts_per_sec: 8_000,
            peak_second: Some(1),
            rss_before: None,
            peak_rss: Some(250_000_000),
            rss_in_peak_second: None,
            server_cpu: None,
            redis_cpu: None,
            loadgen_cpu: None,
            others_cpu_us: None,
            wall_secs: 10.0,
            rss_samples: Vec::new(),
            seconds: Vec::new(),
            errors_before: Default::default(),
            errors_after: Default::default(),
        }
    }

    #[test]
    fn the_bar_needs_every_client_back_in_time_and_no_hang() {
        assert!(result().meets_bar(), "19,000 back in 9.5 s with none hung");
        let hung = StormResult {
            hung_attempts: 1,
            ..result()
        };
        assert!(!hung.meets_bar(), "one hung attempt fails the bar");
        let slow = StormResult {
            all_back_secs: Some(35.5),
            ..result()
        };
        assert!(!slow.meets_bar(), "35.5 s is too slow");
        let small = StormResult {
            clients: 500,
            back: 500,
            ..result()
        };
        assert!(!small.meets_bar(), "the bar is for 19,000 clients");
    }

    #[test]
    fn figures_carry_the_stable_keys_and_leave_out_what_was_not_reached() {
        let f = result().figures();
        assert_eq!(f.get("storm_clients"), Some(19_000.0));
        assert_eq!(f.get("storm_all_back_s"), Some(9.5));
        assert_eq!(f.get("storm_all_back_after_up_s"), Some(9.0));
        assert_eq!(f.get("storm_peak_rss_mb"), Some(250.0));
        assert_eq!(f.get("storm_peak_accepts_per_s"), Some(8_000.0));
        let missing = StormResult {
            back: 18_000,
            all_back_secs: None,
            all_back_after_up_secs: None,
            ..result()
        };
        assert_eq!(
            missing.figures().get("storm_all_back_s"),
            None,
            "not all back"
        );
    }
}
