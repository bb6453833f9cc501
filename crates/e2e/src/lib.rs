//! End-to-end tests: embedding the widget in a shop's page (the real server binary, shop
//! pages served from other origins, and headless Chromium driven through chromedriver
//! (WebDriver, `fantoccini`): `tests/embedding.rs` and its neighbours), and scaling out
//! (server nodes sharing one Redis behind nginx: `tests/scale_out.rs`). `cargo xtask e2e`
//! (and `cargo xtask test`, after the release bundle) builds the server and runs them.
//!
//! # Layout
//!
//! - [`server`]: `livequeue-server --demo` started as a child process on a free port, with
//!   its access log in a file the tests read.
//! - [`cluster`]: N nodes, their Redis and nginx in front, each a process on a free port
//!   that a test can kill and start again.
//! - [`api`]: the server's HTTP API at one origin, as the tests call it.
//! - [`feed`]: one shopper's update stream, over SSE or WebSocket.
//! - [`process`]: a child process in its own group, its output in a log file.
//! - [`widget`]: scripts that read the widget's page.
//! - [`shop`]: a tiny server on another origin whose pages the tests write.
//! - [`browser`]: chromedriver and its Chromium, one per test, stopped when dropped.
//! - [`snippet`]: the copy-paste snippet, taken from `docs/EMBEDDING.md` itself.
//!
//! Nothing here is skipped quietly: a missing chromedriver, redis-server, nginx, server
//! binary or `dist/` fails the test with what to do.

pub mod api;
pub mod browser;
pub mod cluster;
pub mod feed;
pub mod process;
pub mod server;
pub mod shop;
pub mod widget;

use std::path::PathBuf;

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A loopback port that was free a moment ago (the server binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// The snippet shops paste: the first `html` block of `docs/EMBEDDING.md`.
pub mod snippet {
    use super::workspace;

    /// The queue origin the guide's snippet names.
    pub const GUIDE_ORIGIN: &str = "https://queue.example.com";
    /// The experience the guide's snippet names.
    pub const GUIDE_EXPERIENCE: &str = "spring-drop";

    /// The guide's snippet with the queue at `origin` and `experience` put in, as a shop
    /// would edit it.
    pub fn for_queue(origin: &str, experience: &str) -> String {
        let path = workspace().join("docs/EMBEDDING.md");
        let guide = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let start = guide
            .find("```html\n")
            .expect("docs/EMBEDDING.md has no ```html block")
            + "```html\n".len();
        let end = start
            + guide[start..]
                .find("\n```")
                .expect("unclosed ```html block");
        let block = &guide[start..end];
        assert!(
            block.contains(GUIDE_ORIGIN) && block.contains(GUIDE_EXPERIENCE),
            "the guide's snippet no longer names {GUIDE_ORIGIN} and {GUIDE_EXPERIENCE}:\n{block}"
        );
        block
            .replace(GUIDE_ORIGIN, origin)
            .replace(GUIDE_EXPERIENCE, experience)
    }
}
