//! The browser's means of electing the one tab that connects: a Web Lock ([`WebLock`]).
//! When to ask for it and give it back is the protocol's `tabs::TabMachine`.
//!
//! The machine also knows a lease in `localStorage` for browsers without Web Locks; the
//! widget does not use it. Every browser with `BroadcastChannel`, which the tabs need to
//! talk, has had Web Locks since 2022 but Firefox before 96 and Chrome before 69, and a
//! lease in storage cost the bundle about 0.7 KB gzip it does not have (measured
//! 2026-12-01): there, each tab connects on its own.
//!
//! The Web Locks API is reached through one `extern` declaration of its `request`, rather
//! than web-sys' `LockManager` (behind `web_sys_unstable_apis`) or an inline JS snippet (one
//! more file on the page's first load, outside the bundle's minifying and measuring).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue, wasm_bindgen};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks.request(name, options, granted)`: a promise settled when the lock is
    /// released (or the request withdrawn); throws without the Web Locks API.
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn request_lock(name: &str, options: &Object, granted: &Function) -> Result<Asked, JsValue>;

    /// The promise of a lock request.
    type Asked;

    /// `asked.catch(handler)`, with any function as the handler.
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &Asked, handler: &Function);
}

/// Whether the browser has the Web Locks API.
pub(super) fn has_locks() -> bool {
    web_sys::window()
        .is_some_and(|w| Reflect::has(&w.navigator(), &"locks".into()).unwrap_or(false))
}

/// A request for an exclusive Web Lock, held from its grant until dropped.
///
/// `navigator.locks.request(name, {signal}, callback)` grants the lock by calling
/// `callback`, and holds it until the promise the callback returned settles: this guard
/// keeps that promise's `resolve` and calls it when dropped. Dropped before the grant, it
/// aborts the request instead, so a frozen tab is never granted a lock it cannot use. The
/// browser releases the lock by itself when the tab closes or crashes.
pub(super) struct WebLock {
    /// Withdraws the request while it waits.
    abort: web_sys::AbortController,
    /// Resolves the promise the grant returned: releases the held lock.
    release: Rc<RefCell<Option<Function>>>,
    /// The grant callback.
    _granted: Closure<dyn FnMut() -> JsValue>,
}

impl WebLock {
    /// Asks for the lock `name`; `granted` runs once this tab holds it. `None` without the
    /// Web Locks API.
    pub(super) fn request(name: &str, granted: impl Fn() + 'static) -> Option<Self> {
        let abort = web_sys::AbortController::new().ok()?;
        let options = Object::new();
        // Setting a property of a fresh object cannot fail.
        let _ = Reflect::set(&options, &"signal".into(), &abort.signal());
        let release = Rc::new(RefCell::new(None::<Function>));
        let slot = Rc::clone(&release);
        let on_grant = Closure::<dyn FnMut() -> JsValue>::new(move || {
            granted();
            // Held until `release` resolves it.
            Promise::new(&mut |resolve, _| *slot.borrow_mut() = Some(resolve)).into()
        });
        let asked = request_lock(name, &options, on_grant.as_ref().unchecked_ref()).ok()?;
        // A withdrawn request rejects (an `AbortError`), which the console would note as
        // unhandled. Any function handles it: `Object` (the options' constructor) is one
        // that cannot throw, without a closure type of the widget's own for it.
        asked.catch_with(&options.constructor());
        Some(Self {
            abort,
            release,
            _granted: on_grant,
        })
    }
}

impl Drop for WebLock {
    fn drop(&mut self) {
        self.abort.abort();
        if let Some(resolve) = self.release.borrow_mut().take() {
            // Resolving a promise's own `resolve` cannot fail.
            let _ = resolve.call0(&JsValue::NULL);
        }
    }
}
