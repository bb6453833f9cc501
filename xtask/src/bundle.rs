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

use crate::shell::{self, Error, Result, command, run as run_command};

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
    minify_glue(&dist)?;
    precompress(&dist)?;
    Ok(dist)
}

/// Minifies wasm-bindgen's JavaScript glue with terser (trunk 0.21 minifies its own assets
/// but not this one), then puts the new file's digest into `index.html`'s `integrity`
/// attribute (Subresource Integrity: the browser refuses a script whose digest differs).
/// Measured 2026-12-01: the glue 44,709 → 20,030 B raw, 7,259 → 5,621 B gzip.
fn minify_glue(dist: &Path) -> Result {
    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index)?;
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("js") {
            continue;
        }
        let before = integrity_of(&std::fs::read(&path)?);
        run_command(
            command(&crate::setup::terser_path().to_string_lossy())
                .arg(&path)
                .args(["--module", "--compress", "--mangle", "--output"])
                .arg(&path),
        )?;
        let after = integrity_of(&std::fs::read(&path)?);
        if !html.contains(&before) {
            return Err(Error(format!(
                "index.html holds no integrity digest for {}",
                path.display()
            )));
        }
        html = html.replace(&before, &after);
    }
    std::fs::write(&index, html)?;
    Ok(())
}

/// The `sha384-…` Subresource Integrity value of `bytes`, as trunk writes it.
fn integrity_of(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
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

/// `bytes` gzipped as the server sends them: zopfli's exhaustive deflate, a valid gzip
/// stream any browser reads, about 5 % smaller than `gzip -9` for the widget's wasm (measured
/// 2026-12-01: 79,417 → 74,916 B). It is made once per build, so its slowness (about a
/// second for the bundle) costs nothing at serving time.
pub fn gzip_of(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut out,
    )?;
    Ok(out)
}

/// `bytes` gzipped with `gzip -9` (flate2's best level): the figure of earlier size
/// measurements, printed beside the served one.
pub fn gzip9_of(bytes: &[u8]) -> Result<Vec<u8>> {
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
