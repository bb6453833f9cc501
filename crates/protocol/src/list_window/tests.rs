//! The list's arithmetic: reach, windows, the pool, pages, keys, the keyboard and admissions,
//! with property tests over list sizes up to 10^9 rows.

use proptest::prelude::*;

use super::*;

const ROW: f64 = 40.0;

fn layout(rows: u64) -> Layout {
    Layout {
        rows,
        row_height: ROW,
        view_height: 480.0,
        overscan: 4,
    }
}

#[test]
fn a_million_rows_fit_under_the_browsers_height_limits() {
    let list = layout(1_000_000);
    assert!(
        list.content_height() > 33_500_000.0,
        "the test should need scaling"
    );
    assert!(
        list.scroll_height() <= 8_900_000.0,
        "the scrolled content is taller than Firefox moves a sticky layer: {}",
        list.scroll_height()
    );
}

#[test]
fn scrolled_to_the_bottom_shows_the_last_row_whole() {
    let list = layout(1_000_000);
    let top = list.top_at(list.scroll_range());
    let w = window(&list, top);
    assert_eq!(w.visible.end, 1_000_000, "the last row is not in view");
    let bottom = w.offset_of(999_999, ROW) + ROW;
    assert!(
        (bottom - list.view_height).abs() < 1e-6,
        "the last row's bottom is at {bottom}, not the view's bottom"
    );
}

#[test]
fn a_short_list_scrolls_one_to_one() {
    let list = layout(100);
    assert_eq!(list.scale(), 1.0);
    assert_eq!(list.top_at(123.0), 123.0);
    assert_eq!(list.scroll_for(123.0), 123.0);
}

#[test]
fn a_list_shorter_than_the_view_does_not_scroll() {
    let list = layout(3);
    assert_eq!(list.scroll_range(), 0.0);
    let w = window(&list, 500.0);
    assert_eq!(w.visible, 0..3);
    assert_eq!(w.first_offset, 0.0);
}

#[test]
fn an_empty_list_renders_nothing() {
    let list = layout(0);
    assert_eq!(window(&list, 0.0).rendered, 0..0);
    let mut view = Viewport::default();
    assert_eq!(view.key(&list, Move::End), 0.0);
    assert_eq!(view.focus, 0);
}

#[test]
fn the_window_holds_the_visible_rows_and_the_overscan() {
    let list = layout(1_000);
    let w = window(&list, 400.0 * ROW + 10.0);
    assert_eq!(
        w.visible,
        400..413,
        "a view of 12 rows cut at the top shows 13"
    );
    assert_eq!(w.rendered, 396..417);
    assert_eq!(w.offset_of(400, ROW), -10.0);
}

#[test]
fn jump_to_a_row_puts_it_at_the_top() {
    let list = layout(1_000_000);
    let mut view = Viewport::default();
    view.jump(&list, 777_776);
    let w = window(&list, view.top);
    assert_eq!(w.visible.start, 777_776);
    assert_eq!(w.offset_of(777_776, ROW), 0.0);
    assert_eq!(view.focus, 777_776);
}

#[test]
fn the_echo_of_a_jump_keeps_the_exact_row() {
    let list = layout(1_000_000_000);
    let mut view = Viewport::default();
    let scroll = view.jump(&list, 123_456_789);
    // The browser rounds the scroll position it was given, to its own pixel grid.
    for echo in [scroll.round(), scroll.round() - 1.0, scroll.round() + 1.0] {
        view.scrolled(&list, echo);
        assert_eq!(
            window(&list, view.top).offset_of(123_456_789, ROW),
            0.0,
            "echo {echo}"
        );
    }
    // A scroll of the operator's own maps onto the rows again.
    view.scrolled(&list, scroll.round() + 200.0);
    assert!(window(&list, view.top).visible.start > 123_456_789);
}

#[test]
fn end_reaches_the_last_row_and_home_the_first() {
    let list = layout(1_000_000);
    let mut view = Viewport::default();
    let scroll = view.key(&list, Move::End);
    assert_eq!(view.focus, 999_999);
    assert!(
        (scroll - list.scroll_range()).abs() < 1e-6,
        "End did not scroll to the bottom"
    );
    assert_eq!(window(&list, view.top).visible.end, 1_000_000);
    view.key(&list, Move::Home);
    assert_eq!((view.focus, view.top), (0, 0.0));
}

#[test]
fn arrows_scroll_only_when_the_row_leaves_the_view() {
    let list = layout(1_000);
    let mut view = Viewport::default();
    for _ in 0..11 {
        view.key(&list, Move::Down);
    }
    assert_eq!(
        (view.focus, view.top),
        (11, 0.0),
        "the view moved for a row in view"
    );
    view.key(&list, Move::Down);
    assert_eq!(view.focus, 12);
    assert_eq!(
        view.top,
        13.0 * ROW - 480.0,
        "row 12 is not just in view at the bottom"
    );
    view.key(&list, Move::PageDown);
    assert_eq!(view.focus, 23);
}

#[test]
fn an_admission_keeps_the_rows_in_view_where_they_are() {
    let list = layout(10_000);
    let mut view = Viewport::default();
    view.jump(&list, 5_000);
    let key = row_key(5_000, 70);
    view.admitted(&list, 3);
    let row = row_of_key(key, 73).unwrap();
    assert_eq!(row, 4_997);
    let w = window(&list, view.top);
    assert_eq!(
        w.offset_of(row, ROW),
        0.0,
        "the shopper at the top moved under the eyes"
    );
    assert_eq!(
        view.focus, 4_997,
        "the keyboard stayed on a row number, not the shopper"
    );
}

#[test]
fn an_admission_at_the_top_keeps_the_top() {
    let list = layout(10_000);
    let mut view = Viewport::default();
    view.admitted(&list, 5);
    assert_eq!(view.top, 0.0);
    assert_eq!(
        row_of_key(row_key(2, 0), 5),
        None,
        "an admitted shopper still has a row"
    );
}

#[test]
fn a_scroll_the_keyboard_row_leaves_behind_brings_it_along() {
    let list = layout(10_000);
    let mut view = Viewport::default();
    view.scrolled(&list, 4_000.0);
    assert_eq!(view.focus, 100);
}

#[test]
fn a_scroll_of_two_pixels_in_a_short_list_is_left_alone_and_three_move_it() {
    let list = layout(1_000);
    let mut view = Viewport::default();
    view.scrolled(&list, 2.0);
    assert_eq!(view.top, 0.0);
    view.scrolled(&list, 3.0);
    assert_eq!(view.top, 3.0);
}

#[test]
fn pages_cover_the_rows() {
    assert_eq!(pages(&(396..417), 100), 3..5);
    assert_eq!(pages(&(0..1), 100), 0..1);
    assert_eq!(pages(&(0..0), 100), 0..0);
    assert_eq!(pages(&(999_990..1_000_000), 100), 9_999..10_000);
}

#[test]
fn keys_name_the_moves() {
    assert_eq!(Move::from_key("End"), Some(Move::End));
    assert_eq!(Move::from_key("PageUp"), Some(Move::PageUp));
    assert_eq!(Move::from_key("a"), None);
}

proptest! {
    /// Every row of any list up to 10^9 rows is shown whole by a jump, whose scroll echo
    /// the browser rounds to a pixel.
    #[test]
    fn every_row_is_reachable_by_a_jump(rows in 1u64..=1_000_000_000, pick in 0.0f64..1.0) {
        let list = layout(rows);
        prop_assert!(list.scroll_height() <= MAX_SCROLL_SPACE);
        let row = ((rows - 1) as f64 * pick) as u64;
        let mut view = Viewport::default();
        let scroll = view.jump(&list, row);
        prop_assert!(scroll >= 0.0 && scroll <= list.scroll_range());
        view.scrolled(&list, scroll.round().min(list.scroll_range()));
        let w = window(&list, view.top);
        prop_assert!(w.visible.contains(&row), "row {} not visible (visible {:?})", row, w.visible);
        let at = w.offset_of(row, ROW);
        prop_assert!(at >= -1e-6 && at + ROW <= list.view_height + 1e-6, "row {} is cut: at {}", row, at);
    }

    /// While a scroll pixel covers less than a view's worth of rows (up to ~88 million
    /// rows of 40 px in a 480 px view), every row is in view at some whole-pixel scroll
    /// position: the scrollbar alone reaches it. Past that, the keyboard and jumps do.
    #[test]
    fn every_row_is_reachable_by_scrolling_in_whole_pixels(rows in 1u64..=85_000_000, pick in 0.0f64..1.0) {
        let list = layout(rows);
        prop_assert!(list.scale() <= list.view_height - ROW);
        let row = ((rows - 1) as f64 * pick) as u64;
        let scroll = list.scroll_for(row as f64 * ROW).floor();
        let w = window(&list, list.top_at(scroll));
        prop_assert!(w.visible.contains(&row),
            "row {} not visible at scroll {} (visible {:?})", row, scroll, w.visible);
    }

    /// The rendered rows are the visible ones plus overscan, never more than the pool, and
    /// the rows fill the view from its top.
    #[test]
    fn windows_are_bounded_and_fill_the_view(
        rows in 0u64..=1_000_000_000,
        at in 0.0f64..1.0,
        view_height in 40.0f64..2_000.0,
        overscan in 0u64..10,
    ) {
        let list = Layout { rows, row_height: ROW, view_height, overscan };
        let w = window(&list, list.top_range() * at);
        prop_assert!(w.rendered.end <= rows);
        prop_assert!(w.rendered.end - w.rendered.start <= list.pool_size());
        prop_assert!(w.rendered.start <= w.visible.start && w.visible.end <= w.rendered.end);
        if rows > 0 {
            let first = w.offset_of(w.visible.start, ROW);
            prop_assert!(first <= 0.0 && first > -ROW, "the first visible row is at {}", first);
            let last = w.offset_of(w.visible.end - 1, ROW) + ROW;
            prop_assert!(last >= view_height.min(rows as f64 * ROW) - 1e-6,
                "the rows end at {} in a view of {}", last, view_height);
        }
    }

    /// The pool's slots map the rendered rows one to one, both ways.
    #[test]
    fn each_rendered_row_has_its_own_slot(start in 0u64..1_000_000_000, len in 0u64..30, pool in 30u64..40) {
        let rendered = start..start + len;
        let mut seen = std::collections::HashSet::new();
        for row in rendered.clone() {
            let slot = slot_of(row, pool);
            prop_assert!(seen.insert(slot), "two rows in slot {}", slot);
            prop_assert_eq!(row_in_slot(slot, &rendered, pool), Some(row));
        }
        let used = (0..pool).filter(|s| row_in_slot(*s, &rendered, pool).is_some()).count();
        prop_assert_eq!(used as u64, len);
    }

    /// Scroll mapping goes there and back for any list size.
    #[test]
    fn scroll_positions_and_places_round_trip(rows in 1u64..=1_000_000_000, at in 0.0f64..1.0) {
        let list = layout(rows);
        let scroll = list.scroll_range() * at;
        let back = list.scroll_for(list.top_at(scroll));
        prop_assert!((back - scroll).abs() < 1e-3, "{} came back as {}", scroll, back);
    }

    /// Keyboard moves stay in the list and keep the keyboard's row in view.
    #[test]
    fn keyboard_moves_keep_the_row_in_view(
        rows in 1u64..=1_000_000_000,
        moves in proptest::collection::vec(0usize..6, 1..20),
    ) {
        let list = layout(rows);
        let mut view = Viewport::default();
        let all = [Move::Up, Move::Down, Move::PageUp, Move::PageDown, Move::Home, Move::End];
        for m in moves {
            let scroll = view.key(&list, all[m]);
            prop_assert!(view.focus < rows);
            // The browser echoes the scroll, rounded.
            view.scrolled(&list, scroll.round().min(list.scroll_range()));
            let w = window(&list, view.top);
            prop_assert!(w.visible.contains(&view.focus),
                "row {} out of view {:?}", view.focus, w.visible);
        }
    }

    /// Pages cover exactly the rows asked for.
    #[test]
    fn pages_cover_exactly(start in 0u64..1_000_000_000, len in 1u64..100, size in 1u64..1000) {
        let p = pages(&(start..start + len), size);
        prop_assert!(p.start * size <= start);
        prop_assert!(p.end * size >= start + len);
        prop_assert!((p.start + 1) * size > start);
        prop_assert!((p.end - 1) * size < start + len);
    }
}
