//! The vocabulary of the [`FeedMachine`](super::FeedMachine): what the shell reports
//! ([`Event`], [`Delivery`]) and what it is told to do ([`Command`], [`GiveUp`]).

use crate::reducer::FeedMessage;
use crate::state::QueueState;
use crate::supervisor::{Failure, TransportKind};

/// What a transport delivered.
// One value per message, moved once into the machine: boxing the message would cost an
// allocation per message on the widget's hot path to save a copy of a few hundred bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A message for the reducer.
    Message(FeedMessage),
    /// A named heartbeat (SSE `event: heartbeat`; the shell reads its clock).
    Heartbeat,
    /// Proof of life without news (a pong, a `304`).
    Alive,
}

impl Delivery {
    /// Whether it shows that the stream sends named heartbeats or ids, so that silence on it
    /// means death.
    pub(super) fn proves_heartbeats(&self) -> bool {
        match self {
            Delivery::Heartbeat => true,
            Delivery::Message(FeedMessage::Event { cursor, .. }) => cursor.is_some(),
            Delivery::Message(FeedMessage::Snapshot(_)) | Delivery::Alive => false,
        }
    }
}

/// What happened.
// As for `Delivery`: one value per message, handled at once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The feed starts. `credentials`: it already has some (the host page's, or the tab's
    /// saved place); otherwise it joins. `online`: what the browser believes.
    Start {
        /// Credentials are at hand.
        credentials: bool,
        /// The browser is online.
        online: bool,
    },
    /// A join succeeded: the feed has credentials and the first state.
    Joined {
        /// The state the join answered with.
        state: Box<QueueState>,
        /// The browser is online.
        online: bool,
    },
    /// A join failed; `transient`: the same request may succeed later.
    JoinFailed {
        /// Trying again may help.
        transient: bool,
    },
    /// The shell opened the transport a [`Command::Open`] asked for.
    Connecting {
        /// Local clock, ms.
        now_ms: u64,
    },
    /// The current transport's connection opened (nothing delivered yet).
    Opened {
        /// Local clock, ms.
        now_ms: u64,
    },
    /// The current transport delivered something.
    Delivered {
        /// What it was.
        delivery: Delivery,
        /// Local clock, ms.
        now_ms: u64,
    },
    /// The current transport sent something unreadable: it is alive, nothing more.
    Garbled {
        /// Local clock, ms.
        now_ms: u64,
    },
    /// The current transport dropped and reconnects by itself (an `EventSource`).
    Interrupted,
    /// The current transport failed (or could not be opened).
    Failed(Failure),
    /// The probe timer of a [`Command::Probe`] fired.
    ProbeDue,
    /// The probe delivered its first message: it becomes the feed.
    ProbeDelivered {
        /// The message.
        message: FeedMessage,
        /// Local clock, ms.
        now_ms: u64,
    },
    /// The probe failed, or could not be opened.
    ProbeFailed,
    /// The frame or fallback timer of a [`Command::ScheduleFlush`] fired.
    FlushDue,
    /// The reducer asked for the full state. `refreshable`: the current transport can fetch
    /// it over the same connection (WebSocket, polling).
    ResyncNeeded {
        /// The transport can refresh in place.
        refreshable: bool,
    },
    /// A periodic check (`woke: false`) or the page coming back: visible again, restored,
    /// or a timer that fired far too late after a sleep (`woke: true`).
    Tick {
        /// Local clock, ms.
        now_ms: u64,
        /// The page just came back.
        woke: bool,
    },
    /// The browser went offline.
    Offline,
    /// The browser is online again.
    Online,
    /// The shopper (or the host page) asked to start again.
    Reconnect,
}

/// Why the feed stopped, for the shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The server refused the shopper's credentials for good.
    Refused,
    /// Every attempt failed.
    Lost,
}

/// What to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ask for a new place after `after_ms` (replacing a join timer already set).
    Join {
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// The credentials were refused: forget them and the shopper's state (another shopper id
    /// follows; the old state must not mix with the new one). A [`Command::Join`] follows.
    Rejoin,
    /// Close the current transport and open `kind` after `after_ms`. `resume`: an SSE stream
    /// continues from the state's cursor instead of starting with a snapshot.
    Open {
        /// The transport.
        kind: TransportKind,
        /// Delay in milliseconds.
        after_ms: u64,
        /// Resume from the cursor.
        resume: bool,
    },
    /// Close the current transport and any pending open: no attempts until told.
    Close,
    /// The current SSE stream went silent (logged; an [`Command::Open`] follows).
    Silent,
    /// Ping a WebSocket or poll now: the page woke and the connection may be a zombie.
    CheckLiveness,
    /// Ask the current transport for the full state over the same connection.
    Refresh,
    /// Set the probe timer: [`Event::ProbeDue`] after `after_ms`.
    Probe {
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// Open the probe of `kind` beside the current transport.
    OpenProbe {
        /// The preferred transport.
        kind: TransportKind,
    },
    /// The probe becomes the current transport (the old one is closed).
    Promote,
    /// Close the probe and its timer.
    DropProbe,
    /// Set the frame and fallback timers of a batch: [`Event::FlushDue`] at the first.
    ScheduleFlush {
        /// The fallback timer's delay, in milliseconds.
        fallback_ms: u64,
    },
    /// Apply these messages, in order, with one signal update.
    Apply(Vec<FeedMessage>),
    /// The feed works: clear the problem shown to the shopper.
    Recovered,
    /// The feed stopped: tell the shopper why.
    GiveUp(GiveUp),
}
