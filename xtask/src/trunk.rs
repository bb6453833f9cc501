//! Running trunk on the widget, the workspace's root package.
//!
//! trunk 0.21 builds with `cargo build --manifest-path <root>/Cargo.toml --bin livequeue`;
//! with no `default-members` in the workspace, cargo finds the widget's binary there, so a
//! plain `trunk build` or `trunk serve` works too. xtask only makes sure the tools it
//! installed (trunk, wasm-bindgen, binaryen's wasm-opt) come first on `PATH`.

use std::process::Command;

use crate::shell::{self, Result, command};

/// A `trunk` command with the installed tools first on `PATH`.
pub fn command_for_trunk() -> Result<Command> {
    let mut trunk = command("trunk");
    trunk.env("PATH", shell::tool_path());
    Ok(trunk)
}
