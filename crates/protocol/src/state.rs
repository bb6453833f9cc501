//! The consumer's view of the queue, as sent in full by every snapshot message.

use serde::{Deserialize, Serialize};

/// Position of an event in an experience's update stream.
///
/// `epoch` names one lifetime of the engine's memory: it changes when that memory is lost (a
/// restart of the in-memory engine), so a client holding a cursor of another epoch knows that
/// its state must be fetched again. It is a millisecond timestamp, so a later lifetime has a
/// larger epoch, and it stays below 2^53 so JavaScript reads it exactly. `seq` counts the
/// experience's broadcast events within the epoch, starting at 0 before the first one.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Cursor {
    /// Lifetime of the engine state this cursor belongs to.
    pub epoch: u64,
    /// Number of broadcast events of the experience within the epoch.
    pub seq: u64,
}

/// Remaining and total stock of the experience's product. A missing field reads as 0 (a
/// total of 0 means "unknown"), for servers that send less.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stock {
    /// Units still to be handed out (neither reserved by an active admission nor sold).
    pub available: u64,
    /// Units the drop started with (as last set by the operator).
    pub total: u64,
}

/// Whether the experience admits shoppers, as set by the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperienceStatus {
    /// Shoppers join and are admitted at the configured rate.
    #[default]
    Open,
    /// Shoppers may join and keep their place, but nobody is admitted.
    Paused,
    /// The drop is over: nobody joins or is admitted.
    Closed,
}

/// The experience as a shopper sees it. A missing field takes its default (no name, open).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExperienceView {
    /// Display name chosen by the operator.
    pub name: String,
    /// Whether the experience admits shoppers now.
    pub status: ExperienceStatus,
}

/// Lifecycle of one admission grant. It only moves forward: `active`, then `redeemed` or
/// `expired`, which is what lets the reducer order admission messages of the same cursor.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AdmissionStatus {
    /// The shopper may check out until `expiresAt`.
    #[default]
    Active,
    /// The shop's checkout has redeemed the grant.
    Redeemed,
    /// The grant was not redeemed in time; its unit went back to stock.
    Expired,
}

/// The shopper's turn: a single-use grant the shop's checkout redeems.
///
/// Decoding is lenient, for servers written from the guide, which never defines this
/// payload: the grant may be called `admissionToken` or `token`, `expiresAt` may be
/// milliseconds or an ISO-8601 text (or missing: no countdown), a missing status is
/// `active`. This server always sends every field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Admission {
    /// Opaque single-use grant, redeemed server to server by the shop's checkout.
    #[serde(alias = "admissionToken", alias = "token")]
    pub grant: String,
    /// When the grant stops being redeemable, in milliseconds since the Unix epoch; `None`
    /// when the server did not say (the widget then shows no countdown).
    #[serde(deserialize_with = "crate::time::lenient_ms")]
    pub expires_at: Option<u64>,
    /// Where the shopper goes to buy; the widget appends the grant. `""`: not given.
    pub checkout_url: String,
    /// Where the grant is in its lifecycle.
    pub status: AdmissionStatus,
    /// Units in the grant's cart (`POST …/reserve`), so every tab and a reload show the cart
    /// the server holds; 0 before any reservation, and from servers that do not say.
    pub reserved: u64,
}

/// Where the shopper stands, derived from the rest of the state by [`QueueState::derive_stage`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Waiting in line.
    #[default]
    Queued,
    /// Waiting, but the operator paused admissions.
    Paused,
    /// It is the shopper's turn: an active admission.
    Admitted,
    /// The shopper's grant was redeemed at checkout.
    Completed,
    /// The shopper's grant expired unused.
    Expired,
    /// Nothing left to hand out while the shopper waited.
    SoldOut,
    /// The operator closed the experience.
    Closed,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 7] = [
        Stage::Queued,
        Stage::Paused,
        Stage::Admitted,
        Stage::Completed,
        Stage::Expired,
        Stage::SoldOut,
        Stage::Closed,
    ];

    /// The wire name (`queued`, `sold_out`, …), also the widget's `data-stage`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Queued => "queued",
            Stage::Paused => "paused",
            Stage::Admitted => "admitted",
            Stage::Completed => "completed",
            Stage::Expired => "expired",
            Stage::SoldOut => "sold_out",
            Stage::Closed => "closed",
        }
    }

    /// The stage named `s`, if this protocol knows it.
    pub fn parse(s: &str) -> Option<Self> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }
}

/// Reads a stage leniently: `null`, a missing field or a name this protocol does not know
/// is "not said" (the reducer then derives the stage from the other fields) rather than an
/// error that would throw the whole state away.
fn lenient_stage<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Stage>, D::Error> {
    let text = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
    Ok(text.as_deref().and_then(Stage::parse))
}

/// Everything a shopper's widget shows, as sent by snapshot messages (`initial_state`,
/// `state_refresh`, SSE's first message and `snapshot`, and the polling endpoint).
///
/// Decoding is lenient on purpose: a missing field takes its default (no cursor is epoch 0,
/// seq 0; no stock is `0 of 0`, which means "unknown"), and `estimatedWait` is read as
/// `estimatedWaitSeconds`, so a server written straight from the guide, which sends fewer
/// fields, still drives the widget: `stage` may be `null` or missing (not said), and
/// `serverTime` may be missing (no clock correction). This server always sends every field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueState {
    /// The experience this state belongs to.
    pub experience_id: String,
    /// The shopper this state belongs to.
    pub consumer_id: String,
    /// 1-based place in line; `None` once the shopper has left the line (admitted).
    pub position: Option<u64>,
    /// Estimated seconds until admission; `None` when unknown or not waiting.
    #[serde(alias = "estimatedWait")]
    pub estimated_wait_seconds: Option<u64>,
    /// Where the shopper stands, as the server said it; `None` when it did not (then the
    /// reducer derives it). The widget's state always has one.
    #[serde(deserialize_with = "lenient_stage")]
    pub stage: Option<Stage>,
    /// Remaining and total stock.
    pub stock: Stock,
    /// The experience's name and status.
    pub experience: ExperienceView,
    /// The shopper's admission, once there is one.
    pub admission: Option<Admission>,
    /// The experience's cursor this state reflects.
    pub cursor: Cursor,
    /// The server's clock when the state was made, in milliseconds since the Unix epoch; lets
    /// the widget count an admission down against the server's time, not a skewed local clock.
    /// `None` when the server does not say (no correction, never one computed from 0).
    pub server_time: Option<u64>,
}

impl QueueState {
    /// The stage that the other fields imply. Both ends use this one rule, so the server's
    /// `stage` field and the widget's after applying a delta always agree.
    pub fn derive_stage(&self) -> Stage {
        if let Some(admission) = &self.admission {
            return match admission.status {
                AdmissionStatus::Active => Stage::Admitted,
                AdmissionStatus::Redeemed => Stage::Completed,
                AdmissionStatus::Expired => Stage::Expired,
            };
        }
        match self.experience.status {
            ExperienceStatus::Closed => Stage::Closed,
            // A total of 0 is "no stock information" (a server that sends none).
            _ if self.stock.total > 0 && self.stock.available == 0 => Stage::SoldOut,
            ExperienceStatus::Paused => Stage::Paused,
            ExperienceStatus::Open => Stage::Queued,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> QueueState {
        QueueState {
            experience_id: "e".into(),
            consumer_id: "c".into(),
            position: Some(3),
            estimated_wait_seconds: Some(30),
            stage: Some(Stage::Queued),
            stock: Stock {
                available: 5,
                total: 10,
            },
            experience: ExperienceView {
                name: "E".into(),
                status: ExperienceStatus::Open,
            },
            admission: None,
            cursor: Cursor { epoch: 1, seq: 0 },
            server_time: Some(0),
        }
    }

    #[test]
    fn an_active_admission_wins_over_sold_out_and_closed() {
        let mut s = state();
        s.stock.available = 0;
        s.experience.status = ExperienceStatus::Closed;
        s.admission = Some(Admission {
            grant: "g".into(),
            expires_at: Some(1),
            checkout_url: "/".into(),
            status: AdmissionStatus::Active,
            reserved: 0,
        });
        assert_eq!(s.derive_stage(), Stage::Admitted);
    }

    #[test]
    fn no_stock_while_waiting_is_sold_out_and_closing_wins_over_it() {
        let mut s = state();
        s.stock.available = 0;
        assert_eq!(s.derive_stage(), Stage::SoldOut);
        s.experience.status = ExperienceStatus::Closed;
        assert_eq!(s.derive_stage(), Stage::Closed);
    }

    #[test]
    fn a_guide_style_state_with_few_fields_decodes_and_is_queued() {
        let s: QueueState =
            serde_json::from_str(r#"{"position": 12, "estimatedWait": 60}"#).unwrap();
        assert_eq!((s.position, s.estimated_wait_seconds), (Some(12), Some(60)));
        assert_eq!(
            s.derive_stage(),
            Stage::Queued,
            "unknown stock is not sold out"
        );
        assert_eq!(s.cursor, Cursor { epoch: 0, seq: 0 });
        assert_eq!(s.server_time, None, "no clock is not a clock at 0");
    }

    #[test]
    fn a_partial_experience_and_stock_decode_with_defaults() {
        let s: QueueState =
            serde_json::from_str(r#"{"experience": {"name": ""}, "stock": {"available": 3}}"#)
                .expect("the state decodes");
        assert_eq!(s.experience.status, ExperienceStatus::Open);
        assert_eq!((s.stock.available, s.stock.total), (3, 0));
    }

    #[test]
    fn a_null_or_unknown_stage_is_not_said_and_the_state_still_decodes() {
        for stage in ["null", r#""waiting_room""#] {
            let s: QueueState =
                serde_json::from_str(&format!(r#"{{"position": 3, "stage": {stage}}}"#))
                    .expect("the state decodes");
            assert_eq!(s.stage, None, "stage {stage}");
            assert_eq!(s.position, Some(3));
        }
    }

    #[test]
    fn a_guide_style_admission_decodes_with_its_own_names() {
        let a: Admission = serde_json::from_str(
            r#"{"admissionToken":"tok","expiresAt":"2026-12-01T10:00:30.500Z"}"#,
        )
        .expect("decodes");
        assert_eq!(a.grant, "tok");
        assert_eq!(a.expires_at, Some(1_796_119_230_500));
        assert_eq!(a.status, AdmissionStatus::Active);
        let bare: Admission = serde_json::from_str("{}").expect("decodes");
        assert_eq!(bare.expires_at, None, "no expiry, no countdown");
    }

    #[test]
    fn paused_experience_shows_paused_stage() {
        let mut s = state();
        s.experience.status = ExperienceStatus::Paused;
        assert_eq!(s.derive_stage(), Stage::Paused);
    }
}
