//! What many connections would need, from the fan-out runs at a few sizes.
//!
//! Memory: the server's resident memory grown by N connections is `per_conn(N) × N`; a
//! straight line through those totals against N (least squares) has as slope what one more
//! connection costs, without the fixed part (the intercept) that the per-connection figure
//! at a small N carries. Projected process memory for N connections is `slope × N`. The
//! kernel's socket buffers are not in the process's RSS: about 3.9 KB per idle loopback
//! socket on this machine kind (`shared/TOOLCHAIN.md`), listed apart.
//!
//! CPU: CPU per delivery measured at each N, fitted by a line against N, read at the
//! connections one node holds: a node that grows slower per delivery with N shows it. A line
//! that falls with N (fixed costs spread over more deliveries, or noise: the kernel counts
//! CPU in 10 ms ticks) is held at its value at the largest N measured rather than followed
//! down towards zero.

/// Kernel memory of one idle loopback TCP socket on this machine kind, KB (measured, see
/// `shared/TOOLCHAIN.md`); outside the process's RSS.
pub const KERNEL_KB_PER_SOCKET: f64 = 3.9;

/// A line `y = slope × x + intercept`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Rise per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
}

impl Line {
    /// y at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.slope * x + self.intercept
    }
}

/// The least-squares line through `points`; `None` with fewer than two distinct x.
pub fn fit(points: &[(f64, f64)]) -> Option<Line> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    Some(Line {
        slope,
        intercept: mean_y - slope * mean_x,
    })
}

/// One transport's measurements at several connection counts.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// `(connections, server RSS per connection in KB)`.
    pub rss_per_conn_kb: Vec<(f64, f64)>,
    /// `(connections, server CPU per delivery in µs)`, user + system.
    pub cpu_per_delivery_us: Vec<(f64, f64)>,
    /// `(connections, server user-space CPU per delivery in µs)`.
    pub user_cpu_per_delivery_us: Vec<(f64, f64)>,
}

/// The fitted model of one transport.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    /// Total RSS growth (KB) against connections: the slope is KB per connection.
    pub memory: Line,
    /// CPU per delivery (µs) against connections, when measured at two sizes or more.
    pub cpu: Option<Line>,
    /// User-space CPU per delivery (µs) against connections.
    pub user_cpu: Option<Line>,
    /// The largest connection count measured (beyond it the model extrapolates).
    pub measured_up_to: f64,
}

impl Model {
    /// The model from `measured`; `None` without memory figures at two sizes.
    pub fn fit(measured: &Measured) -> Option<Self> {
        let totals: Vec<(f64, f64)> = measured
            .rss_per_conn_kb
            .iter()
            .map(|&(n, per)| (n, per * n))
            .collect();
        Some(Self {
            memory: fit(&totals)?,
            cpu: fit(&measured.cpu_per_delivery_us),
            user_cpu: fit(&measured.user_cpu_per_delivery_us),
            measured_up_to: measured
                .rss_per_conn_kb
                .iter()
                .map(|p| p.0)
                .fold(0.0, f64::max),
        })
    }

    /// What `connections` spread evenly over `nodes` need per node.
    pub fn project(&self, connections: u64, nodes: u64) -> Projection {
        let per_node = connections.div_ceil(nodes.max(1));
        let n = per_node as f64;
        let up_to = self.measured_up_to;
        // A falling line is not followed past the measurements; and no work is free.
        let cpu_at = |line: Option<Line>| {
            line.map(|l| {
                let x = if l.slope < 0.0 { n.min(up_to) } else { n };
                l.at(x).max(0.0)
            })
        };
        let cpu_us = cpu_at(self.cpu);
        // A part is never more than the whole: two lines fitted apart can cross once
        // extrapolated (user space rising with N while the total is held).
        let user_us = match (cpu_at(self.user_cpu), cpu_us) {
            (Some(user), Some(all)) => Some(user.min(all)),
            (user, _) => user,
        };
        Projection {
            connections,
            nodes,
            per_node,
            // A negative slope (noise at small sizes) would promise memory back.
            process_kb: self.memory.slope.max(0.0) * n,
            kernel_kb: KERNEL_KB_PER_SOCKET * n,
            cpu_per_delivery_us: cpu_us,
            cpu_per_update_ms: cpu_us.map(|us| us * n / 1000.0),
            user_cpu_per_update_ms: user_us.map(|us| us * n / 1000.0),
            extrapolated: n > self.measured_up_to,
        }
    }
}

/// What one node needs in a projection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Connections in all.
    pub connections: u64,
    /// Nodes they are spread over.
    pub nodes: u64,
    /// Connections per node (rounded up).
    pub per_node: u64,
    /// The server process's memory for them: slope × connections per node, KB.
    pub process_kb: f64,
    /// The kernel's socket memory for them, KB (not in the process).
    pub kernel_kb: f64,
    /// CPU per delivery at that many connections, µs.
    pub cpu_per_delivery_us: Option<f64>,
    /// CPU time to deliver one update to every connection of the node, ms.
    pub cpu_per_update_ms: Option<f64>,
    /// The user-space part of that, ms.
    pub user_cpu_per_update_ms: Option<f64>,
    /// Whether the node holds more connections than any run measured.
    pub extrapolated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * a.abs().max(1.0)
    }

    #[test]
    fn a_line_through_exact_points_is_found() {
        let line = fit(&[(1.0, 5.0), (2.0, 7.0), (4.0, 11.0)]).unwrap();
        assert!(
            close(line.slope, 2.0) && close(line.intercept, 3.0),
            "{line:?}"
        );
    }

    #[test]
    fn fewer_than_two_distinct_sizes_give_no_line() {
        assert!(fit(&[]).is_none());
        assert!(fit(&[(10.0, 1.0)]).is_none());
        assert!(
            fit(&[(10.0, 1.0), (10.0, 2.0)]).is_none(),
            "no slope from one x"
        );
    }

    #[test]
    fn memory_is_projected_from_the_slope_of_the_totals_not_the_per_connection_figure() {
        // 1,000 KB of fixed cost plus 5 KB per connection: per connection 5.5 KB at 2,000,
        // 5.1 KB at 10,000; the slope is 5 KB.
        let measured = Measured {
            rss_per_conn_kb: vec![(2000.0, 5.5), (10000.0, 5.1), (20000.0, 5.05)],
            cpu_per_delivery_us: vec![(2000.0, 10.0), (10000.0, 12.0)],
            user_cpu_per_delivery_us: vec![(2000.0, 3.0), (10000.0, 3.0)],
        };
        let model = Model::fit(&measured).unwrap();
        assert!(close(model.memory.slope, 5.0), "{:?}", model.memory);
        let p = model.project(1_000_000, 10);
        assert_eq!(p.per_node, 100_000);
        assert!(close(p.process_kb, 500_000.0), "slope × connections: {p:?}");
        assert!(
            close(p.kernel_kb, 390_000.0),
            "3.9 KB per socket apart: {p:?}"
        );
        // CPU per delivery: 10 + (N - 2000) / 4000 µs, 34.5 µs at 100,000.
        assert!(close(p.cpu_per_delivery_us.unwrap(), 34.5), "{p:?}");
        assert!(close(p.cpu_per_update_ms.unwrap(), 3450.0), "{p:?}");
        assert!(close(p.user_cpu_per_update_ms.unwrap(), 300.0), "{p:?}");
        assert!(
            p.extrapolated,
            "100,000 per node is past the 20,000 measured"
        );
        assert!(
            !model.project(50_000, 3).extrapolated,
            "16,667 per node was measured"
        );
    }

    #[test]
    fn connections_spread_over_nodes_round_up() {
        let measured = Measured {
            rss_per_conn_kb: vec![(1.0, 1.0), (2.0, 1.0)],
            ..Measured::default()
        };
        let p = Model::fit(&measured).unwrap().project(50_000, 3);
        assert_eq!(p.per_node, 16_667);
        assert_eq!(
            p.cpu_per_update_ms, None,
            "no CPU figures, no CPU projection"
        );
    }

    #[test]
    fn a_falling_cpu_line_is_held_at_the_largest_size_measured() {
        let measured = Measured {
            rss_per_conn_kb: vec![(1000.0, 1.0), (2000.0, 1.0)],
            cpu_per_delivery_us: vec![(1000.0, 10.0), (2000.0, 5.0)],
            ..Measured::default()
        };
        let model = Model::fit(&measured).unwrap();
        let p = model.project(1_000_000, 1);
        assert!(
            close(p.cpu_per_delivery_us.unwrap(), 5.0),
            "held at 2,000: {p:?}"
        );
        let inside = model.project(1_500, 1);
        assert!(
            close(inside.cpu_per_delivery_us.unwrap(), 7.5),
            "followed inside: {inside:?}"
        );
    }

    #[test]
    fn the_user_space_part_is_never_more_than_the_whole() {
        let measured = Measured {
            rss_per_conn_kb: vec![(1000.0, 1.0), (2000.0, 1.0)],
            cpu_per_delivery_us: vec![(1000.0, 10.0), (2000.0, 9.0)],
            user_cpu_per_delivery_us: vec![(1000.0, 3.0), (2000.0, 4.0)],
        };
        let model = Model::fit(&measured).unwrap();
        let p = model.project(1_000_000, 1);
        assert!(
            p.user_cpu_per_update_ms.unwrap() <= p.cpu_per_update_ms.unwrap(),
            "{p:?}"
        );
    }
}
