//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! # Layout
//!
//! - [`shell`]: the environment every step runs in (`PATH` with the project's tools first),
//!   running commands with an echo of each, and the error type.
//! - [`setup`]: idempotent installs of the toolchain pieces (wasm target, trunk,
//!   wasm-bindgen-cli, binaryen, Chromium, nginx); each checks before it installs.
//! - [`process`]: child processes that are stopped when their guard drops, free ports, and
//!   waiting for a server to answer.
//! - [`bundle`]: the widget's release build into `dist/`, precompressed (brotli, gzip).
//! - [`size`]: the release bundle's size against its budget, and where the bytes are.
//! - [`trunk`]: running trunk on the widget, the workspace's root package.
//! - [`browser`]: the widget's browser tests against real servers.
//! - [`e2e`]: the end-to-end tests (`crates/e2e`): the widget in shops' pages on other
//!   origins, in headless Chromium; server nodes sharing Redis behind nginx.
//! - [`nginx`]: `deploy/nginx.conf` in front of two server nodes, and the tests through it.
//! - [`nginx_prefix`]: the prefix directory such an nginx runs in (also the e2e crate's,
//!   which includes the file).
//! - [`bench_load`]: what a first and a repeat visit cost (bytes, time to first position).
//! - [`bench`]: every benchmark, several runs each, the figures into `docs/BENCHMARKS.md`
//!   and the README (`cargo xtask bench`; not part of `cargo xtask test`).
//! - [`demo`], [`dev`], [`test`]: the subcommands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod bench_load;
mod browser;
mod bundle;
mod demo;
mod dev;
mod e2e;
mod nginx;
mod nginx_prefix;
mod process;
mod setup;
mod shell;
mod size;
mod test;
mod trunk;

/// Project automation for livequeue.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Install what building the widget needs (skips what is already there).
    Setup {
        /// Also install what the tests need: Chromium and chromedriver, Firefox ESR and
        /// geckodriver, nginx.
        #[arg(long)]
        for_tests: bool,
    },
    /// Build the widget and the server for release and serve the demo drop.
    Demo {
        /// Address the server listens on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Run the demo server and `trunk serve` (with live reload) together until Ctrl-C.
    Dev,
    /// Format check, lints, native tests, browser tests against the real server, and the
    /// release bundle's size. Exits non-zero on any failure.
    Test,
    /// The release bundle (precompressed) and its size against the budget.
    Size,
    /// Only the widget's browser tests, against freshly started servers.
    BrowserTests,
    /// Only the tests through nginx: two server nodes behind `deploy/nginx.conf`.
    NginxTests,
    /// The end-to-end tests: the release bundle, then the widget in shops' pages on other
    /// origins in headless Chromium (loader, messages, fragment credentials, headers), then
    /// server nodes sharing Redis behind nginx (scale-out).
    E2e {
        /// Test the bundle already in `dist/` instead of building it first.
        #[arg(long)]
        reuse_bundle: bool,
    },
    /// The widget's benchmarks in headless Chromium: publish-to-signal latency per
    /// transport, page memory after many reconnects.
    BenchWidget,
    /// What a shopper's first and repeat visit cost in headless Chromium: bytes on the wire,
    /// and time to the first position on screen per network profile.
    BenchLoad,
    /// Every benchmark (bundle, first visit, widget, console, fan-out at 2,000, 10,000 and
    /// 19,000, Redis, polling, storm), several runs each on a quiet machine; the medians and
    /// spreads go into docs/BENCHMARKS.md and the README's figures, the raw JSON into
    /// target/bench/. Takes about an hour and a half; not part of `test`.
    Bench {
        /// Runs per benchmark (the 19,000-connection fan-out and the storm run a third as
        /// often, the bundle once).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
        runs: u16,
        /// Only these benchmarks, comma-separated: bundle, fanout, redis, poll, storm,
        /// guide-js, widget-dom, console-scroll, first-visit, widget-signal.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Small sizes and one run each, to try the command out (the docs are left alone).
        #[arg(long)]
        quick: bool,
        /// Write docs/BENCHMARKS.md and the README even for a --quick or --only run.
        #[arg(long)]
        write_docs: bool,
        /// Measure the bundle already in dist/ instead of building it first.
        #[arg(long)]
        reuse_bundle: bool,
        /// Measure nothing: write the figures again from an earlier run's directory
        /// (target/bench/STAMP, with its run.txt), with the same --runs and --only.
        #[arg(long)]
        from_runs: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Setup { for_tests } => setup::run(&setup::Needs::for_tests(for_tests)),
        Command::Demo { addr } => demo::run(&addr),
        Command::Dev => dev::run(),
        Command::Test => test::run(),
        Command::Size => {
            setup::run(&setup::Needs::for_tests(false)).and_then(|()| test::bundle_size())
        }
        Command::BrowserTests => {
            setup::run(&setup::Needs::for_tests(true)).and_then(|()| browser::run())
        }
        Command::NginxTests => {
            setup::run(&setup::Needs::for_tests(true)).and_then(|()| nginx::step_run())
        }
        Command::E2e { reuse_bundle } => {
            setup::run(&setup::Needs::for_tests(true)).and_then(|()| {
                if reuse_bundle {
                    e2e::run()
                } else {
                    e2e::run_with_bundle()
                }
            })
        }
        Command::BenchWidget => {
            setup::run(&setup::Needs::for_tests(true)).and_then(|()| browser::bench())
        }
        Command::BenchLoad => {
            setup::run(&setup::Needs::for_tests(true)).and_then(|()| bench_load::run())
        }
        Command::Bench {
            runs,
            only,
            quick,
            write_docs,
            reuse_bundle,
            from_runs,
        } => bench::run(&bench::Options {
            runs: usize::from(runs),
            only,
            quick,
            write_docs,
            reuse_bundle,
            from_runs,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nxtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}
