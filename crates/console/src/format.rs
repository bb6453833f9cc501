//! Numbers and times as the console shows them.

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate per minute, to one decimal below 10 and whole above.
pub fn rate(per_minute: f64) -> String {
    if !per_minute.is_finite() || per_minute < 0.0 {
        return "–".into();
    }
    if per_minute < 10.0 {
        format!("{per_minute:.1}")
    } else {
        grouped(per_minute.round() as u64)
    }
}

/// The time of day (UTC offset `offset_minutes` east, as `Date` reports it negated) of a
/// timestamp in milliseconds, `HH:MM:SS`.
pub fn time_of_day(ms: u64, offset_minutes: i64) -> String {
    let local = ms as i64 / 1000 + offset_minutes * 60;
    let secs = local.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// How long ago `then` was at `now` (both ms): `42 s`, `3 min`, `2 h 5 min`.
pub fn ago(then: u64, now: u64) -> String {
    let secs = now.saturating_sub(then) / 1000;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(12_345_678), "12,345,678");
    }

    #[test]
    fn rates_read_at_a_glance() {
        assert_eq!(rate(0.5), "0.5");
        assert_eq!(rate(120.0), "120");
        assert_eq!(rate(12_000.4), "12,000");
        assert_eq!(rate(f64::NAN), "–");
    }

    #[test]
    fn times_of_day_and_ages() {
        assert_eq!(time_of_day(3_723_000, 0), "01:02:03");
        assert_eq!(time_of_day(3_723_000, 60), "02:02:03");
        assert_eq!(time_of_day(0, -60), "23:00:00");
        assert_eq!(ago(0, 42_000), "42 s");
        assert_eq!(ago(0, 7_500_000), "2 h 5 min");
    }
}
