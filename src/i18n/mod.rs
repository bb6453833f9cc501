//! The shopper's words in every language: one message catalog, one file per language.
//!
//! [`Texts`] names every message once (the `catalog!` list below); each language is a file
//! `locales/<lang>.rs` defining `pub const CATALOG: Catalog`, and the build script
//! (`build.rs`) finds the files itself, so **adding a language is adding a file**. A file
//! that forgets a message does not compile; the native tests check what the compiler cannot
//! (placeholders, plural forms, markup-safe text).
//!
//! Plurals follow the gettext shape: a language gives its number of forms and a rule from a
//! count to the form's index (CLDR's cardinal rule for whole numbers), and every
//! [`Forms`] message lists that many forms. English and German both have two (`one` for
//! exactly 1, `other` for the rest); a language with `few`/`many` gives more.
//!
//! Why not Fluent or ICU message format: their runtimes (`fluent-bundle`, `icu`) cost more
//! than the widget's whole budget (≤ 80 KB gzip); these messages need only named
//! placeholders and plural forms, which [`fill`] and [`Catalog::forms`] do in a few lines.
//!
//! The catalog in use is chosen once per page ([`choose`], then [`use_catalog`]) and read
//! with [`t`]; natively it is per thread, so tests in other languages do not disturb each
//! other.

/// A message with one form per plural category of its language, in the order of the
/// language's [`Catalog::plural`] rule: `{n}` (and any other placeholder) is filled in.
#[derive(Debug, Clone, Copy)]
pub struct Forms(pub &'static [&'static str]);

/// One language: its tag, its rules and its texts.
#[derive(Debug)]
pub struct Catalog {
    /// The BCP 47 primary language tag (`en`, `de`): `<html lang>` and what [`choose`]
    /// matches.
    pub lang: &'static str,
    /// How many forms every [`Forms`] message of this language has.
    pub plural_forms: usize,
    /// The index of the plural form for a whole count.
    pub plural: fn(u64) -> usize,
    /// What follows a place written as an ordinal: `st`/`nd`/`rd`/`th` in English, `.` in
    /// German.
    pub ordinal_suffix: fn(u64) -> &'static str,
    /// Between groups of three digits: `,` (English), `.` (German). Written here rather
    /// than asked of `Intl.NumberFormat`, whose first use costs Chromium 20–30 ms (measured
    /// 2026-12-01), which a first place on screen should not wait for.
    pub group_separator: &'static str,
    /// The messages.
    pub texts: Texts,
}

impl Catalog {
    /// The form of `forms` for the count `n`.
    pub fn forms(&self, forms: Forms, n: u64) -> &'static str {
        let i = (self.plural)(n);
        forms
            .0
            .get(i)
            .or(forms.0.last())
            .copied()
            .unwrap_or_default()
    }
}

/// Declares [`Texts`] from one list, and (for the tests) every entry by its name.
macro_rules! catalog {
    ($($(#[doc = $doc:literal])* $key:ident: $kind:ident,)*) => {
        /// Every message the shopper can read, by name. Texts are plain text (never markup);
        /// `{name}` marks a placeholder.
        #[derive(Debug)]
        pub struct Texts {
            $($(#[doc = $doc])* pub $key: catalog!(@type $kind),)*
        }

        #[cfg(test)]
        impl Texts {
            /// Every message with its name: a single text is one form.
            pub fn entries(&'static self) -> Vec<(&'static str, bool, &'static [&'static str])> {
                vec![$(catalog!(@entry self, $key, $kind)),*]
            }
        }
    };
    (@type Text) => { &'static str };
    (@type Plural) => { Forms };
    (@entry $self:ident, $key:ident, Text) => {
        (stringify!($key), false, std::slice::from_ref(&$self.$key))
    };
    (@entry $self:ident, $key:ident, Plural) => {
        (stringify!($key), true, $self.$key.0)
    };
}

catalog! {
    /// Above the title: what this page is.
    eyebrow: Text,
    /// The title while the server has not named the drop, and the card's heading.
    place_label: Text,
    /// The title after the shopper left.
    title_left: Text,
    /// The title while the shopper has no place.
    title_join: Text,
    /// The title while the queue cannot be reached.
    title_unreachable: Text,
    /// The title while joining.
    title_joining: Text,
    /// The loading line.
    loading: Text,
    /// What a screen reader reads for the place while it is not known yet.
    finding: Text,
    /// The heading of the estimated wait.
    wait_label: Text,
    /// The heading of the stock meter.
    stock_label: Text,
    /// Connection: connecting.
    status_connecting: Text,
    /// Connection: live.
    status_live: Text,
    /// Connection: reconnecting.
    status_reconnecting: Text,
    /// Connection: polling at a known pace (`{n}` seconds).
    status_polling_every: Text,
    /// Connection: polling.
    status_polling: Text,
    /// Connection: the browser is offline.
    status_offline: Text,
    /// Connection: given up.
    status_failed: Text,
    /// The button that starts over after the connection was given up.
    reconnect: Text,
    /// "Updated" line: within the last seconds.
    updated_now: Text,
    /// "Updated" line: `{n}` seconds ago.
    updated_seconds: Text,
    /// "Updated" line: `{n}` minutes ago.
    updated_minutes: Text,
    /// The join panel's sentence.
    join_sentence: Text,
    /// The join panel's sentence after the shopper left.
    join_sentence_left: Text,
    /// The Join button.
    join: Text,
    /// The Join button after the shopper left.
    join_again: Text,
    /// The button after a turn ran out.
    rejoin: Text,
    /// The place, big, when the shopper is next.
    next_short: Text,
    /// The place, in a sentence, when the shopper is next.
    next: Text,
    /// The place, in a sentence: `{n}`.
    place: Text,
    /// The place as announced when it changes: `{n}` is an ordinal (`12th`, `12.`).
    place_now: Text,
    /// Waits: not known yet.
    wait_unknown: Text,
    /// Waits: under a minute.
    wait_under_minute: Text,
    /// Waits: past the longest the widget stands behind.
    wait_over_max: Text,
    /// Waits: `{time}` is the upper end of a range starting at nothing.
    wait_up_to: Text,
    /// Waits: `{time}` is a duration or a range.
    wait_about: Text,
    /// Durations: `{n}` minutes.
    minutes: Plural,
    /// Durations: `{n}` whole hours.
    hours: Plural,
    /// Durations: `{h}` hours and `{m}` minutes.
    hours_minutes: Text,
    /// Odds: `{left}` units, `{ahead}` people ahead (plural by `{ahead}`).
    odds_close: Plural,
    /// Odds: as above, a worse chance.
    odds_may_not: Plural,
    /// Odds: as above, unlikely.
    odds_unlikely: Plural,
    /// Odds: none left.
    odds_none_left: Text,
    /// The notification offer.
    notify: Text,
    /// After notifications were allowed.
    notify_on: Text,
    /// The Leave button.
    leave: Text,
    /// The Leave button while leaving.
    leaving: Text,
    /// Stock: `{left}` of `{total}` left.
    stock_left: Text,
    /// Stock: none left.
    sold_out: Text,
    /// The turn's heading.
    turn_title: Text,
    /// Before the countdown.
    held_for: Text,
    /// The warning before the turn ends.
    hurry: Text,
    /// The offer of more time.
    extend: Text,
    /// The offer of more time while asking.
    extending: Text,
    /// Add to cart.
    add: Text,
    /// Add to cart while adding.
    adding: Text,
    /// Add to cart once something is in it.
    add_another: Text,
    /// What is in the cart: `{n}` units.
    in_cart: Text,
    /// The link to the shop's checkout.
    checkout: Text,
    /// Said at the turn, with the countdown: `{time}`.
    turn_alert_timed: Text,
    /// Said at the turn without a countdown.
    turn_alert: Text,
    /// The notification's title, and the title flashing in a background tab.
    turn_notification: Text,
    /// Stage badge: queued.
    stage_queued: Text,
    /// Stage badge: paused.
    stage_paused: Text,
    /// Stage badge: admitted.
    stage_admitted: Text,
    /// Stage badge: completed.
    stage_completed: Text,
    /// Stage badge: expired.
    stage_expired: Text,
    /// Stage badge: sold out.
    stage_sold_out: Text,
    /// Stage badge: closed.
    stage_closed: Text,
    /// Stage sentence: queued.
    about_queued: Text,
    /// Stage sentence: paused.
    about_paused: Text,
    /// Stage sentence: admitted.
    about_admitted: Text,
    /// Stage sentence: completed.
    about_completed: Text,
    /// Stage sentence: expired.
    about_expired: Text,
    /// Stage sentence: sold out.
    about_sold_out: Text,
    /// Stage sentence: closed.
    about_closed: Text,
    /// Problems: the link names no valid experience.
    problem_invalid_link: Text,
    /// Problems: the server does not offer joining.
    problem_no_join: Text,
    /// Problems: the connection was given up.
    problem_lost: Text,
    /// Problems: the server refused the shopper's credentials.
    problem_credentials: Text,
    /// Joining: no such experience.
    join_not_found: Text,
    /// Joining: the drop no longer takes a queue.
    join_closed: Text,
    /// Joining: this page's origin is refused.
    join_forbidden: Text,
    /// Joining: a passing failure, retried.
    join_transient: Text,
    /// Joining: anything else.
    join_failed: Text,
    /// Actions: the network failed.
    action_network: Text,
    /// Actions: the turn is over.
    action_gone: Text,
    /// Actions: more time was already given.
    action_extended_once: Text,
    /// Actions: nothing more can be added.
    action_cart_full: Text,
    /// Actions: leaving failed.
    action_leave_failed: Text,
    /// Actions: anything else.
    action_failed: Text,
}

// The languages, found by `build.rs` in `locales/`: `mod en; mod de; …` and `LANGUAGES`,
// English first (the fallback).
include!(concat!(env!("OUT_DIR"), "/languages.rs"));

// The catalog in use: per thread natively (tests in other languages run side by side), a
// plain index in the browser's one thread (a `thread_local!` there put its lazy-init check
// into every one of the ~40 places that read a text).
#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static CURRENT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(target_arch = "wasm32")]
static CURRENT_INDEX: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn current_index() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    return CURRENT.with(std::cell::Cell::get);
    #[cfg(target_arch = "wasm32")]
    return CURRENT_INDEX.load(std::sync::atomic::Ordering::Relaxed);
}

/// The catalog in use. Not inlined: it is read in ~100 places, and a call is smaller than
/// the lookup.
#[inline(never)]
pub fn current() -> &'static Catalog {
    LANGUAGES.get(current_index()).unwrap_or(&LANGUAGES[0])
}

/// The texts in use.
#[inline(never)]
pub fn t() -> &'static Texts {
    &current().texts
}

/// Makes `catalog` the one in use (on this thread).
pub fn use_catalog(catalog: &'static Catalog) {
    let index = LANGUAGES
        .iter()
        .position(|c| std::ptr::eq(*c, catalog))
        .unwrap_or(0);
    #[cfg(not(target_arch = "wasm32"))]
    CURRENT.with(|c| c.set(index));
    #[cfg(target_arch = "wasm32")]
    CURRENT_INDEX.store(index, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `f` with the catalog of `lang` in use, then puts the previous one back, also when
/// `f` panics: for tests in other languages.
#[cfg(test)]
pub fn in_language<R>(lang: &str, f: impl FnOnce() -> R) -> R {
    struct Restore(&'static Catalog);
    impl Drop for Restore {
        fn drop(&mut self) {
            use_catalog(self.0);
        }
    }
    let _restore = Restore(current());
    use_catalog(find(lang).expect("a language with a catalog"));
    f()
}

/// The catalog for the page: the `locale` asked for (`de`, `de-AT`, `DE_at`), else the
/// first of the browser's languages there is a catalog for, else English.
pub fn choose(requested: Option<&str>, browser: &[String]) -> &'static Catalog {
    requested
        .into_iter()
        .chain(browser.iter().map(String::as_str))
        .find_map(find)
        .unwrap_or(LANGUAGES[0])
}

/// The catalog of a language tag, by its primary subtag, case-insensitively.
pub fn find(tag: &str) -> Option<&'static Catalog> {
    let tag = tag.trim().as_bytes();
    LANGUAGES.iter().copied().find(|c| {
        let lang = c.lang.as_bytes();
        tag.len() >= lang.len()
            && tag[..lang.len()].eq_ignore_ascii_case(lang)
            && matches!(tag.get(lang.len()), None | Some(b'-' | b'_'))
    })
}

/// `template` with each `{name}` replaced by its value in `args`; an unknown placeholder
/// stays as written (the tests make sure none is).
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| Some((args.iter().find(|(k, _)| *k == &after[..close])?, close)));
        match value {
            Some(((_, value), close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders of a template, in order: `"{a} of {b}"` → `["a", "b"]`.
pub fn placeholders(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .collect()
}

#[cfg(test)]
mod tests;
