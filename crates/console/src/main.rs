//! Entry point of the operator console's page: mounts [`livequeue_console::Console`].

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(livequeue_console::Console);
}
