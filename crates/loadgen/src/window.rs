//! CPU time consumed over a window (the publishes of a phase) by the server nodes (or
//! the guide's node), by their Redis, by the loadgen, and by everything else on the machine.

use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::procfs::{Cpu, Proc, machine_busy_us, reported};

/// The readings at the start of a window.
#[derive(Debug, Clone, Copy)]
pub struct CpuWindow {
    started: Instant,
    machine: Option<u64>,
    servers: Option<Cpu>,
    redis: Option<Cpu>,
    loadgen: Option<Cpu>,
}

/// What a [`CpuWindow`] saw.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// Every node, added up.
    pub servers: Option<Cpu>,
    /// The Redis the nodes share (`None` without one).
    pub redis: Option<Cpu>,
    /// The loadgen.
    pub loadgen: Option<Cpu>,
    /// The machine's busy time less all of the above, µs: builds or tests running beside
    /// the benchmark show up here.
    pub others_us: Option<u64>,
    /// Wall time of the window, µs.
    pub wall_us: u64,
}

fn own_cpu() -> Option<Cpu> {
    reported(Proc::Myself, "loadgen cpu", Proc::cpu)
}

impl CpuWindow {
    /// Takes the first readings of `cluster`.
    pub fn start(cluster: &Cluster) -> Self {
        Self::start_with(cluster.server_cpu(), cluster.redis_cpu())
    }

    /// Takes the last readings of `cluster` and the differences.
    pub fn finish(self, cluster: &Cluster) -> CpuUse {
        self.finish_with(cluster.server_cpu(), cluster.redis_cpu())
    }

    /// Takes the first readings, given the servers' and their Redis's CPU time now (any
    /// servers: livequeue's nodes, or the guide's node).
    pub fn start_with(servers: Option<Cpu>, redis: Option<Cpu>) -> Self {
        Self {
            started: Instant::now(),
            machine: machine_busy_us().ok(),
            servers,
            redis,
            loadgen: own_cpu(),
        }
    }

    /// Takes the last readings, given the same processes' CPU time now, and the
    /// differences.
    pub fn finish_with(self, servers: Option<Cpu>, redis: Option<Cpu>) -> CpuUse {
        let since = |now: Option<Cpu>, then: Option<Cpu>| now.zip(then).map(|(a, b)| a.since(&b));
        let servers = since(servers, self.servers);
        let redis = since(redis, self.redis);
        let loadgen = since(own_cpu(), self.loadgen);
        let machine = machine_busy_us()
            .ok()
            .zip(self.machine)
            .map(|(a, b)| a.saturating_sub(b));
        let ours = servers
            .zip(loadgen)
            .map(|(s, l)| s.total_us() + l.total_us() + redis.map_or(0, |r| r.total_us()));
        CpuUse {
            servers,
            redis,
            loadgen,
            others_us: machine.zip(ours).map(|(m, o)| m.saturating_sub(o)),
            wall_us: self.started.elapsed().as_micros() as u64,
        }
    }
}
