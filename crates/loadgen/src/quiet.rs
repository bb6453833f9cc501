//! Waiting for a quiet machine. The benchmark shares two cores with whatever else runs
//! (builds, tests); numbers taken beside a build are the build's as much as the server's.

use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::procfs::machine_busy_us;

/// Busy share of one core under which the machine counts as quiet (our own idle server and
/// loadgen use next to nothing).
const QUIET_SHARE: f64 = 0.2;

/// Waits until the machine's busy time over two seconds is under [`QUIET_SHARE`] of a core,
/// or `max` has passed (then says so and goes on).
pub async fn wait_for_quiet(max: Duration) {
    if max.is_zero() {
        return;
    }
    let began = Instant::now();
    let mut said = false;
    loop {
        let Ok(before) = machine_busy_us() else {
            return;
        };
        let window = Instant::now();
        sleep(Duration::from_secs(2)).await;
        let Ok(after) = machine_busy_us() else {
            return;
        };
        let share =
            after.saturating_sub(before) as f64 / window.elapsed().as_micros().max(1) as f64;
        if share < QUIET_SHARE {
            return;
        }
        if began.elapsed() >= max {
            eprintln!(
                "  machine still busy ({:.0}% of a core) after {max:?}; measuring anyway",
                share * 100.0
            );
            return;
        }
        if !said {
            eprintln!(
                "  waiting for a quiet machine ({:.0}% of a core busy)",
                share * 100.0
            );
            said = true;
        }
    }
}
