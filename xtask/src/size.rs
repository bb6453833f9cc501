//! The release bundle's size: what a shopper downloads, raw and gzipped.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::shell::{Error, Result};

/// The widget's budget for `.wasm` + `.js`, gzipped, in bytes (80 KiB; see the
/// `wasm-release` profile in the workspace manifest).
pub const GZIP_BUDGET: u64 = 80 * 1024;

/// One file's sizes.
#[derive(Debug)]
pub struct FileSize {
    /// File name within `dist/`.
    pub name: String,
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes after gzip at the best level, about what a server's compression sends.
    pub gzip: u64,
}

/// The `.wasm` and `.js` files of `dist`, sorted by name.
pub fn measure(dist: &Path) -> Result<Vec<FileSize>> {
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(dist)
        .map_err(|e| Error(format!("cannot read {}: {e}", dist.display())))?
    {
        let path = entry?.path();
        let wanted = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wasm" | "js")
        );
        if !wanted {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&bytes)?;
        sizes.push(FileSize {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: bytes.len() as u64,
            gzip: gz.finish()?.len() as u64,
        });
    }
    sizes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sizes)
}

/// Prints the sizes as a table with a total, and warns when the total is over the budget.
///
/// Over budget is a warning, not a failure, while the widget is above it (see the README's
/// figures); make it an error once the widget fits.
pub fn report(sizes: &[FileSize]) -> Result {
    if sizes.is_empty() {
        return Err(Error("no .wasm or .js in dist/".to_owned()));
    }
    let kib = |b: u64| b as f64 / 1024.0;
    println!("{:<48} {:>10} {:>10}", "file", "raw KiB", "gzip KiB");
    for s in sizes {
        println!("{:<48} {:>10.1} {:>10.1}", s.name, kib(s.raw), kib(s.gzip));
    }
    let raw: u64 = sizes.iter().map(|s| s.raw).sum();
    let gzip: u64 = sizes.iter().map(|s| s.gzip).sum();
    println!("{:<48} {:>10.1} {:>10.1}", "total", kib(raw), kib(gzip));
    println!("(raw bytes {raw}, gzip bytes {gzip}; budget {GZIP_BUDGET} gzip)");
    if gzip > GZIP_BUDGET {
        println!(
            "warning: the widget is {gzip} bytes gzipped, {} over its budget of {GZIP_BUDGET}",
            gzip - GZIP_BUDGET
        );
    }
    Ok(())
}
