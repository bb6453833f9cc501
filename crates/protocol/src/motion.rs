//! Animated numbers: a count that moves from its old value to its new one, as pure arithmetic.
//!
//! The widget shows the place in line moving (and the console its live figures); this module
//! says which whole number to show at each moment, so the browser side only asks it once per
//! animation frame. The rules a shopper can see:
//!
//! - **The change shows at once.** The first frame after a change already shows a number one
//!   step toward the target: rounding to the nearest would keep a step of one unchanged for
//!   the first ~170 ms of an 800 ms ease-out, so the shown value is rounded toward the target.
//! - **It ends exactly on the target**, never beyond it, and never shows a number outside the
//!   range it travels.
//! - **A new target mid-way continues from where it is**: the new tween starts at the value
//!   on screen, with no jump back.
//! - **Reduced motion jumps**: [`Tween::jump`] is at its target from the start.
//!
//! Times are milliseconds of any monotonic clock (`performance.now()` in the browser).

/// How long a move lasts, in milliseconds.
pub const DURATION_MS: f64 = 800.0;

/// The ease-out curve: fast at first, settling gently (cubic). `t` is clamped to `0..=1`.
pub fn ease_out(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    let rest = 1.0 - t;
    1.0 - rest * rest * rest
}

/// One move of a number from `from` to `to`, started at `start_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tween {
    /// Where the move started (may be between two whole numbers after a retarget).
    from: f64,
    /// Where it ends.
    to: u64,
    /// When it started.
    start_ms: f64,
    /// How long it lasts; 0 jumps.
    duration_ms: f64,
}

impl Tween {
    /// Already at `value`: nothing moves until [`Tween::retarget`].
    pub fn at(value: u64) -> Self {
        Self::jump(value)
    }

    /// At `to` at once (reduced motion, or the first value shown).
    pub fn jump(to: u64) -> Self {
        Self {
            from: to as f64,
            to,
            start_ms: 0.0,
            duration_ms: 0.0,
        }
    }

    /// The target.
    pub fn target(&self) -> u64 {
        self.to
    }

    /// A move toward `to` starting at `now_ms` from wherever this tween is then; with
    /// `reduced_motion` the number jumps. The same target again changes nothing.
    pub fn retarget(&self, to: u64, now_ms: f64, reduced_motion: bool) -> Self {
        if to == self.to {
            return *self;
        }
        if reduced_motion {
            return Self::jump(to);
        }
        Self {
            from: self.exact_at(now_ms),
            to,
            start_ms: now_ms,
            duration_ms: DURATION_MS,
        }
    }

    /// The exact (fractional) value at `now_ms`.
    fn exact_at(&self, now_ms: f64) -> f64 {
        if self.duration_ms <= 0.0 {
            return self.to as f64;
        }
        let progress = ease_out((now_ms - self.start_ms) / self.duration_ms);
        self.from + (self.to as f64 - self.from) * progress
    }

    /// The move is over at `now_ms`: no more frames are needed.
    pub fn done(&self, now_ms: f64) -> bool {
        self.duration_ms <= 0.0 || now_ms - self.start_ms >= self.duration_ms
    }

    /// The whole number to show at `now_ms`: rounded toward the target, so the first frame
    /// after a change already differs from the old number; exactly the target once done.
    pub fn shown_at(&self, now_ms: f64) -> u64 {
        if self.done(now_ms) {
            return self.to;
        }
        let exact = self.exact_at(now_ms);
        let to = self.to as f64;
        let shown = if to < self.from {
            exact.floor().max(to)
        } else {
            exact.ceil().min(to)
        };
        // `as` saturates: a negative or NaN value (impossible here) would show 0.
        shown as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values shown at 60 frames a second from `start` to past the end.
    fn frames(tween: &Tween, start: f64) -> Vec<u64> {
        (1..=60)
            .map(|i| tween.shown_at(start + f64::from(i) * 1000.0 / 60.0))
            .collect()
    }

    #[test]
    fn the_curve_starts_at_zero_ends_at_one_and_never_goes_back() {
        assert_eq!(ease_out(0.0), 0.0);
        assert_eq!(ease_out(1.0), 1.0);
        assert_eq!(ease_out(-3.0), 0.0, "clamped before the start");
        assert_eq!(ease_out(7.0), 1.0, "clamped after the end");
        let mut last = 0.0;
        for i in 0..=100 {
            let v = ease_out(f64::from(i) / 100.0);
            assert!(v >= last, "ease_out decreased at {i}");
            last = v;
        }
        assert!(
            ease_out(0.5) > 0.5,
            "an ease-out is past half way at half time"
        );
    }

    #[test]
    fn a_step_of_one_shows_in_the_very_first_frame() {
        let tween = Tween::at(5).retarget(4, 1000.0, false);
        assert_eq!(tween.shown_at(1000.0 + 1000.0 / 60.0), 4, "first frame");
        let up = Tween::at(4).retarget(5, 0.0, false);
        assert_eq!(up.shown_at(16.7), 5, "first frame, moving up");
    }

    #[test]
    fn a_long_move_starts_moving_at_once_and_ends_exactly_on_the_target() {
        let tween = Tween::at(5_000).retarget(4_812, 0.0, false);
        let shown = frames(&tween, 0.0);
        assert!(shown[0] < 5_000, "the first frame moved: {}", shown[0]);
        assert_eq!(*shown.last().unwrap(), 4_812);
        assert_eq!(tween.shown_at(DURATION_MS), 4_812, "exact at the end");
        assert!(
            shown.windows(2).all(|w| w[1] <= w[0]),
            "a move down never goes up: {shown:?}"
        );
        assert!(
            shown.iter().all(|&v| (4_812..=5_000).contains(&v)),
            "never beyond the range travelled"
        );
        assert!(tween.done(DURATION_MS) && !tween.done(DURATION_MS - 1.0));
    }

    #[test]
    fn a_new_target_mid_way_continues_from_the_number_on_screen() {
        let first = Tween::at(1_000).retarget(900, 0.0, false);
        let mid = first.shown_at(200.0);
        let second = first.retarget(850, 200.0, false);
        let next = second.shown_at(216.7);
        assert!(
            next <= mid && mid - next < 20,
            "no jump back or ahead: {mid} then {next}"
        );
        assert_eq!(second.shown_at(200.0 + DURATION_MS), 850);
        // Turning around mid-way (someone ahead rejoined the line is impossible, but an
        // operator may reset): it moves up from where it is.
        let back = first.retarget(950, 200.0, false);
        let after = back.shown_at(216.7);
        assert!(after >= mid, "moves up from {mid}, shows {after}");
    }

    #[test]
    fn reduced_motion_jumps_straight_to_the_target() {
        let tween = Tween::at(300).retarget(120, 0.0, true);
        assert_eq!(tween.shown_at(0.0), 120);
        assert!(tween.done(0.0), "no frames needed");
    }

    #[test]
    fn the_same_target_again_does_not_restart_the_move() {
        let tween = Tween::at(10).retarget(8, 0.0, false);
        assert_eq!(tween.retarget(8, 400.0, false), tween);
    }
}
