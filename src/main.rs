//! Entry point of the widget's page: mounts [`livequeue::App`] on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(livequeue::App);
}
