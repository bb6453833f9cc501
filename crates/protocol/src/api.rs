//! Request and response bodies of the HTTP endpoints (see `docs/PROTOCOL.md`).

use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::state::{ExperienceStatus, QueueState, Stock};

/// `201` answer to `POST /api/experiences/{experienceId}/join`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinResponse {
    /// The new shopper's id.
    pub consumer_id: String,
    /// Signed claim to pass as `token` on every read endpoint.
    pub token: String,
    /// The shopper's state right after joining.
    pub state: QueueState,
}

/// Body of every 4xx and 5xx answer: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error inside an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// A sentence for the developer reading the response.
    pub message: String,
}

/// Body of `POST /api/experiences/{experienceId}/redeem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemRequest {
    /// The grant from the shopper's admission.
    pub grant: String,
}

/// `200` answer to a first, valid redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedeemResponse {
    /// The shopper the grant was issued to.
    pub consumer_id: String,
    /// The experience the grant belongs to.
    pub experience_id: String,
    /// When the grant was redeemed, in milliseconds since the Unix epoch.
    pub redeemed_at: u64,
}

/// Body of `POST /api/experiences/{experienceId}/reserve` (with the shopper's `consumerId`
/// and `token` in the query). Reserves `quantity` more units against the shopper's active
/// grant; `idempotencyKey` makes a retry answer the first result instead of reserving again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveRequest {
    /// Chosen by the client per add-to-cart (1–128 visible ASCII characters); a retry of the
    /// same request sends the same key.
    pub idempotency_key: String,
    /// Units to add, at least 1.
    pub quantity: u64,
}

/// `200` answer to a reservation (and to its retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveResponse {
    /// Units reserved for this grant in all, this request included.
    pub reserved: u64,
    /// Stock right after the reservation.
    pub stock: Stock,
}

/// One row of the operator's queue list. Labels are anonymous: never a consumer id or token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueEntry {
    /// 1-based place in line.
    pub position: u64,
    /// Anonymous label, stable for the shopper within the experience.
    pub label: String,
    /// When the shopper joined, in milliseconds since the Unix epoch.
    pub joined_at: u64,
}

/// Answer to `GET /api/experiences/{experienceId}/entries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntriesPage {
    /// Shoppers waiting in line in all.
    pub total: u64,
    /// Shoppers admitted in all when the page was read (as in
    /// [`ExperienceSummary::admitted`]): a row's index plus this stays the same for its
    /// shopper as others are admitted, so a list can keep the rows it fetched in place.
    #[serde(default)]
    pub admitted: u64,
    /// The requested slice, in line order.
    pub entries: Vec<QueueEntry>,
}

/// Body of `POST /api/admin/experiences`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateExperience {
    /// Id used in every path; 1–64 characters of `[A-Za-z0-9_-]`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Units to hand out.
    pub stock: u64,
    /// Admissions per minute while open.
    pub admission_rate_per_minute: f64,
    /// Where admitted shoppers check out.
    pub checkout_url: String,
    /// How long this drop's turns are held, in seconds; absent: the server's
    /// `--grant-ttl-secs`. A short drop (or a test) may want shorter turns than the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_ttl_seconds: Option<u64>,
}

/// Body of `PATCH /api/admin/experiences/{experienceId}`: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchExperience {
    /// New total stock; available stock moves by the same difference (never below zero).
    pub stock: Option<u64>,
    /// New admissions per minute.
    pub admission_rate_per_minute: Option<f64>,
    /// New status.
    pub status: Option<ExperienceStatus>,
}

/// Body of `POST /api/admin/experiences/{experienceId}/admit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmitRequest {
    /// How many shoppers to admit now, from the front of the line (bounded by stock).
    pub count: u64,
}

/// Answer to the admin endpoints: the experience's configuration and live counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperienceSummary {
    /// The experience's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Current status.
    pub status: ExperienceStatus,
    /// Stock.
    pub stock: Stock,
    /// Configured admissions per minute.
    pub admission_rate_per_minute: f64,
    /// Admissions per minute actually observed recently.
    pub observed_rate_per_minute: f64,
    /// Where admitted shoppers check out.
    pub checkout_url: String,
    /// Shoppers waiting in line.
    pub waiting: u64,
    /// Admissions whose grant is still redeemable.
    pub active_admissions: u64,
    /// Grants redeemed.
    pub redeemed: u64,
    /// Grants that expired unused.
    pub expired: u64,
    /// Open shopper SSE and WebSocket connections: this node's, and on Redis every
    /// node's (each reports its own every tick).
    pub connections: u64,
    /// Shoppers admitted in all, by the rate and by the operator.
    #[serde(default)]
    pub admitted: u64,
    /// [`ExperienceSummary::connections`] by transport.
    #[serde(default)]
    pub connections_by_transport: ConnectionCounts,
}

/// Open shopper connections by transport (see [`ExperienceSummary::connections`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCounts {
    /// Server-Sent Events streams.
    pub sse: u64,
    /// WebSockets.
    pub websocket: u64,
}

/// Answer to `GET /api/admin/experiences`: every experience, ordered by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperienceList {
    /// The experiences' summaries.
    pub experiences: Vec<ExperienceSummary>,
}

/// Answer to `POST /api/admin/stream-ticket` (operator token): a short-lived ticket for the
/// operator stream's `?ticket=`, because `EventSource` cannot send an `Authorization`
/// header and the operator token must never be put in a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamTicket {
    /// Opaque; valid for opening streams until it expires (a stream already open stays).
    pub ticket: String,
    /// Seconds until it expires.
    pub expires_in_seconds: u64,
}

/// SSE event name of the operator stream's frames; each data is an [`OperatorFigures`].
pub const FIGURES_EVENT: &str = "figures";

/// Seconds each bucket of [`OperatorFigures::admissions_history`] covers.
pub const HISTORY_BUCKET_SECONDS: u64 = 10;

/// Buckets in [`OperatorFigures::admissions_history`]: five minutes.
pub const HISTORY_BUCKETS: usize = 30;

/// One frame of the operator stream `GET /api/admin/experiences/{experienceId}/stream`:
/// sent when the stream opens and then every second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorFigures {
    /// The experience's figures and settings.
    #[serde(flatten)]
    pub summary: ExperienceSummary,
    /// Admissions in each of the last [`HISTORY_BUCKETS`] buckets of
    /// [`HISTORY_BUCKET_SECONDS`], oldest first; the last bucket is the one still filling.
    pub admissions_history: Vec<u64>,
    /// The server's clock, in milliseconds since the Unix epoch.
    pub server_time: u64,
}

/// Body of `POST /api/admin/experiences/{experienceId}/synthetic` (operator token, only
/// with `--demo` or `--test-controls`): anonymous synthetic shoppers join the back of the
/// line at once, so a line of a million can be made and looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyntheticJoins {
    /// How many join, 1 to [`MAX_SYNTHETIC_JOINS`].
    pub count: u64,
}

/// Most synthetic shoppers one request adds.
pub const MAX_SYNTHETIC_JOINS: u64 = 2_000_000;

/// Most rows one `entries` request may ask for; more is a 400.
pub const MAX_ENTRIES: u64 = 1000;
