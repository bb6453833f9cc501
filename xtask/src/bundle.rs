//! The widget's release bundle: built by trunk into `dist/`, then precompressed.
//!
//! Next to every text asset (`.wasm`, `.js`, `.css`, `.html`) go a brotli (`.br`, quality
//! 11) and a gzip (`.gz`, level 9) copy, made once at build time rather than by the server
//! on every request; the server sends them with `Content-Encoding` to clients that accept
//! them (tower-http's `ServeDir` precompressed support). `trunk serve` compresses nothing:
//! it is for development on loopback, where bytes on the wire do not matter.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::shell::{self, Error, Result, run as run_command};

/// Extensions of the files that are precompressed.
const COMPRESSED: [&str; 4] = ["wasm", "js", "css", "html"];

/// How the release wasm is compiled beyond its `wasm-release` profile: the standard library
/// rebuilt with it (`build-std`), panics as a bare trap (`immediate-abort`: no panic message,
/// location or formatting machinery in the bundle) and no `Debug` formatting bodies.
///
/// These are unstable options of the pinned stable toolchain, opened with `RUSTC_BOOTSTRAP`
/// for this one build only (the `rust-src` component in `rust-toolchain.toml` provides the
/// standard library's sources). Why: they are the largest size lever left that the widget's
/// own code does not control (measured 2026-12-01 on the same code: gzip 81,494 → 73,818 B),
/// and a shopper on a phone pays for every byte. Debug builds (`trunk serve`, the browser
/// tests) keep the ordinary std with its panic messages, where they help.
const RELEASE_ENV: [(&str, &str); 3] = [
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none",
    ),
];

/// `trunk build --release`, then the compressed copies; returns `dist/`.
pub fn build_release() -> Result<PathBuf> {
    run_command(
        crate::trunk::command_for_trunk()?
            .args(["build", "--release"])
            .envs(RELEASE_ENV),
    )?;
    let dist = shell::root().join("dist");
    precompress(&dist)?;
    Ok(dist)
}

/// Writes `name.br` and `name.gz` next to each text asset of `dist`.
pub fn precompress(dist: &Path) -> Result {
    for entry in std::fs::read_dir(dist)
        .map_err(|e| Error(format!("cannot read {}: {e}", dist.display())))?
    {
        let path = entry?.path();
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSED.contains(&e));
        if !wanted {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        std::fs::write(with_suffix(&path, "br"), brotli_of(&bytes)?)?;
        std::fs::write(with_suffix(&path, "gz"), gzip_of(&bytes)?)?;
    }
    Ok(())
}

/// `bytes` gzipped at the best level.
pub fn gzip_of(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?)
}

/// `bytes` compressed with brotli at its best quality (11) and a 4 MiB window.
pub fn brotli_of(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_copies_sit_next_to_text_assets_only() {
        let dir = std::env::temp_dir().join(format!("xtask-dist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app-0123456789abcdef_bg.wasm"), vec![7u8; 4096]).unwrap();
        std::fs::write(dir.join("logo.png"), b"png").unwrap();
        precompress(&dir).unwrap();
        let wasm = std::fs::read(dir.join("app-0123456789abcdef_bg.wasm")).unwrap();
        let br = std::fs::read(dir.join("app-0123456789abcdef_bg.wasm.br")).unwrap();
        let gz = std::fs::read(dir.join("app-0123456789abcdef_bg.wasm.gz")).unwrap();
        assert!(
            br.len() < wasm.len() && gz.len() < wasm.len(),
            "both are smaller"
        );
        let mut unbr = Vec::new();
        brotli::BrotliDecompress(&mut br.as_slice(), &mut unbr).unwrap();
        assert_eq!(unbr, wasm, "the brotli copy decodes to the file");
        assert!(
            !dir.join("logo.png.br").exists(),
            "images are not recompressed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
