//! The parts of the widget, one per file. Each part is static markup (`HTML`) and a table of
//! bindings to the page's view model (`BINDINGS`, see [`bind`]); the page (`crate::app`)
//! writes the markup once and applies the tables whenever the [`model::Model`] changes. Class
//! names are `lq-`-prefixed and styled by the matching file in `style/`.

pub mod admission_panel;
pub mod animated_number;
pub mod bind;
pub mod connection_indicator;
pub mod debug_panel;
pub mod join_panel;
pub mod live_regions;
pub mod model;
pub mod position_card;
pub mod problem_notice;
pub mod stage_badge;
pub mod stock_meter;

pub use model::status_key;
