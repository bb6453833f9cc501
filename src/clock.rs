//! The server's clock as seen from the browser.
//!
//! Admission deadlines are server timestamps. A shopper's computer clock can be minutes off,
//! so the widget measures the offset between the server's `serverTime` and the local clock
//! when a message carrying it arrives, and counts down against the corrected time. Network
//! delay makes the estimate late by one trip, a few hundred milliseconds at most, which is
//! fine for a countdown shown in seconds.

/// Milliseconds to add to the local clock to get the server's (`server - local`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClockSkew(pub f64);

/// Larger offsets than this are not a skewed clock but a server that sends something else
/// (seconds instead of milliseconds, a placeholder 0): no correction is better than one
/// that makes a countdown read hundreds of thousands of hours.
const MAX_BELIEVABLE_SKEW_MS: f64 = 24.0 * 3_600_000.0;

impl ClockSkew {
    /// The skew measured by receiving `server_time` when the local clock read `local_now`:
    /// no correction when the server sent no clock or an unbelievable one.
    pub fn measure(server_time: Option<u64>, local_now: f64) -> Self {
        let skew = server_time.map_or(0.0, |t| t as f64 - local_now);
        if skew.abs() > MAX_BELIEVABLE_SKEW_MS {
            ClockSkew(0.0)
        } else {
            ClockSkew(skew)
        }
    }

    /// The server's clock when the local clock reads `local_now`.
    pub fn server_now(self, local_now: f64) -> f64 {
        local_now + self.0
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
        assert_eq!(ClockSkew::measure(None, now), ClockSkew(0.0));
        assert_eq!(
            ClockSkew::measure(Some(0), now),
            ClockSkew(0.0),
            "a clock at 0"
        );
        assert_eq!(
            ClockSkew::measure(Some(1_796_119_230), now),
            ClockSkew(0.0),
            "seconds, not milliseconds"
        );
    }
}
