//! How the page's markup follows the model: each component is static markup plus a table
//! of [`Bind`]ings, and one effect applies every table whenever the model changes.
//!
//! Why not `view!` bindings: with Leptos each reactive child or attribute (`move || …`), each
//! `Memo` of a new type and each conditional branch monomorphizes tachys' render, rebuild and
//! drop code for the exact element type around it. The widget's views cost ~15 KB gzip that
//! way even after they shared one model and three closure shapes (measured: the page reduced
//! to one text binding was 89.3 KB against 104.4 KB); static markup and one table walk cost a
//! fraction of that. Measured on the release bundle (2026-12-01) when the tables replaced the
//! `view!` bindings: gzip 104350 → 94527 B (−9.8 KB), raw 272286 → 251272 B.
//!
//! Every write compares with what the DOM holds first, so an unchanged field costs a read,
//! and a part inserted by [`Bind::Part`] gets its texts from the bindings after it in the
//! same pass.

use web_sys::Element;

use super::model::Model;
use crate::i18n::{self, Texts};

/// One element of the page bound to one field of the model. A selector of `""` is the
/// page's root element itself.
pub enum Bind {
    /// The text of the element.
    Text(&'static str, fn(&Model) -> &str),
    /// An attribute of the element, set to the field and removed while it is `None`.
    Attr(&'static str, &'static str, fn(&Model) -> Option<&str>),
    /// The content of a slot element: the markup (in the catalog's language) while the flag
    /// holds, nothing otherwise. For parts that must be absent, not hidden (tests and screen
    /// readers rely on it).
    Part(&'static str, fn(&Model) -> bool, Markup),
    /// The texts of every element matching the selector: the model's `debug` values, in order.
    Rows(&'static str),
}

/// A part's static markup, with its texts from the catalog in use.
pub type Markup = fn(&Texts) -> String;

/// `hidden=""` unless `shown`: for static markup whose DOM can stay.
pub fn hidden(shown: bool) -> Option<&'static str> {
    (!shown).then_some("")
}

fn find(root: &Element, selector: &str) -> Option<Element> {
    if selector.is_empty() {
        return Some(root.clone());
    }
    root.query_selector(selector).ok().flatten()
}

/// Brings the markup under `root` in line with `model`, table by table, in order.
pub fn apply(root: &Element, model: &Model, tables: &[&[Bind]]) {
    for bind in tables.iter().flat_map(|t| t.iter()) {
        match *bind {
            Bind::Text(selector, pick) => {
                if let Some(element) = find(root, selector) {
                    let text = pick(model);
                    if element.text_content().as_deref() != Some(text) {
                        element.set_text_content(Some(text));
                    }
                }
            }
            Bind::Attr(selector, name, pick) => {
                if let Some(element) = find(root, selector) {
                    let value = pick(model);
                    if element.get_attribute(name).as_deref() != value {
                        // Setting or removing an attribute fails only for an invalid name,
                        // and these names are constants.
                        let _ = match value {
                            Some(value) => element.set_attribute(name, value),
                            None => element.remove_attribute(name),
                        };
                    }
                }
            }
            Bind::Rows(selector) => {
                let Ok(rows) = root.query_selector_all(selector) else {
                    continue;
                };
                for (i, value) in model.debug.iter().enumerate() {
                    if let Some(row) = rows.item(i as u32)
                        && row.text_content().as_deref() != Some(value)
                    {
                        row.set_text_content(Some(value));
                    }
                }
            }
            Bind::Part(selector, shown, markup) => {
                if let Some(slot) = find(root, selector) {
                    let shown = shown(model);
                    if slot.first_element_child().is_some() != shown {
                        slot.set_inner_html(&if shown {
                            markup(i18n::t())
                        } else {
                            String::new()
                        });
                    }
                }
            }
        }
    }
}

// The tables write into a real DOM.
#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use crate::components::{debug_panel, problem_notice, stage_badge, stock_meter};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn root(markup: &str) -> Element {
        let document = web_sys::window().unwrap().document().unwrap();
        let root = document.create_element("main").unwrap();
        root.set_inner_html(markup);
        root
    }

    fn text(root: &Element, selector: &str) -> Option<String> {
        root.query_selector(selector).unwrap()?.text_content()
    }

    #[wasm_bindgen_test]
    fn the_stock_reads_as_before_and_shows_only_once_known() {
        let root = root(&stock_meter::html(crate::i18n::t()));
        apply(&root, &Model::default(), &[stock_meter::BINDINGS]);
        let stock = root.query_selector(".lq-stock").unwrap().unwrap();
        assert!(stock.has_attribute("hidden"), "unknown stock is hidden");
        let model = Model {
            stock_known: true,
            stock_text: "1,312 of 2,000 left".into(),
            fill_style: "width: 65.6%".into(),
            ..Model::default()
        };
        apply(&root, &model, &[stock_meter::BINDINGS]);
        assert!(!stock.has_attribute("hidden"));
        assert_eq!(
            text(&root, ".lq-stock-count").as_deref(),
            Some("1,312 of 2,000 left")
        );
        let meter = root.query_selector(".lq-meter").unwrap().unwrap();
        assert_eq!(
            meter.get_attribute("aria-valuetext").as_deref(),
            Some("1,312 of 2,000 left")
        );
        let sold_out = Model {
            stock_known: true,
            sold_out: true,
            stock_text: "Sold out".into(),
            ..Model::default()
        };
        apply(&root, &sold_out, &[stock_meter::BINDINGS]);
        assert!(stock.has_attribute("data-sold-out"));
        assert_eq!(text(&root, ".lq-stock-count").as_deref(), Some("Sold out"));
    }

    #[wasm_bindgen_test]
    fn a_part_is_absent_until_it_applies_and_gone_after() {
        let root = root(&problem_notice::html(crate::i18n::t()));
        let tables = [problem_notice::BINDINGS];
        apply(&root, &Model::default(), &tables);
        assert_eq!(text(&root, ".lq-problem"), None, "no empty alert");
        let model = Model {
            problem: Some("We lost the connection."),
            failed: true,
            ..Model::default()
        };
        apply(&root, &model, &tables);
        assert_eq!(
            text(&root, ".lq-problem").as_deref(),
            Some("We lost the connection.")
        );
        let retry = root.query_selector(".lq-retry").unwrap().unwrap();
        assert!(!retry.has_attribute("hidden"), "the retry button shows");
        apply(&root, &Model::default(), &tables);
        assert_eq!(text(&root, ".lq-problem"), None, "the alert is removed");
        assert!(retry.has_attribute("hidden"));
    }

    #[wasm_bindgen_test]
    fn only_a_turn_that_ran_out_offers_to_join_again() {
        let root = root(&stage_badge::html(crate::i18n::t()));
        let rejoin = root.query_selector(".lq-rejoin").unwrap().unwrap();
        for (stage, offered) in [("queued", false), ("admitted", false), ("expired", true)] {
            let model = Model {
                stage: Some(stage),
                ..Model::default()
            };
            apply(&root, &model, &[stage_badge::BINDINGS]);
            assert_eq!(!rejoin.has_attribute("hidden"), offered, "{stage}");
        }
    }

    #[wasm_bindgen_test]
    fn the_debug_rows_follow_the_models_values_in_order() {
        let root = root(&debug_panel::html());
        let model = Model {
            debug: (0..13).map(crate::format::digits).collect(),
            ..Model::default()
        };
        apply(&root, &model, &[debug_panel::BINDINGS]);
        assert_eq!(text(&root, "dt").as_deref(), Some("transport"));
        assert_eq!(text(&root, "dd:nth-of-type(5)").as_deref(), Some("4"));
        assert_eq!(text(&root, "dd:nth-of-type(13)").as_deref(), Some("12"));
    }
}
