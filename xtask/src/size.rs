//! The release bundle's size: what a shopper downloads, raw, gzipped and brotli'd, against
//! the budget; and, when it is over, where the bytes are.
//!
//! The budget is a product figure (≤ 80 KiB gzip for `.wasm` + `.js`, the shopper's bundle,
//! measured on the gzip copies the server sends), and a size, not a time: CI fails above it. [`contributors`] reads the wasm that cargo
//! wrote before wasm-bindgen and wasm-opt (it still has its function names) and sums the
//! code of each crate, so a failing run says which crate to look at.

use std::collections::HashMap;
use std::path::Path;

use crate::bundle::{brotli_of, gzip_of, gzip9_of};
use crate::shell::{Error, Result};

/// The shopper bundle's budget: `.wasm` + `.js`, gzip -9, in bytes (80 KiB).
pub const GZIP_BUDGET: u64 = 80 * 1024;

/// One file's sizes.
#[derive(Debug)]
pub struct FileSize {
    /// File name within `dist/`.
    pub name: String,
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes of the gzip copy the server sends (zopfli, see `bundle::gzip_of`): the budget's.
    pub gzip: u64,
    /// Bytes after `gzip -9`, the figure of measurements before zopfli.
    pub gzip9: u64,
    /// Bytes after brotli at the best quality.
    pub brotli: u64,
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
        sizes.push(FileSize {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: bytes.len() as u64,
            gzip: gzip_of(&bytes)?.len() as u64,
            gzip9: gzip9_of(&bytes)?.len() as u64,
            brotli: brotli_of(&bytes)?.len() as u64,
        });
    }
    sizes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sizes)
}

/// Prints the sizes as a table with a total; over the budget it also prints the largest
/// crates of `unoptimized_wasm` and fails.
pub fn check(sizes: &[FileSize], unoptimized_wasm: &Path) -> Result {
    if sizes.is_empty() {
        return Err(Error("no .wasm or .js in dist/".to_owned()));
    }
    let kib = |b: u64| b as f64 / 1024.0;
    println!(
        "{:<44} {:>9} {:>9} {:>9}",
        "file", "raw KiB", "gzip KiB", "br KiB"
    );
    for s in sizes {
        println!(
            "{:<44} {:>9.1} {:>9.1} {:>9.1}",
            s.name,
            kib(s.raw),
            kib(s.gzip),
            kib(s.brotli)
        );
    }
    let raw: u64 = sizes.iter().map(|s| s.raw).sum();
    let gzip: u64 = sizes.iter().map(|s| s.gzip).sum();
    let brotli: u64 = sizes.iter().map(|s| s.brotli).sum();
    println!(
        "{:<44} {:>9.1} {:>9.1} {:>9.1}",
        "total",
        kib(raw),
        kib(gzip),
        kib(brotli)
    );
    let gzip9: u64 = sizes.iter().map(|s| s.gzip9).sum();
    println!(
        "(raw {raw} B, gzip {gzip} B as served (zopfli; gzip -9: {gzip9} B), brotli {brotli} B; \
         budget {GZIP_BUDGET} B gzip)"
    );
    if gzip <= GZIP_BUDGET {
        return Ok(());
    }
    match contributors(unoptimized_wasm) {
        Ok(crates) => {
            println!(
                "largest crates in {} (code bytes before wasm-opt):",
                unoptimized_wasm.display()
            );
            for (name, bytes) in crates.iter().take(12) {
                println!("  {name:<32} {:>8.1} KiB", kib(*bytes));
            }
        }
        Err(e) => println!("(no breakdown: {e})"),
    }
    Err(Error(format!(
        "the shopper bundle is {gzip} bytes gzipped, {} over its budget of {GZIP_BUDGET}",
        gzip - GZIP_BUDGET
    )))
}

/// Prints the operator console's bundle size: its own page, not the shopper's budget.
pub fn report_console(sizes: &[FileSize]) {
    let gzip: u64 = sizes.iter().map(|s| s.gzip).sum();
    let brotli: u64 = sizes.iter().map(|s| s.brotli).sum();
    let raw: u64 = sizes.iter().map(|s| s.raw).sum();
    println!(
        "operator console (dist/operator/, not budgeted): raw {raw} B, gzip {gzip} B as served, \
         brotli {brotli} B"
    );
}

/// Code bytes per crate of a wasm that has a `name` section, largest first.
pub fn contributors(wasm: &Path) -> Result<Vec<(String, u64)>> {
    use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

    let bytes =
        std::fs::read(wasm).map_err(|e| Error(format!("cannot read {}: {e}", wasm.display())))?;
    let parse = |e: wasmparser::BinaryReaderError| Error(format!("{}: {e}", wasm.display()));
    let mut imported = 0u32;
    let mut bodies = Vec::new();
    let mut names = HashMap::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.map_err(parse)? {
            Payload::ImportSection(imports) => {
                for import in imports {
                    if matches!(import.map_err(parse)?.ty, TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body.range().len() as u64),
            Payload::CustomSection(section) => {
                if let KnownCustom::Name(reader) = section.as_known() {
                    for name in reader {
                        if let Ok(Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                names.insert(naming.index, naming.name.to_owned());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if names.is_empty() {
        return Err(Error(format!("{} has no function names", wasm.display())));
    }
    let mut per_crate: HashMap<String, u64> = HashMap::new();
    for (i, size) in bodies.into_iter().enumerate() {
        let name = names
            .get(&(imported + i as u32))
            .map(String::as_str)
            .unwrap_or("?");
        *per_crate.entry(crate_of(name)).or_default() += size;
    }
    let mut crates: Vec<_> = per_crate.into_iter().collect();
    crates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(crates)
}

/// The crate a (mangled) function name belongs to: the first path segment of its demangled
/// form; for a blanket impl (`<T as Trait>`), the trait's crate.
fn crate_of(mangled: &str) -> String {
    let demangled = format!("{:#}", rustc_demangle::demangle(mangled));
    let path = demangled.trim_start_matches(['<', '&', '*', ' ']);
    let path = path.strip_prefix("mut ").unwrap_or(path);
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    match &path[..end] {
        "" => "(other)".to_owned(),
        // `<T as Trait>::f`, a blanket impl: the trait's crate.
        param if param.len() == 1 && param.chars().all(|c| c.is_ascii_uppercase()) => path
            .split_once(" as ")
            .map(|(_, tr)| crate_of(tr))
            .unwrap_or_else(|| "(generic)".to_owned()),
        segment => segment.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_grouped_by_their_crate() {
        assert_eq!(
            crate_of("_ZN4core3fmt9Formatter3pad17h0123456789abcdefE"),
            "core"
        );
        assert_eq!(
            crate_of("<serde_json::de::Deserializer<R> as serde::Deserializer>::deserialize_any"),
            "serde_json"
        );
        assert_eq!(
            crate_of("<T as leptos::IntoView>::into_view"),
            "leptos",
            "a blanket impl counts for the trait's crate"
        );
        assert_eq!(crate_of("__wbindgen_malloc"), "__wbindgen_malloc");
    }
}
