//! Entry point of the widget's page: mounts [`livequeue::App`] on `<body>`.

// talc instead of the standard dlmalloc: the same work in less code (measured on the
// release bundle: see docs/BENCHMARKS.md). `WasmGrowAndClaim` takes a new heap from wasm
// memory when it needs one instead of extending the last: a little more fragmentation,
// less code, which is the trade a page that allocates kilobytes wants.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::cell::TalcSyncCell<talc::wasm::WasmGrowAndClaim, talc::wasm::WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(talc::wasm::WasmGrowAndClaim);

fn main() {
    // Panic messages in the console while developing; release builds (`panic = "abort"`)
    // leave the hook and its formatting out to keep the download small.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(livequeue::App);
}
