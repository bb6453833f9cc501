//! Where and on what the figures were taken: the machine, the commit, the date; and waiting
//! for the machine to be quiet before a run (the loadgen does its own waiting; the browser
//! benchmarks get this one, the same rule: other processes using under a fifth of a core).

use std::time::{Duration, Instant};

use crate::shell::{command, probe_stdout};

/// The machine, for the generated section's header.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// CPUs this process may run on.
    pub nproc: usize,
    /// `MemTotal` of `/proc/meminfo`, as written there (`24562808 kB`).
    pub mem_total: String,
    /// Kernel release.
    pub kernel: String,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
}

impl Machine {
    /// This machine (fields it cannot read stay empty).
    pub fn this() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        Self {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            mem_total: field(&read("/proc/meminfo"), "MemTotal").unwrap_or_default(),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            cpu_model: field(&read("/proc/cpuinfo"), "model name").unwrap_or_default(),
        }
    }
}

/// The value of the first `name: value` line of a `/proc` file.
pub fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    })
}

/// The commit the figures belong to.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// `git rev-parse --short HEAD` (empty outside a repository).
    pub short: String,
    /// Whether tracked files differ from it.
    pub dirty: bool,
}

impl Commit {
    /// The working tree's commit.
    pub fn this() -> Self {
        let short =
            probe_stdout(command("git").args(["rev-parse", "--short", "HEAD"])).unwrap_or_default();
        let status =
            probe_stdout(command("git").args(["status", "--porcelain", "--untracked-files=no"]))
                .unwrap_or_default();
        Self {
            short,
            dirty: !status.is_empty(),
        }
    }
}

/// The time now in UTC, `2026-12-01 23:09 UTC` (from `date`, to need no date crate).
pub fn utc_now() -> String {
    probe_stdout(command("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
        .unwrap_or_else(|| "(unknown date)".to_owned())
}

/// A stamp for the run's directory, `20261201T230900Z`.
pub fn utc_stamp() -> String {
    probe_stdout(command("date").args(["-u", "+%Y%m%dT%H%M%SZ"]))
        .unwrap_or_else(|| std::process::id().to_string())
}

/// The 1-minute load average, for the record.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// Busy share of one core under which the machine counts as quiet (the loadgen's rule).
const QUIET_SHARE: f64 = 0.2;
/// Clock ticks per second of `/proc/stat` (`USER_HZ`, 100 on Linux everywhere that matters).
const USER_HZ: f64 = 100.0;
/// How long one reading of the machine's busy time lasts.
const WINDOW: Duration = Duration::from_secs(2);

/// The busy jiffies of the aggregate `cpu` line of `/proc/stat`: user, nice, system, irq,
/// softirq and steal (not idle and iowait).
pub fn busy_jiffies(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal …
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    (fields.len() >= 4).then(|| at(0) + at(1) + at(2) + at(5) + at(6) + at(7))
}

/// Waits until the machine's busy time over [`WINDOW`] is under [`QUIET_SHARE`] of a core,
/// or `max` has passed (then says so and goes on). Returns the last busy share seen.
pub fn wait_for_quiet(max: Duration) -> Option<f64> {
    let began = Instant::now();
    let mut said = false;
    loop {
        let read = || busy_jiffies(&std::fs::read_to_string("/proc/stat").ok()?);
        let before = read()?;
        let window = Instant::now();
        std::thread::sleep(WINDOW);
        let after = read()?;
        let share = after.saturating_sub(before) as f64 / USER_HZ / window.elapsed().as_secs_f64();
        if share < QUIET_SHARE {
            return Some(share);
        }
        if began.elapsed() >= max {
            println!(
                "  machine still busy ({:.0}% of a core) after {max:?}; measuring anyway",
                share * 100.0
            );
            return Some(share);
        }
        if !said {
            println!(
                "  waiting for a quiet machine ({:.0}% of a core busy)",
                share * 100.0
            );
            said = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_counts_user_system_and_interrupts_but_not_idle() {
        let stat = "cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\n";
        assert_eq!(busy_jiffies(stat), Some(100 + 5 + 50 + 3 + 2 + 1));
        assert_eq!(busy_jiffies("intr 1 2 3\n"), None, "no cpu line");
        assert_eq!(
            busy_jiffies("cpu  1 x 3 4\n"),
            None,
            "a field that is not a number"
        );
    }

    #[test]
    fn proc_fields_are_read_by_name() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(
            field(cpuinfo, "model name").as_deref(),
            Some("AMD EPYC 7B13")
        );
        assert_eq!(
            field("MemTotal:       24562808 kB\n", "MemTotal").as_deref(),
            Some("24562808 kB")
        );
        assert_eq!(field("", "MemTotal"), None);
    }
}
