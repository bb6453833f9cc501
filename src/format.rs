//! Words and numbers as the shopper reads them. Pure functions over plain values.

use livequeue_protocol::Stage;

use livequeue_protocol::paths::encode_component;

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

/// A count with thousands separators: `12345` → `12,345`.
pub fn grouped(n: u64) -> String {
    let digits = digits(n);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The estimated wait in the words a shopper expects: rounded, never falsely precise.
pub fn wait(seconds: Option<u64>) -> String {
    let Some(seconds) = seconds else {
        return "Calculating…".to_owned();
    };
    let mut out = String::from("About ");
    match seconds {
        0..=59 => return "Less than a minute".to_owned(),
        60..=119 => out.push_str("1 minute"),
        120..=3599 => {
            push_digits(&mut out, (seconds + 30) / 60);
            out.push_str(" minutes");
        }
        _ => {
            let hours = seconds / 3600;
            let minutes = (seconds % 3600) / 60;
            push_digits(&mut out, hours);
            match (hours, minutes) {
                (1, 0) => out.push_str(" hour"),
                (_, 0) => out.push_str(" hours"),
                (_, m) => {
                    out.push_str(" h ");
                    push_digits(&mut out, m);
                    out.push_str(" min");
                }
            }
        }
    }
    out
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
    match stage {
        Stage::Queued => "In line",
        Stage::Paused => "Paused",
        Stage::Admitted => "Your turn",
        Stage::Completed => "Completed",
        Stage::Expired => "Expired",
        Stage::SoldOut => "Sold out",
        Stage::Closed => "Closed",
    }
}

/// One sentence saying what the stage means for the shopper.
pub fn stage_sentence(stage: Stage) -> &'static str {
    match stage {
        Stage::Queued => "Keep this page open. You'll keep your place if you reload.",
        Stage::Paused => "The shop has paused the line for a moment. You keep your place.",
        Stage::Admitted => "Your item is held for you until the timer ends.",
        Stage::Completed => "You're all set: your purchase went through.",
        Stage::Expired => "Your checkout window has closed and the item went back on sale.",
        Stage::SoldOut => "Everything has been claimed. Thanks for waiting with us.",
        Stage::Closed => "This drop has ended.",
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
        assert_eq!(wait(Some(96)), "About 1 minute");
        assert_eq!(wait(Some(150)), "About 3 minutes");
        assert_eq!(wait(Some(3600)), "About 1 hour");
        assert_eq!(wait(Some(5400)), "About 1 h 30 min");
        assert_eq!(wait(Some(7200)), "About 2 hours");
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
}
