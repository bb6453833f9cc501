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
    drop_stream_exports(&dist)?;
    minify_glue(&dist)?;
    minify_names(&dist)?;
    precompress(&dist)?;
    build_console(&dist)?;
    Ok(dist)
}

/// Where the operator console's bundle goes inside the widget's `dist/`: the server serves
/// it at `/operator/`. Built after the widget, whose build empties `dist/`.
pub const CONSOLE_DIR: &str = "operator";

/// `trunk build --release` of the operator console into `dist/operator/`, with compressed
/// copies. Its own bundle, outside the shopper's budget (its size is reported, not
/// budgeted); built like the widget's but without the widget's size work, and with its
/// panic messages kept (an operator's bug report needs them more than the bytes).
fn build_console(dist: &Path) -> Result {
    let out = dist.join(CONSOLE_DIR);
    run_command(crate::trunk::command_for_trunk()?.args([
        "build",
        "crates/console/index.html",
        "--release",
        "--dist",
        &out.to_string_lossy(),
        "--public-url",
        &format!("/{CONSOLE_DIR}/"),
    ]))?;
    precompress(&out)
}

/// What leptos links but the widget never runs: `wasm-streams`' JavaScript stream sources
/// and sinks (`IntoUnderlyingSource`, `…Sink`, `…ByteSource`), which leptos' `server_fn`
/// (always on in leptos 0.8) pulls in for streaming server functions, which the widget has
/// none of. wasm-bindgen exports them, so no optimizer may drop them; this removes their
/// exports from the wasm, lets wasm-opt drop the code only they reached, and removes their
/// classes from the JavaScript glue. Measured 2026-12-01: wasm 203,487 → 199,347 B raw,
/// 85,175 → 83,882 B `gzip -9`; glue −353 B gzip.
///
/// Why here and not in a dependency: leptos has no feature without `server_fn`'s browser
/// client, and binaryen's `wasm-metadce` (the tool for this) reorders the module so that it
/// gzips worse than it shrinks (measured: +550 B).
const STREAM_EXPORTS: &str = "intounderlying";
/// The glue's classes for those exports.
const STREAM_CLASSES: [&str; 3] = [
    "IntoUnderlyingByteSource",
    "IntoUnderlyingSink",
    "IntoUnderlyingSource",
];

fn drop_stream_exports(dist: &Path) -> Result {
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => {
                let wasm = std::fs::read(&path)?;
                let (stripped, dropped) = without_exports(&wasm, STREAM_EXPORTS)
                    .map_err(|e| Error(format!("{}: {e}", path.display())))?;
                if dropped == 0 {
                    continue;
                }
                std::fs::write(&path, stripped)?;
                run_command(
                    command(&crate::setup::wasm_opt_path().to_string_lossy())
                        .arg("-Oz")
                        .args(WASM_FEATURES)
                        .arg(&path)
                        .arg("-o")
                        .arg(&path),
                )?;
                integrity_follows(dist, &wasm, &std::fs::read(&path)?)?;
            }
            Some("js") => {
                let glue = std::fs::read_to_string(&path)?;
                let stripped = without_classes(&glue, &STREAM_CLASSES);
                if stripped != glue {
                    std::fs::write(&path, &stripped)?;
                    integrity_follows(dist, glue.as_bytes(), stripped.as_bytes())?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The WebAssembly features trunk's wasm-opt run enables (wasm-bindgen's output uses them).
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// `wasm` without the exports whose names contain `pattern`, and how many went: every other
/// section is copied byte for byte.
pub fn without_exports(
    wasm: &[u8],
    pattern: &str,
) -> std::result::Result<(Vec<u8>, usize), String> {
    let mut dropped = 0;
    let out = edit_names(
        wasm,
        |_| None,
        |name| {
            let drop = name.contains(pattern);
            dropped += usize::from(drop);
            drop.then_some(None)
        },
    )?;
    Ok((out, dropped))
}

/// `wasm` with its import and export names edited: `import(name)` gives an import its new
/// name (`None`: unchanged); `export(name)` gives an export `Some(Some(new))`, drops it with
/// `Some(None)`, or keeps it with `None`. Every other byte is copied as it was: binaryen
/// re-encoding the module instead gzips it worse (measured: +551 B for no change at all).
fn edit_names(
    wasm: &[u8],
    mut import: impl FnMut(&str) -> Option<String>,
    mut export: impl FnMut(&str) -> Option<Option<String>>,
) -> std::result::Result<Vec<u8>, String> {
    use wasmparser::{Parser, Payload};
    let mut out = wasm.get(..8).ok_or("not a wasm module")?.to_vec();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| e.to_string())?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let mut entries = Vec::new();
        let mut count = 0u64;
        match &payload {
            Payload::ImportSection(imports) => {
                let offsets = imports
                    .clone()
                    .into_iter_with_offsets()
                    .map(|i| i.map(|(offset, _)| offset).map_err(|e| e.to_string()))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                for (k, &offset) in offsets.iter().enumerate() {
                    let end = offsets.get(k + 1).copied().unwrap_or(range.end);
                    let entry = &wasm[offset..end];
                    // module name, field name, then the type: only the field name changes.
                    let (module_len, a) = read_leb(entry);
                    let name_at = a + module_len as usize;
                    let (name_len, b) = read_leb(&entry[name_at..]);
                    let name_end = name_at + b + name_len as usize;
                    let name = std::str::from_utf8(&entry[name_at + b..name_end])
                        .map_err(|e| e.to_string())?;
                    entries.extend_from_slice(&entry[..name_at]);
                    let new = import(name).unwrap_or_else(|| name.to_owned());
                    entries.extend(leb128(new.len() as u64));
                    entries.extend_from_slice(new.as_bytes());
                    entries.extend_from_slice(&entry[name_end..]);
                    count += 1;
                }
            }
            Payload::ExportSection(exports) => {
                for item in exports.clone().into_iter_with_offsets() {
                    let (offset, item) = item.map_err(|e| e.to_string())?;
                    let entry = &wasm[offset..offset + export_len(&wasm[offset..])];
                    let (name_len, a) = read_leb(entry);
                    let rest = &entry[a + name_len as usize..];
                    match export(item.name) {
                        Some(None) => continue,
                        Some(Some(new)) => {
                            entries.extend(leb128(new.len() as u64));
                            entries.extend_from_slice(new.as_bytes());
                            entries.extend_from_slice(rest);
                        }
                        None => entries.extend_from_slice(entry),
                    }
                    count += 1;
                }
            }
            _ => {
                // The section's id and size precede its contents.
                let start = section_start(wasm, id, range.clone());
                out.extend_from_slice(&wasm[start..range.end]);
                continue;
            }
        }
        let mut section = leb128(count);
        section.extend(entries);
        out.push(id);
        out.extend(leb128(section.len() as u64));
        out.extend(section);
    }
    Ok(out)
}

/// Names shorter than this stay (`memory`, `main`): they may be words the glue uses for
/// other things too, and shortening them saves nothing worth the doubt.
const KEEP_NAMES_UNDER: usize = 12;

/// Renames the wasm's imports and exports to one or two letters, in the wasm and in the
/// JavaScript glue alike. wasm-bindgen names every import `__wbg_<method>_<16 hex digits>`
/// and closure exports after their full Rust types (up to 330 characters); the names travel
/// twice (in the wasm and in the glue), and their hex digits do not compress. Emscripten
/// does the same (binaryen's `--minify-imports-and-exports`, whose re-encoding of the module
/// would cost more than it saves here). Measured 2026-12-01: wasm 82,376 → 79,106 B, glue
/// 5,981 → 3,728 B (gzip -9).
fn minify_names(dist: &Path) -> Result {
    let (mut wasms, mut glues) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => wasms.push(path),
            Some("js") => glues.push(path),
            _ => {}
        }
    }
    // One wasm and its one glue: with more, which glue imports which names is not known.
    let ([wasm_path], [glue_path]) = (&wasms[..], &glues[..]) else {
        return Err(Error(format!(
            "dist/ should hold one wasm and one glue to minify, not {} and {}",
            wasms.len(),
            glues.len()
        )));
    };
    let wasm = std::fs::read(wasm_path)?;
    let glue = std::fs::read_to_string(glue_path)?;
    let names = std::cell::RefCell::new(std::collections::HashMap::new());
    let rename = |name: &str| {
        if name.len() < KEEP_NAMES_UNDER {
            return None;
        }
        let mut names = names.borrow_mut();
        let next = names.len();
        Some(
            names
                .entry(name.to_owned())
                .or_insert_with(|| short_name(next))
                .clone(),
        )
    };
    let renamed = edit_names(&wasm, rename, |n| rename(n).map(Some))
        .map_err(|e| Error(format!("{}: {e}", wasm_path.display())))?;
    let new_glue = rename_identifiers(&glue, &names.borrow());
    std::fs::write(wasm_path, &renamed)?;
    std::fs::write(glue_path, &new_glue)?;
    integrity_follows(dist, &wasm, &renamed)?;
    integrity_follows(dist, glue.as_bytes(), new_glue.as_bytes())?;
    Ok(())
}

/// The `n`th short name: `a`…`Z`, then `aa`, `ba`, ….
fn short_name(mut n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = String::new();
    loop {
        out.push(char::from(LETTERS[n % LETTERS.len()]));
        n /= LETTERS.len();
        if n == 0 {
            return out;
        }
    }
}

/// `js` with every identifier that `names` maps replaced: the wasm's import and export names
/// appear in the glue only as identifiers (object keys, `wasm.name`).
fn rename_identifiers(js: &str, names: &std::collections::HashMap<String, String>) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(js.len());
    let mut rest = js;
    while let Some(start) = rest.find(is_ident) {
        out.push_str(&rest[..start]);
        let len = rest[start..]
            .find(|c| !is_ident(c))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + len];
        out.push_str(names.get(word).map_or(word, String::as_str));
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// The byte length of one export entry at the start of `bytes`: name, kind, index.
fn export_len(bytes: &[u8]) -> usize {
    let (name_len, a) = read_leb(bytes);
    let after_name = a + name_len as usize;
    let (_, b) = read_leb(&bytes[after_name + 1..]);
    after_name + 1 + b
}

/// An unsigned LEB128 at the start of `bytes` and its length.
fn read_leb(bytes: &[u8]) -> (u64, usize) {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    (value, bytes.len())
}

fn leb128(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Where the section `id` whose contents are `contents` begins: its id byte and the LEB128
/// of its size (1 to 5 bytes, possibly padded) right before.
fn section_start(wasm: &[u8], id: u8, contents: std::ops::Range<usize>) -> usize {
    (1..=5)
        .filter_map(|n| contents.start.checked_sub(n + 1))
        .find(|&start| {
            let (size, len) = read_leb(&wasm[start + 1..contents.start]);
            wasm[start] == id
                && len == contents.start - start - 1
                && size as usize == contents.len()
        })
        .unwrap_or(contents.start)
}

/// `glue` without wasm-bindgen's class `name` (`export class Name {…}` and its
/// `Symbol.dispose` line) and its `NameFinalization` registry, for each name.
pub fn without_classes(glue: &str, names: &[&str]) -> String {
    let mut out = glue.to_owned();
    for name in names {
        let class = format!("export class {name} {{");
        if let Some(start) = out.find(&class) {
            let dispose = format!("{name}.prototype.free;\n");
            if let Some(end) = out[start..].find(&dispose) {
                out.replace_range(start..start + end + dispose.len(), "");
            }
        }
        let registry = format!("const {name}Finalization = ");
        if let Some(start) = out.find(&registry)
            && let Some(end) = out[start..].find(");\n")
        {
            out.replace_range(start..start + end + 3, "");
        }
    }
    out
}

/// Puts the digest of `after` into `index.html` where trunk wrote that of `before`.
fn integrity_follows(dist: &Path, before: &[u8], after: &[u8]) -> Result {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)?;
    let (old, new) = (integrity_of(before), integrity_of(after));
    if !html.contains(&old) {
        return Err(Error(format!("index.html holds no integrity digest {old}")));
    }
    std::fs::write(&index, html.replace(&old, &new))?;
    Ok(())
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

    #[test]
    fn stream_exports_and_their_classes_are_dropped_and_nothing_else() {
        // (module (func) (export "keep" (func 0)) (export "intounderlyingsink_write" (func 0)))
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // types: () -> ()
        wasm.extend([3, 2, 1, 0]); // functions: one of type 0
        let mut exports = vec![2u8];
        for name in ["keep", "intounderlyingsink_write"] {
            exports.push(name.len() as u8);
            exports.extend(name.as_bytes());
            exports.extend([0, 0]); // a function, index 0
        }
        wasm.push(7);
        wasm.push(exports.len() as u8);
        wasm.extend(exports);
        wasm.extend([10, 4, 1, 2, 0, 0x0b]); // code: one empty body
        let (out, dropped) = without_exports(&wasm, STREAM_EXPORTS).unwrap();
        assert_eq!(dropped, 1);
        let names: Vec<String> = wasmparser::Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::ExportSection(e) => Some(
                    e.into_iter()
                        .map(|e| e.unwrap().name.to_owned())
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(names, ["keep"]);
        wasmparser::validate(&out).expect("still a valid module");

        let glue = concat!(
            "export class IntoUnderlyingSink {\n    free() {}\n}\n",
            "if (Symbol.dispose) IntoUnderlyingSink.prototype[Symbol.dispose] = IntoUnderlyingSink.prototype.free;\n",
            "export function keep() {}\n",
            "const IntoUnderlyingSinkFinalization = (typeof FinalizationRegistry === 'undefined')\n",
            "    ? { register: () => {}, unregister: () => {} }\n",
            "    : new FinalizationRegistry(ptr => wasm.__wbg_intounderlyingsink_free(ptr, 1));\n",
            "const other = 1;\n",
        );
        assert_eq!(
            without_classes(glue, &STREAM_CLASSES),
            "export function keep() {}\nconst other = 1;\n"
        );
    }
}
