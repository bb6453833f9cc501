//! The live figures: what the line, the stock and the connections are doing now, and a
//! sparkline of admissions over the last minutes.

use leptos::prelude::*;
use livequeue_protocol::api::{HISTORY_BUCKET_SECONDS, OperatorFigures};

use crate::format::{grouped, rate};

/// Points of the sparkline for `history` (admissions per bucket, oldest first) in a box
/// `width × height`: an SVG `points` list, the highest bucket at the top. Empty history,
/// no points.
pub fn sparkline_points(history: &[u64], width: f64, height: f64) -> String {
    if history.is_empty() {
        return String::new();
    }
    let peak = history.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if history.len() > 1 {
        width / (history.len() - 1) as f64
    } else {
        0.0
    };
    history
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let x = i as f64 * step;
            let y = height - (n as f64 / peak) * (height - 2.0) - 1.0;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The buckets of a history that are complete: all but the last, which is still filling.
pub fn complete_buckets(history: &[u64]) -> &[u64] {
    &history[..history.len().saturating_sub(1)]
}

/// Admissions per minute of a bucket of `count` admissions.
pub fn per_minute(count: u64) -> f64 {
    count as f64 * 60.0 / HISTORY_BUCKET_SECONDS as f64
}

/// One figure: a label, a value, a detail line.
#[component]
fn Figure(
    /// What it counts.
    label: &'static str,
    /// The value as shown.
    value: Signal<String>,
    /// A line under the value.
    #[prop(optional, into)]
    detail: MaybeProp<String>,
) -> impl IntoView {
    view! {
        <div class="figure">
            <dt>{label}</dt>
            <dd>
                <span class="value">{move || value.get()}</span>
                <span class="detail">{move || detail.get()}</span>
            </dd>
        </div>
    }
}

/// The figures of the experience, from the operator stream.
#[component]
pub fn Figures(
    /// The latest frame, `None` until the first arrives.
    figures: Signal<Option<OperatorFigures>>,
) -> impl IntoView {
    let read = move |f: fn(&OperatorFigures) -> String| {
        Signal::derive(move || figures.with(|o| o.as_ref().map_or_else(|| "–".into(), f)))
    };
    let waiting = read(|f| grouped(f.summary.waiting));
    let admitted = read(|f| grouped(f.summary.admitted));
    let active = read(|f| format!("{} holding a turn", grouped(f.summary.active_admissions)));
    let redeemed = read(|f| grouped(f.summary.redeemed));
    let expired = read(|f| grouped(f.summary.expired));
    let stock = read(|f| grouped(f.summary.stock.available));
    let stock_total = read(|f| format!("of {} in all", grouped(f.summary.stock.total)));
    let observed = read(|f| format!("{} / min", rate(f.summary.observed_rate_per_minute)));
    let set = read(|f| format!("set to {} / min", rate(f.summary.admission_rate_per_minute)));
    let connections = read(|f| grouped(f.summary.connections));
    let by_transport = read(|f| {
        let c = f.summary.connections_by_transport;
        format!(
            "{} SSE · {} WebSocket",
            grouped(c.sse),
            grouped(c.websocket)
        )
    });
    let history = Signal::derive(move || {
        figures.with(|o| {
            o.as_ref()
                .map(|f| f.admissions_history.clone())
                .unwrap_or_default()
        })
    });
    let peak = move || history.with(|h| rate(per_minute(h.iter().copied().max().unwrap_or(0))));
    let minutes = move || history.with(|h| (h.len() as u64 * HISTORY_BUCKET_SECONDS).div_ceil(60));
    view! {
        <dl class="figures" aria-label="Live figures">
            <Figure label="Waiting" value=waiting />
            <Figure label="Admitted" value=admitted detail=active />
            <Figure label="Redeemed" value=redeemed />
            <Figure label="Expired" value=expired />
            <Figure label="Stock" value=stock detail=stock_total />
            <Figure label="Admission rate" value=observed detail=set />
            <Figure label="Connections" value=connections detail=by_transport />
        </dl>
        <figure class="sparkline">
            <svg
                viewBox="0 0 300 48"
                preserveAspectRatio="none"
                role="img"
                aria-label=move || format!(
                    "Admissions per minute over the last {} minutes, peak {}",
                    minutes(),
                    peak()
                )
            >
                <polyline points=move || history.with(|h| sparkline_points(h, 300.0, 48.0)) />
            </svg>
            <figcaption>
                {move || format!("Admissions per minute, last {} min · peak {}", minutes(), peak())}
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_bucket_touches_the_top_and_zero_the_bottom() {
        let points = sparkline_points(&[0, 5, 10], 100.0, 50.0);
        assert_eq!(points, "0.0,49.0 50.0,25.0 100.0,1.0");
    }

    #[test]
    fn no_history_draws_nothing_and_all_zero_lies_flat() {
        assert_eq!(sparkline_points(&[], 100.0, 50.0), "");
        assert_eq!(
            sparkline_points(&[0, 0], 100.0, 50.0),
            "0.0,49.0 100.0,49.0"
        );
    }

    #[test]
    fn the_filling_bucket_is_left_out() {
        assert_eq!(complete_buckets(&[3, 4, 1]), &[3, 4]);
        assert!(complete_buckets(&[]).is_empty());
    }

    #[test]
    fn a_bucket_is_read_per_minute() {
        assert_eq!(per_minute(20), 120.0);
    }
}
