//! `cargo xtask bench`: every benchmark of the project in one command, each run several
//! times on a quiet machine, and the figures written into `docs/BENCHMARKS.md` and the
//! README.
//!
//! Every benchmark program writes, with `--json PATH`, a JSON object with a top-level
//! `figures` array ([`figures`]); this reads only that array and the program's exit status.
//! The two that are not programs of their own are measured here in the same shape: the
//! bundle's bytes ([`crate::size`]) and the widget's publish → signal figures, parsed from
//! what `cargo xtask bench-widget` prints ([`widget_signal`]). A benchmark that fails, or
//! whose file does not follow the contract, is "not measured" with the reason: never a
//! made-up number, and never the end of the others.
//!
//! Each run's raw JSON and log stay in `target/bench/<UTC stamp>/` (not committed). The
//! generated text goes between `<!-- bench:begin -->` / `<!-- bench:end -->` in
//! `docs/BENCHMARKS.md` and `<!-- figures:begin -->` / `<!-- figures:end -->` in the README
//! ([`markers`]), for a full run; a `--quick` or `--only` run writes it beside the raw JSON
//! only (unless `--write-docs`), so a partial run never replaces the full tables.
//!
//! `LIVEQUEUE_BENCH_LOADGEN=PATH` runs another program in place of the load generator (and
//! builds nothing for it): to try the command against a fake producer of the contract.
//!
//! # Layout
//!
//! - [`suite`]: the benchmarks, their sizes and their runs.
//! - [`figures`]: the contract's JSON, and median and spread over the runs.
//! - [`report`]: the generated section of BENCHMARKS.md; [`headlines`]: the README's table;
//!   [`projection`]: memory and CPU for 50,000 and 1,000,000 connections from the fan-out
//!   runs.
//! - [`markers`]: replacing the text between two markers.
//! - [`machine`]: the machine, the commit, the date, waiting for quiet.
//! - [`tee`]: a command's output on the terminal and in a log.
//! - [`widget_signal`]: the figures in `bench-widget`'s output.

mod figures;
mod headlines;
mod machine;
mod markers;
mod projection;
mod report;
mod suite;
mod tee;
mod widget_signal;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use figures::Figure;
use report::{Header, Outcome};
use suite::{Bench, Kind};

use crate::shell::{self, Error, Result, command, step};

/// The markers of the generated section of `docs/BENCHMARKS.md`.
const BENCH_MARKERS: (&str, &str) = ("<!-- bench:begin -->", "<!-- bench:end -->");
/// The markers of the README's headline table.
const FIGURES_MARKERS: (&str, &str) = ("<!-- figures:begin -->", "<!-- figures:end -->");
/// How long a browser benchmark waits for a quiet machine before it measures anyway (the
/// loadgen's default too).
const QUIET_WAIT: Duration = Duration::from_secs(120);
/// The same for `--quick`.
const QUICK_QUIET_WAIT: Duration = Duration::from_secs(10);
/// A load generator to run instead of `target/release/livequeue-loadgen` (nothing is built
/// for it then): for trying this command against a fake producer of the figures contract.
const LOADGEN_ENV: &str = "LIVEQUEUE_BENCH_LOADGEN";

/// What `cargo xtask bench` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs per benchmark (the heaviest run a third as often; the bundle once).
    pub runs: usize,
    /// Only these benchmarks (names of [`suite::NAMES`]); empty for all.
    pub only: Vec<String>,
    /// Small sizes and one run, for trying the command out.
    pub quick: bool,
    /// Write the documents even for a `--quick` or `--only` run.
    pub write_docs: bool,
    /// Measure the bundle already in `dist/` instead of building it.
    pub reuse_bundle: bool,
    /// Measure nothing: write the figures again from the raw files of an earlier run in this
    /// directory (its `run.txt` says when, at which commit and how it ran), after a change
    /// to how they are reported.
    pub from_runs: Option<PathBuf>,
}

/// The facts of a run that its raw files do not hold, kept as `run.txt` beside them.
#[derive(Debug, Clone, PartialEq)]
struct RunFacts {
    date: String,
    commit: String,
    dirty: bool,
    load_average: String,
    invocation: String,
}

impl RunFacts {
    fn text(&self) -> String {
        format!(
            "date={}\ncommit={}\ndirty={}\nload_average={}\ninvocation={}\n",
            self.date, self.commit, self.dirty, self.load_average, self.invocation
        )
    }

    fn parse(text: &str) -> std::result::Result<Self, String> {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_owned)
                .ok_or_else(|| format!("run.txt has no `{name}=` line"))
        };
        Ok(Self {
            date: field("date")?,
            commit: field("commit")?,
            dirty: field("dirty")? == "true",
            load_average: field("load_average")?,
            invocation: field("invocation")?,
        })
    }
}

/// What the benchmarks need, prepared once and only when a selected benchmark needs it; a
/// failure is kept as the reason for each benchmark that needed it.
#[derive(Default)]
struct Prepared {
    /// Use `dist/` as it is.
    reuse_bundle: bool,
    setup: Option<std::result::Result<(), String>>,
    binaries: Option<std::result::Result<(), String>>,
    /// The loadgen alone (the `guide-js` benchmark starts no livequeue server).
    loadgen: Option<std::result::Result<(), String>>,
    dist: Option<std::result::Result<PathBuf, String>>,
    playwright: Option<std::result::Result<(), String>>,
}

impl Prepared {
    fn setup(&mut self) -> std::result::Result<(), String> {
        self.setup
            .get_or_insert_with(|| {
                crate::setup::run(&crate::setup::Needs::for_tests(true))
                    .map_err(|e| format!("setup failed: {e}"))
            })
            .clone()
    }

    fn binaries(&mut self) -> std::result::Result<(), String> {
        self.setup()?;
        self.binaries
            .get_or_insert_with(|| {
                step("server and loadgen: cargo build --release");
                shell::run(command("cargo").args([
                    "build",
                    "--release",
                    "-p",
                    "livequeue-server",
                    "-p",
                    "livequeue-loadgen",
                ]))
                .map_err(|e| format!("release build failed: {e}"))
            })
            .clone()
    }

    fn loadgen(&mut self) -> std::result::Result<(), String> {
        if self.binaries == Some(Ok(())) {
            return Ok(());
        }
        self.setup()?;
        self.loadgen
            .get_or_insert_with(|| {
                step("loadgen: cargo build --release");
                shell::run(command("cargo").args(["build", "--release", "-p", "livequeue-loadgen"]))
                    .map_err(|e| format!("release build failed: {e}"))
            })
            .clone()
    }

    fn dist(&mut self) -> std::result::Result<PathBuf, String> {
        self.setup()?;
        let reuse = self.reuse_bundle;
        self.dist
            .get_or_insert_with(|| {
                if reuse {
                    let dist = shell::root().join("dist");
                    let built = std::fs::read_dir(&dist).is_ok_and(|mut entries| {
                        entries.any(|e| {
                            e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "wasm"))
                        })
                    });
                    return if built {
                        println!("reusing the bundle in {}", dist.display());
                        Ok(dist)
                    } else {
                        Err(format!("--reuse-bundle: no .wasm in {}", dist.display()))
                    };
                }
                step("widget: the release bundle (dist/, precompressed)");
                crate::bundle::build_release().map_err(|e| format!("bundle build failed: {e}"))
            })
            .clone()
    }

    fn playwright(&mut self) -> std::result::Result<(), String> {
        self.playwright
            .get_or_insert_with(|| {
                crate::bench_load::playwright()
                    .map_err(|e| format!("playwright-core install failed: {e}"))
            })
            .clone()
    }
}

/// Runs the selected benchmarks and writes the figures.
pub fn run(options: &Options) -> Result {
    let plan = suite::plan(&options.only, options.quick, options.runs).map_err(Error)?;
    let started = Instant::now();
    let (dir, facts) = match &options.from_runs {
        Some(dir) => {
            let text = std::fs::read_to_string(dir.join("run.txt"))
                .map_err(|e| Error(format!("--from-runs: {}/run.txt: {e}", dir.display())))?;
            (dir.clone(), RunFacts::parse(&text).map_err(Error)?)
        }
        None => {
            let dir = shell::target_dir().join("bench").join(machine::utc_stamp());
            std::fs::create_dir_all(&dir)?;
            let commit = machine::Commit::this();
            let facts = RunFacts {
                date: machine::utc_now(),
                commit: commit.short,
                dirty: commit.dirty,
                load_average: machine::load_average(),
                invocation: invocation(options),
            };
            std::fs::write(dir.join("run.txt"), facts.text())?;
            (dir, facts)
        }
    };
    let header = Header {
        date: facts.date,
        commit: machine::Commit {
            short: facts.commit,
            dirty: facts.dirty,
        },
        machine: machine::Machine::this(),
        load_average: facts.load_average,
        invocation: facts.invocation,
        raw_dir: relative(&dir),
        quick: options.quick,
    };
    let mut prepared = Prepared {
        reuse_bundle: options.reuse_bundle,
        ..Prepared::default()
    };
    let mut outcomes = Vec::new();
    for bench in &plan {
        step(&format!(
            "bench {}: {} ({} run{})",
            bench.kind.id(),
            bench.kind.title(),
            bench.runs,
            if bench.runs == 1 { "" } else { "s" }
        ));
        let outcome = if options.from_runs.is_some() {
            read_bench(bench, options.quick, &dir.join(bench.kind.id()))
        } else {
            run_bench(
                bench,
                options.quick,
                &mut prepared,
                &dir.join(bench.kind.id()),
            )
        };
        if outcome.rows.is_empty() {
            println!("  not measured: {}", outcome.reason());
        } else {
            println!("  {} figures", outcome.rows.len());
        }
        outcomes.push(outcome);
    }

    let section = report::benchmarks_section(&header, &outcomes);
    let table = headlines::readme_table(&header, &outcomes);
    std::fs::write(dir.join("BENCHMARKS-section.md"), &section)?;
    std::fs::write(dir.join("README-figures.md"), &table)?;
    step(&format!(
        "done in {:.0} min; raw JSON, logs and the generated text in {}",
        started.elapsed().as_secs_f64() / 60.0,
        dir.display()
    ));
    let full = !options.quick && options.only.is_empty();
    if full || options.write_docs {
        let root = shell::root();
        // Both rewritten in memory first: a document without its markers leaves both as
        // they were.
        let docs = [
            (root.join("docs/BENCHMARKS.md"), BENCH_MARKERS, &section),
            (root.join("README.md"), FIGURES_MARKERS, &table),
        ];
        let mut new = Vec::new();
        for (path, markers, content) in &docs {
            new.push((path, rewritten(path, *markers, content)?));
        }
        for (path, text) in new {
            std::fs::write(path, text)?;
        }
        println!("wrote docs/BENCHMARKS.md and README.md (between their markers)");
    } else {
        println!(
            "docs/BENCHMARKS.md and README.md left as they are (a --quick or --only run; \
             --write-docs writes them)"
        );
    }
    println!("\n{table}");
    let missing: Vec<&Outcome> = outcomes.iter().filter(|o| o.rows.is_empty()).collect();
    for o in &missing {
        println!("not measured: {}: {}", o.bench.kind.id(), o.reason());
    }
    Ok(())
}

/// The file at `path` with the text between `markers` replaced by `content`.
fn rewritten(path: &Path, markers: (&str, &str), content: &str) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
    markers::replace_between(&text, markers.0, markers.1, content).map_err(|e| {
        Error(format!(
            "{}: {e}; the figures are in the run's directory",
            path.display()
        ))
    })
}

/// The command line as the report shows it.
fn invocation(options: &Options) -> String {
    let mut line = "cargo xtask bench".to_owned();
    if options.quick {
        line.push_str(" --quick");
    } else if options.runs != 3 {
        line.push_str(&format!(" --runs {}", options.runs));
    }
    if !options.only.is_empty() {
        line.push_str(&format!(" --only {}", options.only.join(",")));
    }
    if options.reuse_bundle {
        line.push_str(" --reuse-bundle");
    }
    line
}

/// `path` relative to the workspace root when it is inside it.
fn relative(path: &Path) -> String {
    let root = shell::root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A command line with the root's absolute paths made relative, for the report.
fn shown(command: &Command) -> String {
    let root = format!("{}/", shell::root().display());
    shell::describe(command).replace(&root, "")
}

/// All runs of one benchmark.
fn run_bench(bench: &Bench, quick: bool, prepared: &mut Prepared, dir: &Path) -> Outcome {
    let mut outcome = Outcome {
        bench: *bench,
        command: reproduce(bench.kind, quick),
        rows: Vec::new(),
        failures: Vec::new(),
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        outcome
            .failures
            .push(format!("cannot create {}: {e}", dir.display()));
        return outcome;
    }
    let mut measured: Vec<Vec<Figure>> = Vec::new();
    for i in 1..=bench.runs {
        println!("-- {} run {i}/{}", bench.kind.id(), bench.runs);
        let json = dir.join(format!("run-{i}.json"));
        let log = dir.join(format!("run-{i}.log"));
        let result =
            run_once(bench.kind, quick, prepared, &json, &log).and_then(|()| figures::read(&json));
        match result {
            Ok(figures) => measured.push(figures),
            Err(reason) => {
                // The report is read elsewhere: paths relative to the root, as its commands.
                let reason = reason.replace(&format!("{}/", shell::root().display()), "");
                println!("  run {i}: not measured: {reason}");
                outcome.failures.push(format!("run {i}: {reason}"));
            }
        }
    }
    outcome.rows = figures::summarize(&measured);
    outcome
}

/// A benchmark's figures from the raw files an earlier run left in `dir` (`--from-runs`); a
/// run without its file is reported as the run that failed, pointing at its log.
fn read_bench(bench: &Bench, quick: bool, dir: &Path) -> Outcome {
    let mut measured: Vec<Vec<Figure>> = Vec::new();
    let mut failures = Vec::new();
    for i in 1..=bench.runs {
        let json = dir.join(format!("run-{i}.json"));
        match figures::read(&json) {
            Ok(figures) => measured.push(figures),
            Err(reason) => failures.push(format!(
                "run {i}: {reason} (its log: {})",
                relative(&dir.join(format!("run-{i}.log")))
            )),
        }
    }
    Outcome {
        bench: *bench,
        command: reproduce(bench.kind, quick),
        rows: figures::summarize(&measured),
        failures,
    }
}

/// The command a reader runs to reproduce a benchmark, as Markdown (the ports and files of
/// a run are its own; the script benchmarks need the server `cargo xtask bench` starts).
fn reproduce(kind: Kind, quick: bool) -> String {
    let only = format!("`cargo xtask bench --only {}`", kind.name());
    match kind {
        Kind::Bundle => format!("`cargo xtask size` (or {only})"),
        Kind::WidgetSignal => format!("`cargo xtask bench-widget` (or {only})"),
        Kind::WidgetDom => format!(
            "`node bench/widget-dom.mjs BASE_URL ADMIN_TOKEN{} --json out.json` against a \
             release server with `--demo --test-controls` ({only} starts one)",
            if quick {
                " --publishes 20 --seconds 3"
            } else {
                ""
            }
        ),
        Kind::ConsoleScroll => format!(
            "`node bench/console-scroll.mjs BASE_URL OPERATOR_TOKEN --json out.json` against a \
             release server with `--demo --test-controls` ({only} starts one)"
        ),
        Kind::FirstVisit => format!(
            "`node bench/first-visit.mjs 'http://…/?experience=demo-drop&join=auto' --runs {}{} \
             --json out.json` against a release server with `--demo` (`cargo xtask bench-load` \
             runs it with 10 loads per profile; {only} as here)",
            first_visit_runs(quick),
            if quick { " --profiles loopback" } else { "" }
        ),
        Kind::GuideJs { .. } => {
            let args = kind.loadgen_args(quick).unwrap_or_default().join(" ");
            format!(
                "`cargo build --release -p livequeue-loadgen && ./target/release/livequeue-loadgen \
                 {args} --json out.json` (starts its own redis-server and \
                 `node bench/guide-js/server.js`; npm installs the script's locked dependencies \
                 into `~/.cache/livequeue/guide-js` once)"
            )
        }
        Kind::Fanout { .. }
        | Kind::CompareRedis { .. }
        | Kind::Poll { .. }
        | Kind::Storm { .. } => {
            let args = kind.loadgen_args(quick).unwrap_or_default().join(" ");
            format!(
                "`cargo build --release -p livequeue-server -p livequeue-loadgen && \
                 ./target/release/livequeue-loadgen {args} --json out.json`"
            )
        }
    }
}

/// Cold loads per network profile in one first-visit run.
fn first_visit_runs(quick: bool) -> u32 {
    if quick { 2 } else { crate::bench_load::RUNS }
}

/// One run: the benchmark's program writes its figures to `json` (or, for the two measured
/// here, this writes them); the error is why nothing was measured.
fn run_once(
    kind: Kind,
    quick: bool,
    prepared: &mut Prepared,
    json: &Path,
    log: &Path,
) -> std::result::Result<(), String> {
    let quiet = if quick { QUICK_QUIET_WAIT } else { QUIET_WAIT };
    match kind {
        Kind::Bundle => {
            let dist = prepared.dist()?;
            let sizes = crate::size::measure(&dist).map_err(|e| e.to_string())?;
            write_figures(json, &bundle_figures(&sizes))
        }
        Kind::Fanout { .. }
        | Kind::CompareRedis { .. }
        | Kind::Poll { .. }
        | Kind::Storm { .. }
        | Kind::GuideJs { .. } => {
            let loadgen = match std::env::var_os(LOADGEN_ENV) {
                Some(fake) => PathBuf::from(fake),
                None => {
                    // The guide's server is node's: it needs no livequeue server built.
                    if matches!(kind, Kind::GuideJs { .. }) {
                        prepared.loadgen()?;
                    } else {
                        prepared.binaries()?;
                    }
                    shell::target_dir().join("release/livequeue-loadgen")
                }
            };
            let mut cmd = command(&loadgen.to_string_lossy());
            // The loadgen waits for a quiet machine itself, before connecting and publishing.
            cmd.args(kind.loadgen_args(quick).unwrap_or_default())
                .arg("--json")
                .arg(json);
            tee::run(&mut cmd, log)
        }
        Kind::WidgetDom | Kind::ConsoleScroll | Kind::FirstVisit => {
            let dist = prepared.dist()?;
            prepared.binaries()?;
            prepared.playwright()?;
            let extra: &[&str] = match kind {
                // Its own page and experiences need no test controls; as `bench-load` runs it.
                Kind::FirstVisit => &[],
                _ => &["--test-controls"],
            };
            let server_log = log.with_extension("server.log");
            let (server, addr) =
                crate::bench_load::serve(&dist, extra, &server_log).map_err(|e| e.to_string())?;
            machine::wait_for_quiet(quiet);
            let base = format!("http://{addr}");
            let token = crate::bench_load::ADMIN_TOKEN;
            let mut cmd = match kind {
                Kind::FirstVisit => crate::bench_load::first_visit(
                    addr,
                    first_visit_runs(quick),
                    quick.then_some("loopback"),
                    json,
                ),
                _ => {
                    let script = match kind {
                        Kind::WidgetDom => "bench/widget-dom.mjs",
                        _ => "bench/console-scroll.mjs",
                    };
                    let mut node = command("node");
                    node.arg(shell::root().join(script))
                        .args([base.as_str(), token])
                        .arg("--json")
                        .arg(json)
                        .env(
                            "LIVEQUEUE_PLAYWRIGHT",
                            crate::bench_load::playwright_prefix(),
                        );
                    if quick && kind == Kind::WidgetDom {
                        node.args(["--publishes", "20", "--seconds", "3"]);
                    }
                    node
                }
            };
            println!("  ({})", shown(&cmd));
            let result = tee::run(&mut cmd, log);
            // Dropping the guard stops the server (SIGTERM, then SIGKILL).
            drop(server);
            result
        }
        Kind::WidgetSignal => {
            machine::wait_for_quiet(quiet);
            // `bench-widget` is this binary's own subcommand; run as a child so that its
            // output (the only place its figures are) can be read.
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find the xtask binary: {e}"))?;
            tee::run(command(&exe.to_string_lossy()).arg("bench-widget"), log)?;
            let output = std::fs::read_to_string(log).map_err(|e| e.to_string())?;
            let figures = widget_signal::parse(&output);
            if figures.is_empty() {
                return Err("no `BENCH` lines in its output".to_owned());
            }
            write_figures(json, &figures)
        }
    }
}

/// The bundle's figures: what the budget is about and what a shopper downloads.
fn bundle_figures(sizes: &[crate::size::FileSize]) -> Vec<Figure> {
    let sum = |f: fn(&crate::size::FileSize) -> u64| sizes.iter().map(f).sum::<u64>() as f64;
    let figure = |key: &str, label: &str, value: f64| Figure {
        key: key.to_owned(),
        label: label.to_owned(),
        value,
        unit: "B".to_owned(),
    };
    vec![
        figure(
            "bundle_gzip_bytes",
            "shopper bundle, wasm + JS, gzip as served (zopfli)",
            sum(|s| s.gzip),
        ),
        figure(
            "bundle_brotli_bytes",
            "shopper bundle, wasm + JS, brotli 11",
            sum(|s| s.brotli),
        ),
        figure(
            "bundle_gzip9_bytes",
            "shopper bundle, wasm + JS, gzip -9",
            sum(|s| s.gzip9),
        ),
        figure(
            "bundle_raw_bytes",
            "shopper bundle, wasm + JS, raw",
            sum(|s| s.raw),
        ),
        figure(
            "bundle_budget_bytes",
            "the budget, gzip as served",
            crate::size::GZIP_BUDGET as f64,
        ),
    ]
}

fn write_figures(json: &Path, figures: &[Figure]) -> std::result::Result<(), String> {
    std::fs::write(json, figures::to_json(figures))
        .map_err(|e| format!("cannot write {}: {e}", json.display()))
}

#[cfg(test)]
mod run_facts_tests {
    use super::RunFacts;

    #[test]
    fn a_runs_facts_are_read_back_as_written() {
        let facts = RunFacts {
            date: "2026-12-01 23:59 UTC".into(),
            commit: "168ead3".into(),
            dirty: false,
            load_average: "1.29".into(),
            invocation: "cargo xtask bench --runs 3".into(),
        };
        assert_eq!(RunFacts::parse(&facts.text()), Ok(facts));
    }

    #[test]
    fn a_missing_fact_is_named() {
        let err = RunFacts::parse("date=x\ncommit=y\n").unwrap_err();
        assert!(err.contains("dirty"), "{err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_have_their_markers_once() {
        for (file, markers) in [
            ("docs/BENCHMARKS.md", BENCH_MARKERS),
            ("README.md", FIGURES_MARKERS),
        ] {
            let text = std::fs::read_to_string(shell::root().join(file)).unwrap();
            let rewritten = markers::replace_between(&text, markers.0, markers.1, "x");
            assert!(
                rewritten.is_ok(),
                "{file}: `cargo xtask bench` could not write it: {}",
                rewritten.unwrap_err()
            );
        }
    }

    #[test]
    fn the_bundle_figures_total_the_wasm_and_the_js() {
        let file = |raw, gzip| crate::size::FileSize {
            name: String::new(),
            raw,
            gzip,
            gzip9: gzip + 10,
            brotli: gzip - 10,
        };
        let figures = bundle_figures(&[file(1000, 400), file(500, 200)]);
        let get = |key: &str| figures.iter().find(|f| f.key == key).unwrap().value;
        assert_eq!(get("bundle_gzip_bytes"), 600.0);
        assert_eq!(get("bundle_raw_bytes"), 1500.0);
        assert_eq!(get("bundle_brotli_bytes"), 580.0);
        assert_eq!(get("bundle_budget_bytes"), 81_920.0);
    }
}
