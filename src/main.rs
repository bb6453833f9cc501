//! Entry point of the widget's page: mounts [`livequeue::App`] on `<body>`.

fn main() {
    // Panic messages in the console while developing; release builds (`panic = "abort"`)
    // leave the hook and its formatting out to keep the download small.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(livequeue::App);
}
