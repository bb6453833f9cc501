//! Timers and animation frames that release their JS closure when dropped.
//!
//! Leptos' `set_timeout_with_handle` hands its callback to JS with `once_into_js`, which
//! frees it only when it runs: a timeout cleared before firing leaks its closure, and
//! `set_interval_with_handle` never frees its closure at all. The connection layer sets and
//! clears timers on every reconnect, so it uses these guards instead: each owns its
//! `Closure`, and dropping the guard clears the timer and frees the closure.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::resources::{Kind, Tracked};

fn delay_ms(delay: Duration) -> i32 {
    i32::try_from(delay.as_millis()).unwrap_or(i32::MAX)
}

/// A pending `setTimeout`; dropping it cancels it.
pub struct Timeout {
    handle: i32,
    _closure: Closure<dyn FnMut()>,
    _tracked: Tracked,
}

impl Timeout {
    /// Runs `f` once after `delay`. `None` outside a browser window.
    pub fn new(delay: Duration, f: impl FnOnce() + 'static) -> Option<Self> {
        let mut f = Some(f);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = f.take() {
                f();
            }
        });
        let handle = web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                delay_ms(delay),
            )
            .ok()?;
        Some(Self {
            handle,
            _closure: closure,
            _tracked: Tracked::new(Kind::Timer),
        })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_timeout_with_handle(self.handle);
        }
    }
}

/// A running `setInterval`; dropping it stops it.
pub struct Interval {
    handle: i32,
    _closure: Closure<dyn FnMut()>,
    _tracked: Tracked,
}

impl Interval {
    /// Runs `f` every `period`. `None` outside a browser window.
    pub fn new(period: Duration, f: impl FnMut() + 'static) -> Option<Self> {
        let closure = Closure::<dyn FnMut()>::new(f);
        let handle = web_sys::window()?
            .set_interval_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                delay_ms(period),
            )
            .ok()?;
        Some(Self {
            handle,
            _closure: closure,
            _tracked: Tracked::new(Kind::Timer),
        })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.handle);
        }
    }
}

/// A requested animation frame; dropping it cancels the request.
pub struct Frame {
    handle: i32,
    done: Rc<Cell<bool>>,
    _closure: Closure<dyn FnMut(f64)>,
    _tracked: Tracked,
}

impl Frame {
    /// Runs `f` before the next repaint. `None` outside a browser window.
    pub fn new(f: impl FnOnce() + 'static) -> Option<Self> {
        let mut f = Some(f);
        let done = Rc::new(Cell::new(false));
        let flag = Rc::clone(&done);
        let closure = Closure::<dyn FnMut(f64)>::new(move |_: f64| {
            flag.set(true);
            if let Some(f) = f.take() {
                f();
            }
        });
        let handle = web_sys::window()?
            .request_animation_frame(closure.as_ref().unchecked_ref())
            .ok()?;
        Some(Self {
            handle,
            done,
            _closure: closure,
            _tracked: Tracked::new(Kind::Frame),
        })
    }

    /// Whether the frame has run.
    pub fn done(&self) -> bool {
        self.done.get()
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if !self.done.get()
            && let Some(window) = web_sys::window()
        {
            let _ = window.cancel_animation_frame(self.handle);
        }
    }
}

/// An event listener on a target, removed when dropped.
pub struct Listener {
    target: web_sys::EventTarget,
    name: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
    _tracked: Tracked,
}

impl Listener {
    /// Listens for `name` on `target`.
    pub fn new(
        target: &web_sys::EventTarget,
        name: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Option<Self> {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        target
            .add_event_listener_with_callback(name, closure.as_ref().unchecked_ref())
            .ok()?;
        Some(Self {
            target: target.clone(),
            name,
            closure,
            _tracked: Tracked::new(Kind::Listener),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Removing fails only for a callback that is not a function, which this is not.
        let _ = self
            .target
            .remove_event_listener_with_callback(self.name, self.closure.as_ref().unchecked_ref());
    }
}
