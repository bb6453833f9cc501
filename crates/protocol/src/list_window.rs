//! The operator's queue list as arithmetic: which rows are in view, where each one sits,
//! how a scroll position maps onto rows, and which pages to fetch. The console's list
//! component only feeds it scroll events and sizes and renders what it answers.
//!
//! # Scaled scroll space
//!
//! Browsers cap an element's height (about 33.5 million px in Chromium, 17.9 million in
//! Firefox), so a spacer of `rows × row height` stops the usual virtual list at row ~560,000
//! of 60 px rows. Here the scrolled content is at most [`MAX_SCROLL_SPACE`] px tall, and the
//! scroll range of the element is mapped linearly onto the range of the rows: scrolled to the
//! top shows the first row, scrolled to the bottom shows the last, and every row in between
//! is one scroll position away while a scroll pixel covers less than a view (up to ~88
//! million rows of 40 px in a 480 px view; a million rows are 5 row px per scroll px). Rows
//! are drawn in a layer that stays in view (the console makes it `position: sticky`), each
//! at its own offset from the top of the view.
//!
//! A scroll pixel stands for `scale` row pixels, which is coarse for a billion rows (125
//! rows a pixel). So the exact place in the rows ([`Viewport::top`]) is state of its own:
//! keyboard moves and jumps set it exactly and move the scrollbar to match, and the scroll
//! event that echoes that move keeps the exact place instead of rounding it to the
//! scrollbar's pixel.
//!
//! # Live lines
//!
//! As shoppers are admitted from the front, every row moves up. [`Viewport::admitted`]
//! moves the view up by as many rows, so the shopper in view stays in view; joins at the
//! back only make the list longer. Rows are kept by [`row_key`], which admissions do not
//! change, so what was fetched stays on screen while the next page loads.

use std::ops::Range;

/// The tallest scrolled content the list makes, in px. Firefox lets an element be 17.9
/// million px tall but stops moving a `position: sticky` one at 8,947,850 px of scroll
/// (2^29 of its 1/60 px units; measured with Firefox 153 ESR, where rows past that point
/// scrolled out of view), so this stays under that with room to spare. Chromium's limits
/// are about twice as high.
pub const MAX_SCROLL_SPACE: f64 = 8_000_000.0;

/// The sizes the list is laid out with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// Rows in the list.
    pub rows: u64,
    /// Height of a row, px (fixed: every row has it).
    pub row_height: f64,
    /// Height of the visible area, px.
    pub view_height: f64,
    /// Rows kept rendered above and below the visible ones, so a fast scroll shows rows, not
    /// blank space, before the next frame.
    pub overscan: u64,
}

impl Layout {
    /// The rows' full height, px.
    pub fn content_height(&self) -> f64 {
        self.rows as f64 * self.row_height
    }

    /// The height the scrolled content is given: the rows' height, capped at
    /// [`MAX_SCROLL_SPACE`].
    pub fn scroll_height(&self) -> f64 {
        self.content_height().min(MAX_SCROLL_SPACE)
    }

    /// How far the rows can be moved: their height less the view, never negative.
    pub fn top_range(&self) -> f64 {
        (self.content_height() - self.view_height).max(0.0)
    }

    /// How far the element can be scrolled.
    pub fn scroll_range(&self) -> f64 {
        (self.scroll_height() - self.view_height).max(0.0)
    }

    /// Row pixels per scroll pixel: 1 until the rows outgrow [`MAX_SCROLL_SPACE`].
    pub fn scale(&self) -> f64 {
        let scroll = self.scroll_range();
        if scroll <= 0.0 {
            1.0
        } else {
            self.top_range() / scroll
        }
    }

    /// The place in the rows (px from the first row's top) a scroll position shows.
    pub fn top_at(&self, scroll_top: f64) -> f64 {
        (scroll_top.clamp(0.0, self.scroll_range()) * self.scale()).min(self.top_range())
    }

    /// The scroll position that shows the place `top`.
    pub fn scroll_for(&self, top: f64) -> f64 {
        let scale = self.scale();
        (top.clamp(0.0, self.top_range()) / scale).min(self.scroll_range())
    }

    /// Rows that fit in the view, rounded up (a partly shown row counts).
    pub fn rows_per_view(&self) -> u64 {
        if self.row_height <= 0.0 {
            return 0;
        }
        (self.view_height / self.row_height).ceil().max(0.0) as u64
    }

    /// How many row elements the list ever needs: a view's rows, one more for the row cut
    /// at the top, and the overscan on both sides. The pool of elements has this size.
    pub fn pool_size(&self) -> u64 {
        self.rows_per_view() + 1 + 2 * self.overscan
    }
}

/// What the list shows at a place: the rows to render and where the first one sits.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Rows to render, 0-based, visible ones plus overscan, within the list.
    pub rendered: Range<u64>,
    /// Rows at least partly visible.
    pub visible: Range<u64>,
    /// Offset of row `rendered.start` from the top of the view, px (zero or negative).
    pub first_offset: f64,
}

impl Window {
    /// Offset of `row` from the top of the view, px.
    pub fn offset_of(&self, row: u64, row_height: f64) -> f64 {
        self.first_offset + (row as f64 - self.rendered.start as f64) * row_height
    }
}

/// The window of `layout` at the place `top` (px from the first row's top).
pub fn window(layout: &Layout, top: f64) -> Window {
    if layout.rows == 0 || layout.row_height <= 0.0 {
        return Window {
            rendered: 0..0,
            visible: 0..0,
            first_offset: 0.0,
        };
    }
    let top = top.clamp(0.0, layout.top_range());
    let first = ((top / layout.row_height).floor() as u64).min(layout.rows - 1);
    let bottom = top + layout.view_height;
    let end = ((bottom / layout.row_height).ceil() as u64).clamp(first + 1, layout.rows);
    let start = first.saturating_sub(layout.overscan);
    let rendered_end = end.saturating_add(layout.overscan).min(layout.rows);
    Window {
        rendered: start..rendered_end,
        visible: first..end,
        first_offset: start as f64 * layout.row_height - top,
    }
}

/// The element of the pool that shows `row`: rows keep their element while they stay
/// rendered, so scrolling moves few elements and rewrites the text of only the rows that
/// came into view.
pub fn slot_of(row: u64, pool_size: u64) -> u64 {
    if pool_size == 0 { 0 } else { row % pool_size }
}

/// The row the pool element `slot` shows in `rendered`, or `None` when it is not needed.
/// The inverse of [`slot_of`] within a range no longer than the pool.
pub fn row_in_slot(slot: u64, rendered: &Range<u64>, pool_size: u64) -> Option<u64> {
    if pool_size == 0 || rendered.is_empty() {
        return None;
    }
    let start = rendered.start;
    let row = start + (slot + pool_size - start % pool_size) % pool_size;
    (row < rendered.end).then_some(row)
}

/// The pages of `page_size` rows that hold `rows`.
pub fn pages(rows: &Range<u64>, page_size: u64) -> Range<u64> {
    if rows.is_empty() || page_size == 0 {
        return 0..0;
    }
    rows.start / page_size..(rows.end - 1) / page_size + 1
}

/// A key for the shopper in row `row` (0-based) when `admitted` shoppers had been admitted
/// in all: admissions move every row up by one and the count up by one, so the key stays.
/// (A departure ahead moves the rows behind without changing the count: the next fetch of
/// the page puts those right.)
pub fn row_key(row: u64, admitted: u64) -> u64 {
    row.saturating_add(admitted)
}

/// The row of `key` now that `admitted` have been admitted, or `None` when that shopper
/// has been admitted since.
pub fn row_of_key(key: u64, admitted: u64) -> Option<u64> {
    key.checked_sub(admitted)
}

/// A keyboard move in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// One row up (`ArrowUp`).
    Up,
    /// One row down (`ArrowDown`).
    Down,
    /// A view up (`PageUp`).
    PageUp,
    /// A view down (`PageDown`).
    PageDown,
    /// The first row (`Home`).
    Home,
    /// The last row (`End`).
    End,
}

impl Move {
    /// The move a key (`KeyboardEvent.key`) asks for.
    pub fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "ArrowUp" => Move::Up,
            "ArrowDown" => Move::Down,
            "PageUp" => Move::PageUp,
            "PageDown" => Move::PageDown,
            "Home" => Move::Home,
            "End" => Move::End,
            _ => return None,
        })
    }
}

/// Where the operator is in the list: the exact place, and the scroll position that shows
/// it as last set or seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    /// The place in the rows, px from the first row's top.
    pub top: f64,
    /// The scroll position that goes with [`Viewport::top`]: the one the list last set
    /// (and whose echo is ignored) or last saw.
    pub scroll_top: f64,
    /// The row the keyboard is on (0-based).
    pub focus: u64,
}

impl Default for Viewport {
    fn default() -> Self {
        Self {
            top: 0.0,
            scroll_top: 0.0,
            focus: 0,
        }
    }
}

impl Viewport {
    /// The element was scrolled to `scroll_top`. A scroll position that shows the exact
    /// place give or take two scroll pixels (the echo of the list's own move, which the
    /// browser rounds to its pixel grid) keeps that place; any other scroll maps onto the
    /// rows. The keyboard's row follows into view.
    pub fn scrolled(&mut self, layout: &Layout, scroll_top: f64) {
        self.scroll_top = scroll_top;
        if (layout.top_at(scroll_top) - self.top).abs() <= 2.0 * layout.scale() {
            return;
        }
        self.top = layout.top_at(scroll_top);
        self.keep_focus_in_view(layout);
    }

    /// Shows `row` at the top of the view (as far as the end of the list allows) and puts
    /// the keyboard on it. Answers the scroll position to set.
    pub fn jump(&mut self, layout: &Layout, row: u64) -> f64 {
        let row = row.min(layout.rows.saturating_sub(1));
        self.focus = row;
        self.set_top(layout, row as f64 * layout.row_height)
    }

    /// Moves the keyboard's row and scrolls only as far as it takes to show it. Answers the
    /// scroll position to set.
    pub fn key(&mut self, layout: &Layout, step: Move) -> f64 {
        let last = layout.rows.saturating_sub(1);
        let page = layout.rows_per_view().saturating_sub(1).max(1);
        self.focus = match step {
            Move::Up => self.focus.saturating_sub(1),
            Move::Down => self.focus.saturating_add(1),
            Move::PageUp => self.focus.saturating_sub(page),
            Move::PageDown => self.focus.saturating_add(page),
            Move::Home => 0,
            Move::End => last,
        }
        .min(last);
        let row_top = self.focus as f64 * layout.row_height;
        let row_bottom = row_top + layout.row_height;
        let top = if row_top < self.top {
            row_top
        } else if row_bottom > self.top + layout.view_height {
            row_bottom - layout.view_height
        } else {
            self.top
        };
        self.set_top(layout, top)
    }

    /// `count` shoppers were admitted from the front: every row moved up by `count`, and so
    /// does the view, so the rows under the operator's eyes stay. Answers the scroll position
    /// to set.
    pub fn admitted(&mut self, layout: &Layout, count: u64) -> f64 {
        self.focus = self
            .focus
            .saturating_sub(count)
            .min(layout.rows.saturating_sub(1));
        let top = self.top - count as f64 * layout.row_height;
        self.set_top(layout, top)
    }

    /// The list's size changed (joins, or a new layout): keeps the place, within the list.
    /// Answers the scroll position to set.
    pub fn resized(&mut self, layout: &Layout) -> f64 {
        self.focus = self.focus.min(layout.rows.saturating_sub(1));
        self.set_top(layout, self.top)
    }

    fn set_top(&mut self, layout: &Layout, top: f64) -> f64 {
        self.top = top.clamp(0.0, layout.top_range());
        self.scroll_top = layout.scroll_for(self.top);
        self.scroll_top
    }

    fn keep_focus_in_view(&mut self, layout: &Layout) {
        let visible = window(layout, self.top).visible;
        if !visible.contains(&self.focus) && !visible.is_empty() {
            // The first row wholly in view, or the first partly shown one at the end.
            let whole = (self.top / layout.row_height).ceil() as u64;
            self.focus = whole.min(visible.end - 1);
        }
    }
}

#[cfg(test)]
mod tests;
