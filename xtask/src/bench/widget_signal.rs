//! The figures of `cargo xtask bench-widget`, read from what it prints: `tests/bench.rs` runs
//! in Chromium through wasm-bindgen-test and can write no file, so its `console_log!` lines
//! (`BENCH publish->signal ws: n=60 median=5.0 ms p99=6.0 ms`, `BENCH after 10 reconnects:
//! JS heap 2900 KB, wasm memory 1200 KB, live: 1 conn, 7 listeners, 2 timers, 0 frames`)
//! are parsed into figures. A line that does not parse is skipped; no line at all makes
//! the run not measured.

use super::figures::Figure;

fn figure(key: String, label: String, value: f64, unit: &str) -> Figure {
    Figure {
        key,
        label,
        value,
        unit: unit.to_owned(),
    }
}

/// The number after `name=` in `text` (`median=5.0`).
fn after<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(name)? + name.len();
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|s| !s.is_empty())
}

fn number(text: &str, name: &str) -> Option<f64> {
    after(text, name)?.parse().ok()
}

/// The number just before `unit` (`7 listeners` → 7).
fn before(text: &str, unit: &str) -> Option<f64> {
    let end = text.find(unit)?;
    text[..end]
        .trim_end()
        .rsplit([' ', ',', ':'])
        .next()?
        .parse()
        .ok()
}

/// Every figure in `output`.
pub fn parse(output: &str) -> Vec<Figure> {
    let mut figures = Vec::new();
    for line in output.lines() {
        let Some(at) = line.find("BENCH ") else {
            continue;
        };
        let line = &line[at + "BENCH ".len()..];
        if let Some(rest) = line.strip_prefix("publish->signal ") {
            let Some((kind, rest)) = rest.split_once(':') else {
                continue;
            };
            let kind: String = kind.chars().filter(char::is_ascii_alphanumeric).collect();
            for (q, name) in [("median", "median"), ("p99", "p99")] {
                if let Some(v) = number(rest, &format!("{name}=")) {
                    figures.push(figure(
                        format!("signal_{kind}_{q}_ms"),
                        format!("publish → state signal, {kind}, {q}"),
                        v,
                        "ms",
                    ));
                }
            }
        } else if let Some(rest) = line.strip_prefix("after ") {
            let Some(n) = after(rest, "") else {
                continue;
            };
            let parts = [
                ("js_heap_kb", "JS heap", "JS heap ", "KB"),
                ("wasm_memory_kb", "wasm memory", "wasm memory ", "KB"),
            ];
            for (key, label, name, unit) in parts {
                if let Some(v) = number(rest, name) {
                    figures.push(figure(
                        format!("reconnects_{n}_{key}"),
                        format!("{label} after {n} reconnects"),
                        v,
                        unit,
                    ));
                }
            }
            for (key, unit) in [
                ("sockets", " conn"),
                ("listeners", " listeners"),
                ("timers", " timers"),
            ] {
                if let Some(v) = before(rest, unit) {
                    figures.push(figure(
                        format!("reconnects_{n}_live_{key}"),
                        format!("live {key} after {n} reconnects"),
                        v,
                        "",
                    ));
                }
            }
        }
    }
    figures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_bench_lines_become_figures() {
        let output = "running 1 test\n\
            BENCH publish->signal ws: n=60 median=5.0 ms p99=6.2 ms\n\
            noise\n\
            \u{20}   BENCH publish->signal poll: n=10 median=1812.3 ms p99=1990.0 ms\n\
            BENCH after 1000 reconnects: JS heap 2400 KB, wasm memory 1216 KB, live: 1 conn, 7 listeners, 2 timers, 0 frames\n";
        let figures = parse(output);
        let get = |key: &str| {
            figures
                .iter()
                .find(|f| f.key == key)
                .unwrap_or_else(|| panic!("no {key} in {figures:?}"))
                .value
        };
        assert_eq!(get("signal_ws_median_ms"), 5.0);
        assert_eq!(get("signal_ws_p99_ms"), 6.2);
        assert_eq!(get("signal_poll_median_ms"), 1812.3);
        assert_eq!(get("reconnects_1000_js_heap_kb"), 2400.0);
        assert_eq!(get("reconnects_1000_wasm_memory_kb"), 1216.0);
        assert_eq!(get("reconnects_1000_live_sockets"), 1.0);
        assert_eq!(get("reconnects_1000_live_listeners"), 7.0);
        assert_eq!(get("reconnects_1000_live_timers"), 2.0);
    }

    #[test]
    fn output_without_bench_lines_gives_no_figures() {
        assert!(parse("test result: FAILED\n").is_empty());
        assert!(
            parse("BENCH publish->signal ws n=60\n").is_empty(),
            "no colon: skipped"
        );
    }
}
