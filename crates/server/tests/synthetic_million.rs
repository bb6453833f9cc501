//! A line of a million synthetic shoppers: made in one request, lean in memory, and
//! listed at any offset. Alone in its file (one test, one process), so the growth of the
//! process's memory is this line's.
//!
//! `cargo test -p livequeue-server --test synthetic_million -- --nocapture` prints the time
//! and memory figures.

mod common;

use std::time::Instant;

use common::TestServer;
use livequeue_protocol::api::{EntriesPage, ExperienceSummary};

/// The process's resident memory, in bytes (`VmRSS` of `/proc/self/status`).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kb * 1024
}

const MILLION: u64 = 1_000_000;

#[tokio::test]
async fn a_million_synthetic_shoppers_join_at_once_in_under_200_bytes_each_and_any_page_is_served()
{
    let s = TestServer::with_config(common::controls()).await;
    s.experience("drop", 10).await;
    let before = rss();
    let started = Instant::now();
    let r = s.synthetic("drop", MILLION).await;
    let took = started.elapsed();
    assert_eq!(r.status(), 200, "a million synthetic joins were refused");
    let summary: ExperienceSummary = r.json().await.unwrap();
    assert_eq!(summary.waiting, MILLION);
    let grown = rss().saturating_sub(before);
    let per_entry = grown / MILLION;
    println!(
        "1,000,000 synthetic joins: {took:?} for the request; resident memory +{} MiB \
         ({per_entry} B a shopper)",
        grown / (1024 * 1024)
    );
    assert!(
        per_entry < 200,
        "a synthetic shopper costs {per_entry} B of memory (more than 200)"
    );

    let started = Instant::now();
    let page: EntriesPage = s
        .get_json("/api/experiences/drop/entries?offset=999000&limit=1000")
        .await;
    println!("the page at 999,000: {:?}", started.elapsed());
    assert_eq!(page.total, MILLION);
    let positions: Vec<u64> = page.entries.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        (999_001..=MILLION).collect::<Vec<_>>(),
        "the page at 999,000 holds the wrong places"
    );
}
