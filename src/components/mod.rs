//! The parts of the widget, one component per file. Every component takes the same prop, the
//! page's [`model::Page`], and binds its texts and attributes through [`model`]'s three
//! binding shapes; it renders with `lq-`-prefixed class names styled by the matching file in
//! `style/`.

mod admission_panel;
mod connection_indicator;
mod debug_panel;
pub mod model;
mod position_card;
mod stage_badge;
mod stock_meter;

pub use admission_panel::AdmissionPanel;
pub use connection_indicator::ConnectionIndicator;
pub use debug_panel::DebugPanel;
pub use model::status_key;
pub use position_card::PositionCard;
pub use stage_badge::StageBadge;
pub use stock_meter::StockMeter;
