//! Finds the widget's languages: every `locales/<lang>.rs` becomes a module of
//! `crate::i18n` and an entry of its `LANGUAGES`, English first (the fallback). Adding a
//! language is adding a file; nothing else lists them.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("locales");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut languages: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let stem = path.file_stem()?.to_str()?.to_owned();
            (path.extension()? == "rs").then_some((stem.replace('-', "_").to_lowercase(), path))
        })
        .collect();
    // English first: it is the fallback, `LANGUAGES[0]`.
    languages.sort_by_key(|(name, _)| (name != "en", name.clone()));
    assert!(
        languages.first().is_some_and(|(name, _)| name == "en"),
        "locales/en.rs is the fallback language and must exist"
    );
    let mut out = String::new();
    for (name, path) in &languages {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "#[path = {:?}]\nmod {name};",
            path.display().to_string()
        )
        .expect("to a String");
    }
    out.push_str("/// Every language there is a catalog for, English first.\npub static LANGUAGES: &[&Catalog] = &[");
    for (name, _) in &languages {
        write!(out, "&{name}::CATALOG, ").expect("to a String");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("languages.rs");
    std::fs::write(&target, out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}
