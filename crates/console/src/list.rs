//! The whole line, virtualized: a fixed pool of row elements over any number of rows.
//!
//! [`livequeue_protocol::list_window`] decides everything (the scaled scroll space that
//! reaches every row, the window, which element shows which row, the pages, the keyboard,
//! the shift on admissions); this component feeds it scroll and key events and the line's
//! size, and draws what it answers:
//!
//! - The scroller holds a layer that stays in view (`position: sticky`) and a filler that
//!   gives the scroll height. The pool's rows sit in the layer at their offset from the top.
//! - Rows are fetched a page at a time from the entries endpoint; a row without data shows
//!   a placeholder. A page scrolled past before it arrived is cancelled (`AbortController`).
//!   Rows are kept by [`row_key`], so admissions move them without a refetch; the pages in
//!   view are fetched again every [`REFRESH_MS`] to pick up departures.
//! - It is a `grid` with `aria-rowcount`, each row with `aria-rowindex`; the keyboard's row
//!   is the grid's `aria-activedescendant`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use gloo_timers::callback::Interval;
use leptos::html;
use leptos::prelude::*;
use livequeue_protocol::ExperienceId;
use livequeue_protocol::api::{MAX_ENTRIES, QueueEntry};
use livequeue_protocol::list_window::{
    Layout, Move, Viewport, pages, row_in_slot, row_key, window,
};
use send_wrapper::SendWrapper;
use web_sys::AbortController;

use crate::api::Operator;
use crate::format::{grouped, time_of_day};

/// Height of every row, px (the CSS gives `.row` the same).
pub const ROW_HEIGHT: f64 = 40.0;
/// Height of the list's view, px.
pub const VIEW_HEIGHT: f64 = 480.0;
/// Rows rendered beyond the view on each side.
pub const OVERSCAN: u64 = 4;
/// Rows per request: a tenth of what one request may ask for ([`MAX_ENTRIES`]), a few
/// views' worth, so a page arrives quickly and few are in flight at once.
pub const PAGE: u64 = MAX_ENTRIES / 10;
/// Rows kept beyond those in view; the farthest go first.
const KEEP_ROWS: usize = 3_000;
/// How often the pages in view are fetched again.
pub const REFRESH_MS: u32 = 3_000;

/// A fetched row and the refresh round it was fetched in.
#[derive(Debug, Clone)]
struct Row {
    entry: QueueEntry,
    round: u64,
}

/// The operator's view of the line.
#[component]
pub fn QueueList(
    /// Who asks for the pages.
    operator: Operator,
    /// The experience whose line this is.
    experience: ExperienceId,
    /// Shoppers waiting, from the live figures.
    total: Signal<u64>,
    /// Shoppers admitted in all, from the live figures: each admission moves the rows up.
    admitted: Signal<u64>,
) -> impl IntoView {
    let layout = Memo::new(move |_| Layout {
        rows: total.get(),
        row_height: ROW_HEIGHT,
        view_height: VIEW_HEIGHT,
        overscan: OVERSCAN,
    });
    let pool = layout.get_untracked().pool_size();
    let viewport = RwSignal::new(Viewport::default());
    let win = Memo::new(move |_| window(&layout.get(), viewport.get().top));
    let rows: RwSignal<HashMap<u64, Row>> = RwSignal::new(HashMap::new());
    // The admissions count the rows' keys are read against: the figures' count, or a
    // fetched page's when that is newer.
    let base = RwSignal::new(admitted.get_untracked());
    let round = RwSignal::new(0u64);
    // Pages asked for and pages cancelled because they were scrolled past before they came:
    // on the list as `data-pages-asked` / `data-pages-cancelled`, for the tests and the
    // scroll benchmark.
    let asked = RwSignal::new(0u64);
    let cancelled = RwSignal::new(0u64);
    let scroller = NodeRef::<html::Div>::new();
    let filler = NodeRef::<html::Div>::new();

    let set_scroll = move |top: f64| {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(top.round() as i32);
        }
    };

    // Admissions only grow while the server runs: a count lower than the last one is a
    // restarted server, whose line starts anew, so what was fetched is dropped.
    Effect::new(move |previous: Option<u64>| {
        let now_admitted = admitted.get();
        if previous.is_some_and(|before| now_admitted < before) {
            rows.set(HashMap::new());
            base.set(now_admitted);
        } else {
            base.update(|b| *b = (*b).max(now_admitted));
        }
        now_admitted
    });

    // The line's size and the admissions, applied together: the filler first (so the new
    // scroll range exists), then the view moved by as many rows as the keys moved, so the
    // rows in view stay in view.
    Effect::new(move |previous: Option<u64>| {
        let now_admitted = base.get();
        let list = layout.get();
        if let Some(el) = filler.get() {
            let height = (list.scroll_height() - VIEW_HEIGHT).max(0.0);
            let _ = el.style(("height", format!("{height}px")));
        }
        let moved = previous.map_or(0, |before| now_admitted.saturating_sub(before));
        let mut view = viewport.get_untracked();
        let scroll = if moved > 0 {
            view.admitted(&list, moved)
        } else {
            view.resized(&list)
        };
        viewport.set(view);
        set_scroll(scroll);
        now_admitted
    });

    let refresh = Interval::new(REFRESH_MS, move || round.update(|r| *r += 1));
    let refresh = SendWrapper::new(refresh);
    on_cleanup(move || drop(refresh));

    // Pages: fetch those in view that lack rows or are from an older round; cancel those in
    // flight that are no longer in view.
    let in_flight: Rc<RefCell<HashMap<u64, AbortController>>> = Rc::default();
    {
        let in_flight = in_flight.clone();
        let cancel_all = SendWrapper::new(in_flight.clone());
        on_cleanup(move || {
            for (_, controller) in cancel_all.borrow_mut().drain() {
                controller.abort();
            }
        });
        Effect::new(move |_| {
            let w = win.get();
            let current = round.get();
            let a = base.get();
            let needed = pages(&w.rendered, PAGE);
            in_flight.borrow_mut().retain(|page, controller| {
                let keep = needed.contains(page);
                if !keep {
                    controller.abort();
                    cancelled.update(|n| *n += 1);
                }
                keep
            });
            let rows_total = layout.get_untracked().rows;
            for page in needed {
                if in_flight.borrow().contains_key(&page) {
                    continue;
                }
                let span = page * PAGE..((page + 1) * PAGE).min(rows_total);
                let wanted = span.start.max(w.rendered.start)..span.end.min(w.rendered.end);
                let stale = rows.with_untracked(|cache| {
                    wanted.clone().any(|row| {
                        cache
                            .get(&row_key(row, a))
                            .is_none_or(|r| r.round < current)
                    })
                });
                if !stale {
                    continue;
                }
                let Ok(controller) = AbortController::new() else {
                    continue;
                };
                let signal = controller.signal();
                in_flight.borrow_mut().insert(page, controller);
                asked.update(|n| *n += 1);
                let operator = operator.clone();
                let experience = experience.clone();
                let in_flight = in_flight.clone();
                leptos::task::spawn_local(async move {
                    let answer = operator
                        .entries(&experience, page * PAGE, PAGE, &signal)
                        .await;
                    if signal.aborted() {
                        return;
                    }
                    in_flight.borrow_mut().remove(&page);
                    // A page that failed stays a placeholder; the next round asks again.
                    let Ok(answer) = answer else { return };
                    base.update(|b| *b = (*b).max(answer.admitted));
                    let centre = row_key(win.get_untracked().visible.start, answer.admitted);
                    rows.update(|cache| {
                        for entry in answer.entries {
                            let key = row_key(entry.position.saturating_sub(1), answer.admitted);
                            cache.insert(
                                key,
                                Row {
                                    entry,
                                    round: current,
                                },
                            );
                        }
                        if cache.len() > KEEP_ROWS {
                            let mut keys: Vec<u64> = cache.keys().copied().collect();
                            keys.sort_by_key(|k| k.abs_diff(centre));
                            for far in &keys[KEEP_ROWS..] {
                                cache.remove(far);
                            }
                        }
                    });
                });
            }
        });
    }

    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let top = f64::from(el.scroll_top());
            viewport.update(|v| v.scrolled(&layout.get_untracked(), top));
        }
    };
    let on_key = move |event: web_sys::KeyboardEvent| {
        let Some(step) = Move::from_key(&event.key()) else {
            return;
        };
        event.prevent_default();
        let mut view = viewport.get_untracked();
        let scroll = view.key(&layout.get_untracked(), step);
        viewport.set(view);
        set_scroll(scroll);
    };

    let jump_to = RwSignal::new(String::new());
    let jump_error = RwSignal::new(None::<String>);
    let on_jump = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        let rows_total = layout.get_untracked().rows;
        let text = jump_to.get_untracked().replace([',', ' ', '_'], "");
        match text.parse::<u64>() {
            Ok(n) if (1..=rows_total).contains(&n) => {
                jump_error.set(None);
                let mut view = viewport.get_untracked();
                let scroll = view.jump(&layout.get_untracked(), n - 1);
                viewport.set(view);
                set_scroll(scroll);
                if let Some(el) = scroller.get_untracked() {
                    let _ = el.focus();
                }
            }
            _ if rows_total == 0 => jump_error.set(Some("The line is empty.".into())),
            _ => jump_error.set(Some(format!(
                "Enter a place from 1 to {}.",
                grouped(rows_total)
            ))),
        }
    };

    let slots = (0..pool)
        .map(|slot| {
            let row = Memo::new(move |_| row_in_slot(slot, &win.get().rendered, pool));
            let data = move || {
                let row = row.get()?;
                let a = base.get();
                rows.with(|cache| cache.get(&row_key(row, a)).map(|r| r.entry.clone()))
            };
            let offset = move || {
                row.get()
                    .map(|r| win.with(|w| w.offset_of(r, ROW_HEIGHT)))
                    .unwrap_or(0.0)
            };
            let is_focus = move || row.get() == Some(viewport.with(|v| v.focus));
            view! {
                <div
                    class="row"
                    role="row"
                    id=format!("lq-row-{slot}")
                    class:pending=move || data().is_none()
                    class:current=is_focus
                    style:display=move || if row.get().is_some() { "flex" } else { "none" }
                    style:transform=move || format!("translateY({}px)", offset())
                    aria-rowindex=move || row.get().map(|r| (r + 1).to_string())
                >
                    <span role="gridcell" class="place">
                        {move || row.get().map(|r| format!("#{}", grouped(r + 1)))}
                    </span>
                    <span role="gridcell" class="label">
                        {move || data().map_or_else(|| "Loading…".to_owned(), |e| e.label)}
                    </span>
                    <span role="gridcell" class="joined">
                        {move || data().map(|e| format!("joined {}", time_of_day(e.joined_at, local_offset())))}
                    </span>
                </div>
            }
        })
        .collect_view();

    view! {
        <div class="line-tools">
            <form class="jump" on:submit=on_jump>
                <label for="lq-jump">"Go to place"</label>
                <input
                    id="lq-jump"
                    inputmode="numeric"
                    autocomplete="off"
                    placeholder="777,777"
                    prop:value=move || jump_to.get()
                    on:input=move |ev| jump_to.set(event_target_value(&ev))
                />
                <button type="submit">"Go"</button>
            </form>
            <p class="error" role="alert">{move || jump_error.get()}</p>
        </div>
        <div class="line-head" aria-hidden="true">
            <span>"Place"</span>
            <span>"Shopper"</span>
            <span>"Joined"</span>
        </div>
        <div
            class="list"
            role="grid"
            tabindex="0"
            node_ref=scroller
            aria-label=move || format!(
                "The line, {} waiting. Arrow keys, Page Up, Page Down, Home and End move.",
                grouped(total.get())
            )
            aria-rowcount=move || total.get().to_string()
            aria-colcount="3"
            data-pages-asked=move || asked.get().to_string()
            data-pages-cancelled=move || cancelled.get().to_string()
            aria-activedescendant=move || {
                let focus = viewport.with(|v| v.focus);
                win.with(|w| w.rendered.contains(&focus))
                    .then(|| format!("lq-row-{}", focus % pool))
            }
            style:height=format!("{VIEW_HEIGHT}px")
            on:scroll=on_scroll
            on:keydown=on_key
        >
            <div class="layer" style:height=format!("{VIEW_HEIGHT}px")>
                {slots}
                <p class="empty" style:display=move || if total.get() == 0 { "block" } else { "none" }>
                    "Nobody is waiting."
                </p>
            </div>
            <div class="filler" node_ref=filler></div>
        </div>
    }
}

/// Minutes east of UTC of the browser's time zone.
fn local_offset() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}
