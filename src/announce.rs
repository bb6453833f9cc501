//! When the place in line is read out to screen-reader users.
//!
//! A live region that speaks on every update would talk over everything else the shopper does
//! (the line may move every second). The widget announces the place when it first knows it,
//! whenever it crosses a threshold (100th, 50th, 20th, 10th, 5th and each of the last three),
//! and otherwise at most every 30 seconds, only if it changed. Pure: the page keeps one
//! [`Announcer`] and writes what it returns into its polite live region.

/// Places that are announced as soon as they are reached.
const THRESHOLDS: [u64; 8] = [100, 50, 20, 10, 5, 3, 2, 1];
/// The shortest time between two ordinary announcements.
pub const EVERY_MS: f64 = 30_000.0;

/// What was last announced, and when.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Announcer {
    /// The place last announced and when (local ms).
    last: Option<(u64, f64)>,
}

impl Announcer {
    /// The place to announce now, if any, for the shopper at `position` at `now_ms`.
    pub fn next(&mut self, position: u64, now_ms: f64) -> Option<u64> {
        let due = match self.last {
            None => true,
            Some((last, _)) if last == position => false,
            Some((last, at)) => {
                let crossed = THRESHOLDS
                    .iter()
                    .any(|&t| position <= t && last > t || position == t);
                crossed || now_ms - at >= EVERY_MS
            }
        };
        if due {
            self.last = Some((position, now_ms));
            Some(position)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_place_is_announced_then_not_every_update() {
        let mut a = Announcer::default();
        assert_eq!(a.next(812, 0.0), Some(812));
        assert_eq!(a.next(811, 1000.0), None);
        assert_eq!(a.next(790, 29_000.0), None, "not before 30 s");
        assert_eq!(a.next(780, 30_000.0), Some(780));
        assert_eq!(a.next(780, 90_000.0), None, "unchanged is not repeated");
    }

    #[test]
    fn thresholds_are_announced_as_soon_as_they_are_crossed() {
        let mut a = Announcer::default();
        a.next(14, 0.0);
        assert_eq!(a.next(12, 1000.0), None);
        assert_eq!(a.next(9, 2000.0), Some(9), "crossed 10 while skipping it");
        assert_eq!(a.next(8, 3000.0), None);
        assert_eq!(a.next(5, 4000.0), Some(5));
        assert_eq!(a.next(3, 5000.0), Some(3));
        assert_eq!(a.next(2, 6000.0), Some(2));
        assert_eq!(a.next(1, 7000.0), Some(1));
    }
}
