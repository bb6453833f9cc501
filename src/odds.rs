//! The shopper's honest odds: whether the units left can reach their place in line.
//!
//! Waiting rooms usually show a place and a wait and let the shopper find out at the end that
//! everything went before their turn. The widget says it early and kindly instead, from what
//! it knows: the people ahead (the place in line minus one) and the units left. It cannot know
//! who ahead will buy, leave or let their turn expire, so it never says "no" while units are
//! left; it says how it looks. [`crate::format::odds_sentence`] words it.

/// How the units left compare with the people ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Odds {
    /// Enough for everyone ahead and the shopper, with room: nothing to say.
    Good,
    /// About as many left as people ahead: it will be close.
    Close {
        /// People ahead of the shopper.
        ahead: u64,
        /// Units left.
        left: u64,
    },
    /// More people ahead than units left: the shopper may not get one.
    MayNot {
        /// People ahead of the shopper.
        ahead: u64,
        /// Units left.
        left: u64,
    },
    /// Several times more people ahead than units left: unlikely.
    Unlikely {
        /// People ahead of the shopper.
        ahead: u64,
        /// Units left.
        left: u64,
    },
    /// Nothing is left right now (units may still come back from turns that expire).
    NoneLeft,
}

/// "Several times more": from this many people ahead per unit left, a unit is unlikely.
const UNLIKELY_PER_UNIT: u64 = 3;

/// The odds of the shopper at `position` (1 = next) while `available` of `total` units are
/// left. `None` when there is nothing honest to say: no place in line, or the stock unknown
/// (a total of 0 is a server that does not report stock).
pub fn odds(position: Option<u64>, available: u64, total: u64) -> Option<Odds> {
    let position = position.filter(|&p| p > 0)?;
    if total == 0 {
        return None;
    }
    let ahead = position - 1;
    let left = available;
    Some(if left == 0 {
        Odds::NoneLeft
    } else if ahead >= left.saturating_mul(UNLIKELY_PER_UNIT) {
        Odds::Unlikely { ahead, left }
    } else if ahead >= left {
        Odds::MayNot { ahead, left }
    } else if ahead.saturating_mul(4) >= left.saturating_mul(3) {
        // Three quarters of the units or more are spoken for by the people ahead.
        Odds::Close { ahead, left }
    } else {
        Odds::Good
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plenty_of_stock_says_nothing() {
        assert_eq!(odds(Some(10), 500, 500), Some(Odds::Good));
        assert_eq!(
            odds(Some(1), 1, 500),
            Some(Odds::Good),
            "next with one left"
        );
    }

    #[test]
    fn more_people_ahead_than_units_left_is_said_early() {
        assert_eq!(
            odds(Some(50), 38, 500),
            Some(Odds::MayNot {
                ahead: 49,
                left: 38
            })
        );
        assert_eq!(
            odds(Some(413), 38, 500),
            Some(Odds::Unlikely {
                ahead: 412,
                left: 38
            })
        );
        assert_eq!(
            odds(Some(30), 38, 500),
            Some(Odds::Close {
                ahead: 29,
                left: 38
            })
        );
    }

    #[test]
    fn the_odds_follow_the_line_and_the_stock() {
        // The line moves up faster than the stock goes: the odds get better.
        assert!(matches!(
            odds(Some(200), 38, 500),
            Some(Odds::Unlikely { .. })
        ));
        assert!(matches!(odds(Some(60), 38, 500), Some(Odds::MayNot { .. })));
        assert_eq!(odds(Some(5), 38, 500), Some(Odds::Good));
        assert_eq!(odds(Some(5), 0, 500), Some(Odds::NoneLeft));
    }

    #[test]
    fn without_a_place_or_a_known_stock_nothing_is_claimed() {
        assert_eq!(odds(None, 38, 500), None);
        assert_eq!(odds(Some(0), 38, 500), None, "position 0 is no place");
        assert_eq!(
            odds(Some(400), 0, 0),
            None,
            "a server that reports no stock"
        );
    }
}
