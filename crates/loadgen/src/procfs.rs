//! The server's memory and CPU time, read from `/proc/<pid>`.
//!
//! Memory comes from `smaps_rollup` (resident, proportional and anonymous sizes summed over
//! every mapping), falling back to `status` (`VmRSS`, `RssAnon`) on kernels without it.
//! Kernel socket buffers are not part of any of these: they are charged to the kernel, not
//! to the process.

use std::path::PathBuf;

use crate::{Error, Result};

/// Clock ticks per second of the `utime`/`stime` fields in `/proc/<pid>/stat`. This is
/// `USER_HZ`, which the kernel fixes at 100 for user space on every architecture Linux
/// runs this on, whatever the kernel's own `HZ`.
pub const CLOCK_TICKS_PER_SEC: u64 = 100;

/// A process's memory, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Memory {
    /// Resident set size.
    pub rss: u64,
    /// Proportional set size (shared pages divided among their users); equals `rss` for a
    /// process that shares little, like the server.
    pub pss: u64,
    /// Resident anonymous memory: the heap and stacks, where per-connection state lives.
    pub anon: u64,
}

/// CPU time of a process (all its threads), in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cpu {
    /// In user space.
    pub user_us: u64,
    /// In the kernel on the process's behalf (socket writes; on loopback this includes
    /// much of the receiving side's TCP processing too).
    pub system_us: u64,
}

impl Cpu {
    /// User plus system.
    pub fn total_us(&self) -> u64 {
        self.user_us + self.system_us
    }

    /// The time consumed since `earlier`.
    pub fn since(&self, earlier: &Cpu) -> Cpu {
        Cpu {
            user_us: self.user_us.saturating_sub(earlier.user_us),
            system_us: self.system_us.saturating_sub(earlier.system_us),
        }
    }
}

/// `Add`, field by field, for readings of several processes taken together (the nodes of
/// a Redis phase).
macro_rules! add_by_field {
    ($ty:ident { $($field:ident),+ }) => {
        impl std::ops::Add for $ty {
            type Output = $ty;

            fn add(self, other: $ty) -> $ty {
                $ty { $($field: self.$field + other.$field),+ }
            }
        }
    };
}

add_by_field!(Memory { rss, pss, anon });
add_by_field!(Cpu { user_us, system_us });

/// Which process to read: a pid, or ourselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proc {
    /// This process.
    Myself,
    /// Another process.
    Pid(u32),
}

impl Proc {
    fn path(self, file: &str) -> PathBuf {
        match self {
            Proc::Myself => PathBuf::from(format!("/proc/self/{file}")),
            Proc::Pid(pid) => PathBuf::from(format!("/proc/{pid}/{file}")),
        }
    }

    fn read(self, file: &str) -> Result<String> {
        let path = self.path(file);
        std::fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))
    }

    /// The process's memory now.
    pub fn memory(self) -> Result<Memory> {
        match self.read("smaps_rollup") {
            Ok(text) => parse_smaps_rollup(&text),
            Err(_) => parse_status(&self.read("status")?),
        }
    }

    /// Resident set size from `status` (`VmRSS`), bytes: cheaper to read than
    /// `smaps_rollup`, for sampling every 100 ms.
    pub fn vm_rss(self) -> Result<u64> {
        parse_status(&self.read("status")?).map(|m| m.rss)
    }

    /// CPU time consumed so far (10 ms resolution).
    pub fn cpu(self) -> Result<Cpu> {
        let (user, system) = parse_stat_cpu_ticks(&self.read("stat")?)?;
        let micros = |ticks: u64| ticks * 1_000_000 / CLOCK_TICKS_PER_SEC;
        Ok(Cpu {
            user_us: micros(user),
            system_us: micros(system),
        })
    }
}

/// `read(proc)`, or `None` after saying why on stderr: a figure missing from the report
/// is better than a run lost to it.
pub fn reported<T>(proc: Proc, what: &str, read: fn(Proc) -> Result<T>) -> Option<T> {
    read(proc).map_err(|e| eprintln!("  {what}: {e}")).ok()
}

/// The value in kB of the line `key:   N kB`, in bytes.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let kb = rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
        Some(kb * 1024)
    })
}

/// CPU time the whole machine spent busy (every state but idle and iowait, summed over all
/// CPUs) since boot, in microseconds, from `/proc/stat`. Compared with the server's and our
/// own, it shows how much other processes took during a measurement.
pub fn machine_busy_us() -> Result<u64> {
    let path = "/proc/stat";
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(format!("reading {path}"), e))?;
    parse_machine_busy_ticks(&text).map(|ticks| ticks * 1_000_000 / CLOCK_TICKS_PER_SEC)
}

/// Busy ticks from the `cpu` line of `/proc/stat`: user, nice, system, irq, softirq and steal
/// (fields 1–3 and 6–8; 4 is idle, 5 iowait, and guest time is already inside user).
pub fn parse_machine_busy_ticks(text: &str) -> Result<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(|| Error::Setup("/proc/stat has no `cpu` line".into()))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    Ok([0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum())
}

/// Parses `/proc/<pid>/smaps_rollup`.
pub fn parse_smaps_rollup(text: &str) -> Result<Memory> {
    let missing = |key: &str| Error::Setup(format!("smaps_rollup has no `{key}` line"));
    Ok(Memory {
        rss: kb_field(text, "Rss").ok_or_else(|| missing("Rss"))?,
        pss: kb_field(text, "Pss").ok_or_else(|| missing("Pss"))?,
        anon: kb_field(text, "Anonymous").ok_or_else(|| missing("Anonymous"))?,
    })
}

/// Parses `/proc/<pid>/status` (no `Pss` there: it is reported as the RSS).
pub fn parse_status(text: &str) -> Result<Memory> {
    let rss =
        kb_field(text, "VmRSS").ok_or_else(|| Error::Setup("status has no `VmRSS` line".into()))?;
    Ok(Memory {
        rss,
        pss: rss,
        anon: kb_field(text, "RssAnon").unwrap_or(0),
    })
}

/// `(utime, stime)` in clock ticks from `/proc/<pid>/stat`. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
pub fn parse_stat_cpu_ticks(text: &str) -> Result<(u64, u64)> {
    let bad = || Error::Setup(format!("cannot read utime/stime from stat: {text:.80}"));
    let (_, after_comm) = text.rsplit_once(')').ok_or_else(bad)?;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // After the name, field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Ok((field(11).ok_or_else(bad)?, field(12).ok_or_else(bad)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaps_rollup_sizes_are_read_in_bytes() {
        let text = "55d0-7ffd [rollup]\nRss:               13844 kB\nPss:               12573 kB\n\
                    Pss_Anon:           9000 kB\nAnonymous:          9420 kB\nSwap: 0 kB\n";
        let m = parse_smaps_rollup(text).expect("a well-formed rollup parses");
        assert_eq!(
            m,
            Memory {
                rss: 13844 * 1024,
                pss: 12573 * 1024,
                anon: 9420 * 1024
            },
            "Pss_Anon must not be taken for Pss, nor Anonymous missed"
        );
    }

    #[test]
    fn machine_busy_time_leaves_out_idle_and_iowait() {
        let text = "cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\n";
        assert_eq!(parse_machine_busy_ticks(text).expect("stat parses"), 161);
    }

    #[test]
    fn status_falls_back_to_vmrss() {
        let text = "Name:\tlivequeue\nVmRSS:\t    2048 kB\nRssAnon:\t    1024 kB\n";
        let m = parse_status(text).expect("status parses");
        assert_eq!(
            (m.rss, m.pss, m.anon),
            (2048 * 1024, 2048 * 1024, 1024 * 1024)
        );
    }

    #[test]
    fn cpu_ticks_are_counted_after_a_name_with_spaces_and_parentheses() {
        let text = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    150 37 0 0 20 0 3 0 12345 0 0";
        assert_eq!(
            parse_stat_cpu_ticks(text).expect("stat parses"),
            (150, 37),
            "utime and stime"
        );
    }
}
