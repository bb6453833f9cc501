//! Words and numbers as the shopper reads them. Pure functions over plain values.

use livequeue_protocol::Stage;

use livequeue_protocol::paths::encode_component;

/// A count with thousands separators: `12345` → `12,345`.
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

/// The estimated wait in the words a shopper expects: rounded, never falsely precise.
pub fn wait(seconds: Option<u64>) -> String {
    let Some(seconds) = seconds else {
        return "Calculating…".to_owned();
    };
    match seconds {
        0..=59 => "Less than a minute".to_owned(),
        60..=119 => "About 1 minute".to_owned(),
        120..=3599 => format!("About {} minutes", (seconds + 30) / 60),
        _ => {
            let hours = seconds / 3600;
            let minutes = (seconds % 3600) / 60;
            match (hours, minutes) {
                (1, 0) => "About 1 hour".to_owned(),
                (h, 0) => format!("About {h} hours"),
                (h, m) => format!("About {h} h {m} min"),
            }
        }
    }
}

/// A countdown as `m:ss` (or `h:mm:ss` past an hour), rounding up so `0:00` means over.
pub fn countdown(ms: u64) -> String {
    let total = ms.div_ceil(1000);
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The checkout link: the shop's URL with the grant appended as the `grant` query parameter.
pub fn checkout_href(checkout_url: &str, grant: &str) -> String {
    let (base, fragment) = match checkout_url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (checkout_url, None),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut href = format!("{base}{separator}grant={}", encode_component(grant));
    if let Some(fragment) = fragment {
        href.push('#');
        href.push_str(fragment);
    }
    href
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
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn countdowns_round_up_and_show_hours_only_when_needed() {
        assert_eq!(countdown(0), "0:00");
        assert_eq!(countdown(1), "0:01");
        assert_eq!(countdown(299_500), "5:00");
        assert_eq!(countdown(3_723_000), "1:02:03");
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
