//! The server's clock as seen from the browser.
//!
//! Admission deadlines are server timestamps. A shopper's computer clock can be minutes off,
//! so the widget measures the offset between the server's `serverTime` and the local clock
//! when a message carrying it is applied, and counts down against the corrected time.
//!
//! Every measurement is too small, never too large: `serverTime` is the server's clock when
//! it wrote the message, and the local clock is read later by the trip and by whatever the
//! page was busy with (a first state arrives while the page is still starting). So the
//! largest offset seen is the best ([`ClockSkew::refine`]); one taken while the page was
//! busy would make a 90 s turn read "1:31".

/// Milliseconds to add to the local clock to get the server's (`server - local`), and
/// whether any message measured it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClockSkew {
    offset_ms: f64,
    measured: bool,
}

/// Larger offsets than this are not a skewed clock but a server that sends something else
/// (seconds instead of milliseconds, a placeholder 0): no correction is better than one
/// that makes a countdown read hundreds of thousands of hours.
const MAX_BELIEVABLE_SKEW_MS: f64 = 24.0 * 3_600_000.0;

/// A measurement this much below the best one is not a slow message but a clock that moved
/// (the computer's clock was set): it replaces the best.
const CLOCK_MOVED_MS: f64 = 3_000.0;

impl ClockSkew {
    /// The skew measured by receiving `server_time` when the local clock read `local_now`:
    /// no correction when the server sent no clock or an unbelievable one.
    pub fn measure(server_time: Option<u64>, local_now: f64) -> Self {
        match server_time.map(|t| t as f64 - local_now) {
            Some(offset_ms) if offset_ms.abs() <= MAX_BELIEVABLE_SKEW_MS => Self {
                offset_ms,
                measured: true,
            },
            _ => Self::default(),
        }
    }

    /// What the page should use after `self` and the new measurement `next`: the larger
    /// offset (the message that waited least), unless `next` says the clock moved; a
    /// measurement of nothing changes nothing.
    pub fn refine(self, next: ClockSkew) -> Self {
        let better = next.offset_ms > self.offset_ms;
        let moved = self.offset_ms - next.offset_ms > CLOCK_MOVED_MS;
        if next.measured && (!self.measured || better || moved) {
            next
        } else {
            self
        }
    }

    /// Milliseconds to add to the local clock to get the server's.
    pub fn offset_ms(self) -> f64 {
        self.offset_ms
    }

    /// The offset, when a message measured it (another tab of the same browser, on the
    /// same local clock, can pass the server's clock on).
    pub fn measured(self) -> Option<f64> {
        self.measured.then_some(self.offset_ms)
    }

    /// The server's clock when the local clock reads `local_now`.
    pub fn server_now(self, local_now: f64) -> f64 {
        local_now + self.offset_ms
    }

    /// Whole milliseconds left until `deadline` (server time), never negative.
    pub fn remaining_ms(self, deadline: u64, local_now: f64) -> u64 {
        let left = deadline as f64 - self.server_now(local_now);
        if left > 0.0 { left as u64 } else { 0 }
    }
}

/// The local clock, in milliseconds since the Unix epoch.
pub fn local_now() -> f64 {
    js_sys::Date::now()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_slow_local_clock_counts_down_against_the_server_clock() {
        // The shopper's clock is 60 s behind the server.
        let skew = ClockSkew::measure(Some(1_000_000), 940_000.0);
        assert_eq!(skew.remaining_ms(1_030_000, 940_000.0), 30_000);
        assert_eq!(
            skew.remaining_ms(1_030_000, 970_000.0),
            0,
            "deadline reached"
        );
        assert_eq!(skew.remaining_ms(1_030_000, 999_000.0), 0, "never negative");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn an_unknown_or_absurd_server_clock_is_no_correction() {
        let now = 1_796_119_230_000.0;
        assert_eq!(ClockSkew::measure(None, now), ClockSkew::default());
        assert_eq!(
            ClockSkew::measure(Some(0), now),
            ClockSkew::default(),
            "a clock at 0"
        );
        assert_eq!(
            ClockSkew::measure(Some(1_796_119_230), now),
            ClockSkew::default(),
            "seconds, not milliseconds"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_least_delayed_message_sets_the_clock_unless_the_clock_moved() {
        let at = |server: u64, local: f64| ClockSkew::measure(Some(server), local);
        // A first state applied 900 ms after the server wrote it, while the page started.
        let first = ClockSkew::default().refine(at(1_000_000, 1_000_900.0));
        assert_eq!(first.offset_ms(), -900.0);
        // A heartbeat 5 ms on its way: the better estimate.
        let better = first.refine(at(1_010_000, 1_010_005.0));
        assert_eq!(better.offset_ms(), -5.0);
        // A slow one later does not undo it.
        assert_eq!(better.refine(at(1_020_000, 1_020_700.0)), better);
        // A 90 s turn written with the first message's clock reads 90 s, not 90.9.
        assert_eq!(better.remaining_ms(1_030_000 + 90_000, 1_030_005.0), 90_000);
        // The computer's clock set 10 minutes ahead: the new offset stands at once.
        let moved = better.refine(at(1_040_000, 1_640_000.0));
        assert_eq!(moved.offset_ms(), -600_000.0);
        // A message without a clock changes nothing.
        assert_eq!(moved.refine(ClockSkew::measure(None, 2e12)), moved);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_skew_is_measured_or_none() {
        let measured = ClockSkew::measure(Some(1_000_000), 940_000.0);
        assert_eq!(measured.measured(), Some(60_000.0));
        assert_eq!(ClockSkew::default().measured(), None, "nothing measured");
    }
}
