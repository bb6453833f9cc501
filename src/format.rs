//! Words and numbers as the shopper reads them. Pure functions over plain values.

use livequeue_protocol::Stage;
use livequeue_protocol::paths::encode_component;

use crate::i18n;
use crate::odds::Odds;
use crate::wait::WaitView;

// Numbers are written digit by digit here rather than with `format!`/`to_string`: every
// formatting call site links `core::fmt` argument plumbing into the bundle, and these run on
// every update of the page.

/// Appends the decimal digits of `n` to `out`.
pub fn push_digits(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &buf[i..] {
        out.push(char::from(digit));
    }
}

/// The decimal digits of `n`: `1234` → `1234`.
pub fn digits(n: u64) -> String {
    let mut out = String::new();
    push_digits(&mut out, n);
    out
}

/// Appends `n` with at least two digits: `7` → `07`.
fn push_two(out: &mut String, n: u64) {
    if n < 10 {
        out.push('0');
    }
    push_digits(out, n);
}

/// Joins `parts` into one string.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// A count with the thousands separator of the catalog in use: `12345` → `12,345`
/// (English), `12.345` (German).
pub fn grouped(n: u64) -> String {
    let separator = i18n::current().group_separator;
    let digits = digits(n);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// Minutes as a shopper reads them: exact up to 15, then to the nearest 5 (a wait of 42
/// minutes is not known to the minute).
fn round_minutes(seconds: u64) -> u64 {
    let minutes = (seconds + 30) / 60;
    if minutes <= 15 {
        minutes.max(1)
    } else {
        (minutes + 2) / 5 * 5
    }
}

/// Waits longer than this read "More than 6 hours": an estimate that far out is not a time
/// anyone can stand behind.
const LONGEST_WAIT_S: u64 = 6 * 3600;

/// A wait of `seconds` (a minute or more) without "About": `4 minutes`, `1 h 30 min`.
fn duration(seconds: u64) -> String {
    let (catalog, t) = (i18n::current(), i18n::t());
    let minutes = round_minutes(seconds);
    let (hours, rest) = (minutes / 60, minutes % 60);
    match (hours, rest) {
        (0, m) => i18n::fill(catalog.forms(t.minutes, m), &[("n", &digits(m))]),
        (h, 0) => i18n::fill(catalog.forms(t.hours, h), &[("n", &digits(h))]),
        (h, m) => i18n::fill(t.hours_minutes, &[("h", &digits(h)), ("m", &digits(m))]),
    }
}

/// The estimated wait in the words a shopper expects: rounded, never falsely precise, a range
/// while uncertain, never negative and never absurdly far.
pub fn wait_words(view: WaitView) -> String {
    let t = i18n::t();
    let (low, high) = match view {
        WaitView::Unknown => return t.wait_unknown.to_owned(),
        WaitView::About(s) => (s, s),
        WaitView::Between(low, high) => (low, high),
    };
    if high < 60 {
        return t.wait_under_minute.to_owned();
    }
    if low > LONGEST_WAIT_S {
        return t.wait_over_max.to_owned();
    }
    let high = high.min(LONGEST_WAIT_S);
    if low < 60 {
        return i18n::fill(t.wait_up_to, &[("time", &duration(high))]);
    }
    let (a, b) = (round_minutes(low), round_minutes(high));
    let time = if a == b {
        duration(low)
    } else if b < 60 {
        // "About 4–6 minutes": one unit for both ends.
        concat(&[&digits(a), "–", &duration(high)])
    } else {
        concat(&[&duration(low), " – ", &duration(high)])
    };
    i18n::fill(t.wait_about, &[("time", &time)])
}

/// The estimated wait of the server's number alone (no smoothing): what a first state shows.
pub fn wait(seconds: Option<u64>) -> String {
    wait_words(seconds.map_or(WaitView::Unknown, WaitView::About))
}

/// An ordinal in the catalog's way: `1st`, `22nd`, `1,001st` (English), `12.` (German).
pub fn ordinal(n: u64) -> String {
    let mut out = grouped(n);
    out.push_str((i18n::current().ordinal_suffix)(n));
    out
}

/// What the polite live region says when the place is announced.
pub fn announcement(position: u64) -> String {
    let t = i18n::t();
    if position == 1 {
        return t.next.to_owned();
    }
    i18n::fill(t.place_now, &[("n", &ordinal(position))])
}

/// The honest-odds sentence, or nothing when there is nothing to warn of.
pub fn odds_sentence(odds: Odds) -> Option<String> {
    let (catalog, t) = (i18n::current(), i18n::t());
    let (forms, ahead, left) = match odds {
        Odds::Good => return None,
        Odds::NoneLeft => return Some(t.odds_none_left.to_owned()),
        Odds::Close { ahead, left } => (t.odds_close, ahead, left),
        Odds::MayNot { ahead, left } => (t.odds_may_not, ahead, left),
        Odds::Unlikely { ahead, left } => (t.odds_unlikely, ahead, left),
    };
    Some(i18n::fill(
        catalog.forms(forms, ahead),
        &[("ahead", &grouped(ahead)), ("left", &grouped(left))],
    ))
}

/// How long ago the feed last heard from the server: `Updated just now`, `Updated 12 s ago`.
pub fn updated_ago(ms: f64) -> String {
    let t = i18n::t();
    let seconds = if ms > 0.0 { (ms / 1000.0) as u64 } else { 0 };
    match seconds {
        0..3 => t.updated_now.to_owned(),
        3..60 => i18n::fill(t.updated_seconds, &[("n", &digits(seconds))]),
        _ => i18n::fill(t.updated_minutes, &[("n", &digits(seconds / 60))]),
    }
}

/// A countdown as `m:ss` (or `h:mm:ss` past an hour), rounding up so `0:00` means over.
pub fn countdown(ms: u64) -> String {
    let total = ms.div_ceil(1000);
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        push_digits(&mut out, h);
        out.push(':');
        push_two(&mut out, m);
    } else {
        push_digits(&mut out, m);
    }
    out.push(':');
    push_two(&mut out, s);
    out
}

/// The checkout link: the shop's URL with the grant appended as the `grant` query parameter.
pub fn checkout_href(checkout_url: &str, grant: &str) -> String {
    let (base, fragment) = match checkout_url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (checkout_url, None),
    };
    let separator = if base.contains('?') { "&" } else { "?" };
    let mut href = concat(&[base, separator, "grant=", &encode_component(grant)]);
    if let Some(fragment) = fragment {
        href.push('#');
        href.push_str(fragment);
    }
    href
}

/// A meter's width: tenths of a percent of `total`, as CSS (`62.4%`). Integers only:
/// formatting a float would add ~10 KB of wasm.
pub fn percent(available: u64, total: u64) -> String {
    let permille = match total {
        0 => 0,
        t => available.saturating_mul(1000) / t,
    };
    let mut out = String::new();
    push_digits(&mut out, permille / 10);
    out.push('.');
    push_digits(&mut out, permille % 10);
    out.push('%');
    out
}

/// The short name of a stage, for the badge.
pub fn stage_label(stage: Stage) -> &'static str {
    let t = i18n::t();
    match stage {
        Stage::Queued => t.stage_queued,
        Stage::Paused => t.stage_paused,
        Stage::Admitted => t.stage_admitted,
        Stage::Completed => t.stage_completed,
        Stage::Expired => t.stage_expired,
        Stage::SoldOut => t.stage_sold_out,
        Stage::Closed => t.stage_closed,
    }
}

/// One sentence saying what the stage means for the shopper, and what they can do.
pub fn stage_sentence(stage: Stage) -> &'static str {
    let t = i18n::t();
    match stage {
        Stage::Queued => t.about_queued,
        Stage::Paused => t.about_paused,
        Stage::Admitted => t.about_admitted,
        Stage::Completed => t.about_completed,
        Stage::Expired => t.about_expired,
        Stage::SoldOut => t.about_sold_out,
        Stage::Closed => t.about_closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(digits(u64::MAX), u64::MAX.to_string());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn meter_widths_are_tenths_of_a_percent() {
        assert_eq!(percent(312, 500), "62.4%");
        assert_eq!(percent(0, 0), "0.0%");
        assert_eq!(percent(500, 500), "100.0%");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn waits_are_rounded_to_what_a_shopper_needs() {
        assert_eq!(wait(None), "Calculating…");
        assert_eq!(wait(Some(12)), "Less than a minute");
        assert_eq!(wait(Some(96)), "About 2 minutes");
        assert_eq!(wait(Some(150)), "About 3 minutes");
        assert_eq!(
            wait(Some(42 * 60 + 10)),
            "About 40 minutes",
            "to 5 min past 15"
        );
        assert_eq!(wait(Some(3600)), "About 1 hour");
        assert_eq!(wait(Some(5400)), "About 1 h 30 min");
        assert_eq!(wait(Some(7200)), "About 2 hours");
        assert_eq!(wait(Some(30 * 3600)), "More than 6 hours", "never absurd");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn uncertain_waits_read_as_ranges() {
        assert_eq!(wait_words(WaitView::Between(240, 360)), "About 4–6 minutes");
        assert_eq!(wait_words(WaitView::Between(20, 200)), "Up to 3 minutes");
        assert_eq!(wait_words(WaitView::Between(10, 50)), "Less than a minute");
        assert_eq!(
            wait_words(WaitView::Between(2700, 5400)),
            "About 45 minutes – 1 h 30 min"
        );
        assert_eq!(wait_words(WaitView::Between(250, 260)), "About 4 minutes");
        assert_eq!(
            wait_words(WaitView::Between(3000, 99_000)),
            "About 50 minutes – 6 hours",
            "the far end is capped"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn places_are_announced_as_ordinals() {
        assert_eq!(announcement(1), "You're next in line");
        assert_eq!(announcement(10), "You are now 10th in line");
        for (n, s) in [
            (2, "2nd"),
            (3, "3rd"),
            (11, "11th"),
            (12, "12th"),
            (21, "21st"),
            (1001, "1,001st"),
        ] {
            assert_eq!(ordinal(n), s);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_odds_are_said_kindly_and_plainly() {
        assert_eq!(odds_sentence(Odds::Good), None);
        assert_eq!(
            odds_sentence(Odds::MayNot {
                ahead: 412,
                left: 380
            })
            .unwrap(),
            "412 people ahead of you, 380 left: you may not get one."
        );
        assert!(
            odds_sentence(Odds::Unlikely { ahead: 1, left: 0 })
                .unwrap()
                .starts_with("1 person ahead of you, only 0 left: you are unlikely")
        );
        assert!(
            odds_sentence(Odds::Close {
                ahead: 30,
                left: 38
            })
            .unwrap()
            .contains("close")
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_last_update_reads_in_seconds_then_minutes() {
        assert_eq!(updated_ago(-5.0), "Updated just now");
        assert_eq!(updated_ago(12_400.0), "Updated 12 s ago");
        assert_eq!(updated_ago(125_000.0), "Updated 2 min ago");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn countdowns_round_up_and_show_hours_only_when_needed() {
        assert_eq!(countdown(0), "0:00");
        assert_eq!(countdown(1), "0:01");
        assert_eq!(countdown(299_500), "5:00");
        assert_eq!(countdown(3_723_000), "1:02:03");
        assert_eq!(countdown(600_000), "10:00");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_grant_is_appended_to_the_checkout_url_before_its_fragment() {
        assert_eq!(
            checkout_href("https://shop.example/checkout", "g_1"),
            "https://shop.example/checkout?grant=g_1"
        );
        assert_eq!(
            checkout_href("https://shop.example/c?sku=9#pay", "g+2"),
            "https://shop.example/c?sku=9&grant=g%2B2#pay"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn german_reads_german_numbers_and_plurals() {
        crate::i18n::in_language("de", || {
            assert_eq!(grouped(1_234_567), "1.234.567");
            assert_eq!(wait(Some(60)), "Etwa 1 Minute");
            assert_eq!(wait(Some(96)), "Etwa 2 Minuten");
            assert_eq!(wait(Some(3600)), "Etwa 1 Stunde");
            assert_eq!(wait(Some(5400)), "Etwa 1 Std. 30 Min.");
            assert_eq!(wait_words(WaitView::Between(240, 360)), "Etwa 4–6 Minuten");
            assert_eq!(wait_words(WaitView::Between(20, 200)), "Bis zu 3 Minuten");
            assert_eq!(announcement(1280), "Sie sind jetzt auf dem 1.280. Platz");
            assert_eq!(
                odds_sentence(Odds::MayNot { ahead: 1, left: 3 }).unwrap(),
                "1 Person vor Ihnen, noch 3 übrig: Vielleicht reicht es nicht für Sie."
            );
            assert!(
                odds_sentence(Odds::MayNot { ahead: 2, left: 3 })
                    .unwrap()
                    .starts_with("2 Personen vor Ihnen")
            );
            assert_eq!(updated_ago(12_400.0), "Vor 12 s aktualisiert");
            assert_eq!(stage_label(Stage::SoldOut), "Ausverkauft");
        });
        assert_eq!(wait(Some(96)), "About 2 minutes", "English is back");
    }
}
