//! What the tabs showing one shopper say to each other, and the `BroadcastChannel` it
//! travels on (a browser without one shares nothing: each tab connects).
//!
//! A message is one line of JSON, `{"tab":kind,…}`: [`ASK`] and
//! [`RETRY`] say nothing more; a leader's [`SHARE`] ([`share`]) carries its connection
//! (`from`, `status`, `transport`, and `at`, `window` and `poll`: when it last heard from
//! the server and how long a silence is normal) and the shopper's `state` written as the
//! server writes it, which the follower reads with the same decoder as a poll's answer. The
//! state's `serverTime` is the server's clock *now* as the leader reckons it, so the
//! follower's clock skew is the leader's.
//!
//! Text written by hand rather than a JavaScript object or the state's serde derive: it is
//! the smallest of the three in the bundle (serde_json's writer brought `core::fmt` in; an
//! object costs a property call per field; measured 2026-12-01).

use livequeue_protocol::json::{self, Raw};
use livequeue_protocol::supervisor::{ConnectionStatus, TransportKind};
use livequeue_protocol::tabs::TabId;
use livequeue_protocol::{AdmissionStatus, ExperienceStatus, QueueState};
use wasm_bindgen::JsCast;

use super::super::Heard;
use crate::clock::ClockSkew;
use crate::config::DEFAULT_TRANSPORTS;
use crate::format::push_digits;
use crate::session::push_json_string;
use crate::timer::Listener;

/// A follower asks the leader for its state.
pub(super) const ASK: &str = r#"{"tab":0}"#;
/// A follower's shopper pressed Reconnect, which is the leader's to do.
pub(super) const RETRY: &str = r#"{"tab":1}"#;
/// A leader's state and connection (see the module's doc).
const SHARE: u64 = 2;

/// What a message's kind is, by the number of its `tab`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// [`ASK`].
    Ask,
    /// [`RETRY`].
    Retry,
    /// A share, from this tab.
    Share(TabId),
}

/// The fields a message may have, in this order.
const FIELDS: [&str; 8] = [
    "tab",
    "from",
    "status",
    "transport",
    "at",
    "window",
    "poll",
    "state",
];

/// The statuses by their number on the channel.
const STATUSES: [ConnectionStatus; 6] = [
    ConnectionStatus::Connecting,
    ConnectionStatus::Live,
    ConnectionStatus::Reconnecting,
    ConnectionStatus::Polling,
    ConnectionStatus::Offline,
    ConnectionStatus::Failed,
];

/// Appends `,"name":` and `value`, or `null` for none.
fn push_number(out: &mut String, name: &str, value: Option<u64>) {
    out.push_str(name);
    match value {
        Some(n) => push_digits(out, n),
        None => out.push_str("null"),
    }
}

/// Appends `,"name":` and `value` as a JSON string.
fn push_text(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    push_json_string(out, value);
}

/// Appends `state` as the server writes it (`docs/PROTOCOL.md`; the tests read it back
/// with the protocol's decoder), with `server_time` as its `serverTime`.
fn push_state(out: &mut String, state: &QueueState, server_time: Option<u64>) {
    push_text(out, r#"{"experienceId":"#, &state.experience_id);
    push_text(out, r#","consumerId":"#, &state.consumer_id);
    push_number(out, r#","position":"#, state.position);
    push_number(
        out,
        r#","estimatedWaitSeconds":"#,
        state.estimated_wait_seconds,
    );
    out.push_str(r#","stage":"#);
    match state.stage {
        Some(stage) => push_json_string(out, stage.as_str()),
        None => out.push_str("null"),
    }
    push_number(
        out,
        r#","stock":{"available":"#,
        Some(state.stock.available),
    );
    push_number(out, r#","total":"#, Some(state.stock.total));
    push_text(out, r#"},"experience":{"name":"#, &state.experience.name);
    let status = match state.experience.status {
        ExperienceStatus::Open => "open",
        ExperienceStatus::Paused => "paused",
        ExperienceStatus::Closed => "closed",
    };
    push_text(out, r#","status":"#, status);
    out.push_str(r#"},"admission":"#);
    match &state.admission {
        Some(a) => {
            push_text(out, r#"{"grant":"#, &a.grant);
            push_number(out, r#","expiresAt":"#, a.expires_at);
            push_text(out, r#","checkoutUrl":"#, &a.checkout_url);
            let status = match a.status {
                AdmissionStatus::Active => "active",
                AdmissionStatus::Redeemed => "redeemed",
                AdmissionStatus::Expired => "expired",
            };
            push_text(out, r#","status":"#, status);
            push_number(out, r#","reserved":"#, Some(a.reserved));
            out.push('}');
        }
        None => out.push_str("null"),
    }
    push_number(out, r#","cursor":{"epoch":"#, Some(state.cursor.epoch));
    push_number(out, r#","seq":"#, Some(state.cursor.seq));
    push_number(out, r#"},"serverTime":"#, server_time);
    out.push('}');
}

/// A leader's share: `from`'s connection and the shopper's state; `now` is the local
/// clock, which with `skew` makes the state's `serverTime`.
pub(super) fn share(
    from: TabId,
    status: ConnectionStatus,
    transport: Option<TransportKind>,
    heard: Heard,
    skew: ClockSkew,
    now: f64,
    state: Option<&QueueState>,
) -> String {
    let index = |found: Option<usize>| found.map(|i| i as u64);
    let mut out = String::from(r#"{"tab":"#);
    push_digits(&mut out, SHARE);
    push_number(&mut out, r#","from":"#, Some(from));
    push_number(
        &mut out,
        r#","status":"#,
        index(STATUSES.iter().position(|s| *s == status)),
    );
    push_number(
        &mut out,
        r#","transport":"#,
        index(transport.and_then(|t| DEFAULT_TRANSPORTS.iter().position(|k| *k == t))),
    );
    push_number(&mut out, r#","at":"#, Some(heard.at as u64));
    push_number(&mut out, r#","window":"#, Some(heard.window_ms));
    push_number(&mut out, r#","poll":"#, heard.poll_every_ms);
    out.push_str(r#","state":"#);
    match state {
        Some(state) => {
            let server_time = skew.measured().map(|_| skew.server_now(now) as u64);
            push_state(&mut out, state, server_time);
        }
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

/// A message's fields, by [`FIELDS`], when it is one of ours.
pub(super) struct Message(Vec<Option<Raw>>);

impl Message {
    /// Reads `text`; `None` when it is not a message of ours.
    pub(super) fn read(text: &str) -> Option<(Kind, Message)> {
        let message = Message(json::fields(text, &FIELDS)?);
        let kind = match message.number(0)? {
            0 => Kind::Ask,
            1 => Kind::Retry,
            SHARE => Kind::Share(message.number(1)?),
            _ => return None,
        };
        Some((kind, message))
    }

    /// Field `i` as a whole number; `None` when missing, `null` or not one.
    fn number(&self, i: usize) -> Option<u64> {
        json::from_raw(self.0[i].as_ref()?).ok()
    }

    /// What a share says: the leader's status, transport and last contact, and its state.
    pub(super) fn shown(&self) -> Option<Shown> {
        let state = match &self.0[7] {
            Some(raw) => Some(json::from_raw(raw).ok()?),
            None => None,
        };
        Some(Shown {
            status: *STATUSES.get(self.number(2)? as usize)?,
            transport: self
                .number(3)
                .and_then(|i| DEFAULT_TRANSPORTS.get(i as usize).copied()),
            heard: Heard {
                at: self.number(4)? as f64,
                window_ms: self.number(5)?,
                poll_every_ms: self.number(6),
            },
            state,
        })
    }
}

/// What a share says.
#[derive(Debug, PartialEq)]
pub(super) struct Shown {
    /// The leader's status.
    pub status: ConnectionStatus,
    /// The leader's transport.
    pub transport: Option<TransportKind>,
    /// When the leader last heard from the server.
    pub heard: Heard,
    /// The state, once the leader has one.
    pub state: Option<QueueState>,
}

/// The channel between the tabs of one shopper; dropping it stops listening and closes it.
pub(super) struct Channel {
    channel: web_sys::BroadcastChannel,
    /// `message` on the channel.
    _listener: Listener,
}

impl Channel {
    /// Opens the channel `name`; `heard` receives every message another tab posts on it.
    /// `None` without `BroadcastChannel`.
    pub(super) fn open(name: &str, heard: impl Fn(String) + 'static) -> Option<Self> {
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let listener = Listener::new(&channel, "message", move |event| {
            let event: &web_sys::MessageEvent = event.unchecked_ref();
            if let Some(text) = event.data().as_string() {
                heard(text);
            }
        });
        Some(Self {
            channel,
            _listener: listener,
        })
    }

    /// Posts `message` to every other tab on the channel.
    pub(super) fn post(&self, message: &str) {
        // A message that cannot be posted is lost; the leader shares again at its next tick.
        let _ = self.channel.post_message(&message.into());
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    const STATE: &str = r#"{"experienceId":"demo-drop","consumerId":"c_\"1\"","position":12,
        "estimatedWaitSeconds":null,"stage":"queued","stock":{"available":3,"total":9},
        "experience":{"name":"Drop é","status":"paused"},"admission":{"grant":"g",
        "expiresAt":1796119290000,"checkoutUrl":"/c","status":"active","reserved":1},
        "cursor":{"epoch":7,"seq":42},"serverTime":5}"#;

    fn heard() -> Heard {
        Heard {
            at: 1_796_119_230_123.0,
            window_ms: 45_000,
            poll_every_ms: Some(2_000),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_share_reads_back_as_the_leader_had_it() {
        let state: QueueState = json::from_str(STATE).expect("decodes");
        // The leader's clock is 60 s behind the server's.
        let skew = ClockSkew::measure(Some(1_000_000), 940_000.0);
        let text = share(
            4_000_000_001,
            ConnectionStatus::Polling,
            Some(TransportKind::Poll),
            heard(),
            skew,
            950_000.0,
            Some(&state),
        );
        let (kind, message) = Message::read(&text).expect("a message");
        assert_eq!(kind, Kind::Share(4_000_000_001));
        let expected = QueueState {
            server_time: Some(1_010_000),
            ..state
        };
        assert_eq!(
            message.shown(),
            Some(Shown {
                status: ConnectionStatus::Polling,
                transport: Some(TransportKind::Poll),
                heard: heard(),
                state: Some(expected),
            }),
            "the state, its clock the server's now"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_leader_without_a_state_or_a_clock_shares_none() {
        let text = share(
            1,
            ConnectionStatus::Connecting,
            None,
            Heard::default(),
            ClockSkew::default(),
            5.0,
            None,
        );
        let shown = Message::read(&text).and_then(|(_, m)| m.shown());
        assert_eq!(
            shown.map(|s| (s.status, s.transport, s.state)),
            Some((ConnectionStatus::Connecting, None, None))
        );
        let state: QueueState = json::from_str(STATE).expect("decodes");
        let unmeasured = share(
            1,
            ConnectionStatus::Live,
            None,
            heard(),
            ClockSkew::default(),
            5.0,
            Some(&state),
        );
        let shown = Message::read(&unmeasured).and_then(|(_, m)| m.shown());
        assert_eq!(
            shown.and_then(|s| s.state).map(|s| s.server_time),
            Some(None),
            "no clock to pass on"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn asks_and_strangers_on_the_channel_are_told_apart() {
        assert_eq!(Message::read(ASK).map(|(k, _)| k), Some(Kind::Ask));
        assert_eq!(Message::read(RETRY).map(|(k, _)| k), Some(Kind::Retry));
        for stranger in ["hello", "2", r#"{"tab":9}"#, r#"{"tab":2}"#, "[0]"] {
            assert!(Message::read(stranger).is_none(), "{stranger}");
        }
    }
}
