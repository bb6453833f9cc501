//! Timers, animation frames and event listeners as guards: dropping one cancels it and frees
//! its JS closure.
//!
//! The gloo crates already own their closures and cancel on drop (`gloo-timers`'
//! `callback::{Timeout, Interval}`, `gloo-render`'s `AnimationFrame`, `gloo-events`'
//! `EventListener`); these wrappers only add a [`Tracked`] guard, so the live-resource count
//! of [`crate::resources`] (which the leak tests check) is what is alive. Leptos'
//! `set_timeout_with_handle` is not used: it frees a closure only when it runs, so a timeout
//! cleared before firing would leak it.
//!
//! Measured on the release bundle (2026-12-01, `trunk build --release`, gzip -9): these
//! gloo-based guards cost 445 bytes more than the hand-written ones they replaced (162 in the
//! wasm, 283 in the JS glue: gloo binds `setTimeout` and friends itself). Kept: one
//! well-tested implementation of closure ownership is worth that much.
//!
//! Each guard boxes its callback before handing it to gloo: gloo and wasm-bindgen then build
//! their closure glue once per guard kind instead of once per caller's closure type
//! (measured 2026-12-01: raw 243528 → 242441 B, gzip 91614 → 91105 B).

use std::time::Duration;

use crate::resources::{Kind, Tracked};

/// A browser delay in milliseconds (the browser's timers take 32-bit delays).
fn delay_ms(delay: Duration) -> u32 {
    u32::try_from(delay.as_millis()).unwrap_or(u32::MAX)
}

/// A pending `setTimeout`; dropping it cancels it.
#[derive(Debug)]
pub struct Timeout {
    _timeout: gloo_timers::callback::Timeout,
    _tracked: Tracked,
}

impl Timeout {
    /// Runs `f` once after `delay`.
    pub fn new(delay: Duration, f: impl FnOnce() + 'static) -> Self {
        Self::boxed(delay, Box::new(f))
    }

    // One instantiation of gloo's and wasm-bindgen's closure glue for every caller's closure
    // type (see the module doc).
    fn boxed(delay: Duration, f: Box<dyn FnOnce()>) -> Self {
        Self {
            _timeout: gloo_timers::callback::Timeout::new(delay_ms(delay), f),
            _tracked: Tracked::new(Kind::Timer),
        }
    }
}

/// A running `setInterval`; dropping it stops it.
#[derive(Debug)]
pub struct Interval {
    _interval: gloo_timers::callback::Interval,
    _tracked: Tracked,
}

impl Interval {
    /// Runs `f` every `period`.
    pub fn new(period: Duration, f: impl FnMut() + 'static) -> Self {
        Self::boxed(period, Box::new(f))
    }

    fn boxed(period: Duration, f: Box<dyn FnMut()>) -> Self {
        Self {
            _interval: gloo_timers::callback::Interval::new(delay_ms(period), f),
            _tracked: Tracked::new(Kind::Timer),
        }
    }
}

/// A requested animation frame; dropping it cancels the request.
#[derive(Debug)]
pub struct Frame {
    _frame: gloo_render::AnimationFrame,
    _tracked: Tracked,
}

impl Frame {
    /// Runs `f` before the next repaint.
    pub fn new(f: impl FnOnce() + 'static) -> Self {
        Self::boxed(Box::new(f))
    }

    fn boxed(f: Box<dyn FnOnce()>) -> Self {
        Self {
            _frame: gloo_render::request_animation_frame(move |_| f()),
            _tracked: Tracked::new(Kind::Frame),
        }
    }
}

/// An event listener on a target, removed when dropped.
#[derive(Debug)]
pub struct Listener {
    _listener: gloo_events::EventListener,
    _tracked: Tracked,
}

impl Listener {
    /// Listens for `name` on `target`.
    pub fn new(
        target: &web_sys::EventTarget,
        name: &'static str,
        f: impl FnMut(&web_sys::Event) + 'static,
    ) -> Self {
        Self::boxed(target, name, Box::new(f))
    }

    fn boxed(
        target: &web_sys::EventTarget,
        name: &'static str,
        f: Box<dyn FnMut(&web_sys::Event)>,
    ) -> Self {
        Self {
            _listener: gloo_events::EventListener::new(target, name, f),
            _tracked: Tracked::new(Kind::Listener),
        }
    }
}
