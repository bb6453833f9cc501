//! The widget feed's decisions, as one state machine around the [`Supervisor`].
//!
//! The [`Supervisor`] chooses transports and backoff delays. [`FeedMachine`] adds everything
//! else a feed decides, so that the widget's controller only performs I/O:
//!
//! - **Joining**: a failed join is retried with backoff when it may pass, else given up.
//! - **Re-joining**: when the server refuses the widget's *own* credentials
//!   ([`Reconnect::Rejoin`](crate::Reconnect::Rejoin)), they are forgotten and a fresh place
//!   is joined, at most [`FeedConfig::max_rejoins`] times in a row without a delivery (no
//!   refusal loop). Credentials given by the host page are the host's to renew: they are
//!   never replaced.
//! - **First delivery counts as opened**: a transport is healthy once it delivered something
//!   (a message, a pong, a heartbeat), not when its socket opened.
//! - **Silence**: an SSE stream that has shown it sends named `heartbeat` events or event
//!   ids (our server's) is dead after [`FeedConfig::silence_ms`] without anything, or a third
//!   of that on a wake-up. A stream that never did (a guide-style server that sends its
//!   heartbeats as `:` comments, which `EventSource` never surfaces) is never dropped for
//!   silence: the browser's own error reporting still applies to it.
//! - **Upgrade probe**: on a fallback, the preferred transport is probed every
//!   [`FeedConfig::upgrade_every_ms`] ±20 %; the first message of the probe makes it the feed.
//! - **Batching**: messages are applied in one batch per animation frame, or after
//!   [`FeedConfig::batch_fallback_ms`] (a hidden tab gets no frames).
//! - **Resync**: a gap asks the transport for the full state, or reopens an SSE stream (which
//!   starts with it) after [`FeedConfig::resync_delay_ms`].
//!
//! The shell feeds [`Event`]s and performs the [`Command`]s returned, in order. Time comes in
//! as milliseconds of the local clock and randomness as a jitter in `[0, 1)`, so every rule
//! is tested natively.

mod events;

pub use events::{Command, Delivery, Event, GiveUp};

use crate::backoff::{Backoff, RetryHint};
use crate::reducer::FeedMessage;
use crate::supervisor::{
    self, ConnectionStatus, Failure, Supervisor, SupervisorConfig, TransportKind,
};

/// The feed's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// Transport choice and backoff (also used between join attempts).
    pub supervisor: SupervisorConfig,
    /// The credentials come from the host page (`?consumerId=`): never replace them.
    pub host_identity: bool,
    /// Joins in a row after refused credentials, without a delivery, before giving up.
    /// Default 2.
    pub max_rejoins: u32,
    /// A proven SSE stream silent this long is dead: three missed 15 s heartbeats. Default
    /// 45 s.
    pub silence_ms: u64,
    /// How often a feed on a fallback probes the preferred transport (±20 %). Default 60 s.
    pub upgrade_every_ms: u64,
    /// Longest wait for an animation frame before a batch is applied anyway. Default 250 ms.
    pub batch_fallback_ms: u64,
    /// Delay before reopening a stream to resync: short, but no tight loop. Default 250 ms.
    pub resync_delay_ms: u64,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            supervisor: SupervisorConfig::default(),
            host_identity: false,
            max_rejoins: 2,
            silence_ms: 45_000,
            upgrade_every_ms: 60_000,
            batch_fallback_ms: 250,
            resync_delay_ms: 250,
        }
    }
}

/// What the machine knows of the current transport.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stream {
    /// It delivered something since it was opened (the first delivery counts as opened).
    delivered: bool,
    /// When it last showed any sign of life (local ms).
    last_seen_ms: u64,
    /// It sent a named heartbeat or an event id: silence on it means it is dead.
    proven: bool,
    /// It dropped and is reconnecting by itself (shown as `Reconnecting`).
    interrupted: bool,
}

impl Stream {
    fn new(now_ms: u64) -> Self {
        Self {
            delivered: false,
            last_seen_ms: now_ms,
            proven: false,
            interrupted: false,
        }
    }
}

/// Where the upgrade probe stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// No probe and no timer.
    Idle,
    /// The timer is set to probe this transport.
    Waiting(TransportKind),
    /// The probe of this transport is open.
    Open(TransportKind),
}

/// Where joining stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joining {
    /// The feed has credentials.
    Done,
    /// A join is under way or waiting to be retried.
    Trying,
    /// Joining failed for good (until [`Event::Reconnect`]).
    GaveUp,
}

/// The feed's state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMachine {
    /// Settings.
    config: FeedConfig,
    /// Transport choice and reconnect backoff.
    supervisor: Supervisor,
    /// Where joining stands.
    joining: Joining,
    /// Delays between failed joins (never reset: a server refusing joins stays suspect).
    join_backoff: Backoff,
    /// Joins after a refusal since the last delivery (bounded, against a refusal loop).
    rejoins: u32,
    /// The current transport, from [`Event::Connecting`] to its failure.
    stream: Option<Stream>,
    /// The upgrade probe.
    probe: Probe,
    /// Messages waiting for the next flush.
    batch: Vec<FeedMessage>,
    /// A flush is scheduled.
    flush_pending: bool,
    /// A problem is shown to the shopper (so a later give-up does not replace its reason).
    problem_shown: bool,
}

impl FeedMachine {
    /// A machine about to start.
    pub fn new(config: FeedConfig) -> Self {
        Self {
            supervisor: Supervisor::new(config.supervisor.clone()),
            join_backoff: Backoff::new(config.supervisor.backoff),
            config,
            joining: Joining::Done,
            rejoins: 0,
            stream: None,
            probe: Probe::Idle,
            batch: Vec::new(),
            flush_pending: false,
            problem_shown: false,
        }
    }

    /// The status to show.
    pub fn status(&self) -> ConnectionStatus {
        match self.joining {
            Joining::Trying => ConnectionStatus::Connecting,
            Joining::GaveUp => ConnectionStatus::Failed,
            Joining::Done if self.stream.is_some_and(|s| s.interrupted) => {
                ConnectionStatus::Reconnecting
            }
            Joining::Done => self.supervisor.status(),
        }
    }

    /// The transport in use (or being opened).
    pub fn transport(&self) -> TransportKind {
        self.supervisor.current()
    }

    /// Failures since the last open.
    pub fn attempts(&self) -> u32 {
        self.supervisor.attempts()
    }

    /// Joins after a refusal since the last delivery.
    pub fn rejoins(&self) -> u32 {
        self.rejoins
    }

    /// Handles one event; `jitter` is uniform in `[0, 1)`. Returns what to do, in order.
    pub fn handle(&mut self, event: Event, jitter: f64) -> Vec<Command> {
        let mut out = Vec::new();
        let was_failed = self.status() == ConnectionStatus::Failed;
        match event {
            Event::Start {
                credentials: true,
                online,
            } => self.begin(online, false, &mut out),
            Event::Start {
                credentials: false, ..
            } => self.join(0, &mut out),
            Event::Joined { state, online } => {
                self.enqueue(FeedMessage::Snapshot(*state), &mut out);
                self.begin(online, true, &mut out);
            }
            Event::JoinFailed { transient } => {
                // The shell shows the join's own problem.
                self.problem_shown = true;
                let delay = transient
                    .then(|| self.join_backoff.fail(RetryHint::None, jitter))
                    .flatten();
                match delay {
                    Some(after_ms) => out.push(Command::Join { after_ms }),
                    None => self.joining = Joining::GaveUp,
                }
            }
            Event::Connecting { now_ms } => self.stream = Some(Stream::new(now_ms)),
            Event::Opened { now_ms } | Event::Garbled { now_ms } => {
                if let Some(stream) = self.stream.as_mut() {
                    stream.last_seen_ms = now_ms;
                }
            }
            Event::Delivered { delivery, now_ms } => self.delivered(delivery, now_ms, &mut out),
            Event::Interrupted => {
                if let Some(stream) = self.stream.as_mut() {
                    stream.interrupted = true;
                }
            }
            Event::Failed(failure) => self.failed(failure, jitter, &mut out),
            Event::ProbeDue => {
                let Probe::Waiting(target) = self.probe else {
                    return out;
                };
                if self.supervisor.upgrade_target() == Some(target) {
                    self.probe = Probe::Open(target);
                    out.push(Command::OpenProbe { kind: target });
                } else {
                    self.probe = Probe::Idle;
                }
            }
            Event::ProbeDelivered { message, now_ms } => {
                if !matches!(self.probe, Probe::Open(_)) {
                    return out;
                }
                self.probe = Probe::Idle;
                let delivery = Delivery::Message(message);
                self.stream = Some(Stream {
                    delivered: true,
                    last_seen_ms: now_ms,
                    proven: delivery.proves_heartbeats(),
                    interrupted: false,
                });
                self.supervisor.handle(supervisor::Event::Upgraded, jitter);
                out.push(Command::Promote);
                if let Delivery::Message(message) = delivery {
                    self.enqueue(message, &mut out);
                }
            }
            Event::ProbeFailed => {
                if self.probe != Probe::Idle {
                    self.probe = Probe::Idle;
                    out.push(Command::DropProbe);
                }
            }
            Event::FlushDue => {
                self.flush_pending = false;
                if !self.batch.is_empty() {
                    out.push(Command::Apply(std::mem::take(&mut self.batch)));
                }
            }
            Event::ResyncNeeded { refreshable } => {
                if self.stream.is_none() {
                    return out;
                }
                if refreshable {
                    out.push(Command::Refresh);
                } else {
                    self.stream = None;
                    out.push(Command::Open {
                        kind: self.supervisor.current(),
                        after_ms: self.config.resync_delay_ms,
                        resume: false,
                    });
                }
            }
            Event::Tick { now_ms, woke } => self.tick(now_ms, woke, jitter, &mut out),
            Event::Offline => self.supervise(supervisor::Event::Offline, jitter, &mut out),
            Event::Online => self.supervise(supervisor::Event::Online, jitter, &mut out),
            Event::Reconnect => {
                if self.joining != Joining::Done {
                    self.join(0, &mut out);
                } else {
                    self.recovered(&mut out);
                    self.supervise(supervisor::Event::Reconnect, jitter, &mut out);
                }
            }
        }
        if !was_failed && self.status() == ConnectionStatus::Failed && !self.problem_shown {
            self.problem_shown = true;
            out.push(Command::GiveUp(GiveUp::Lost));
        }
        self.schedule_probe(jitter, &mut out);
        out
    }

    fn join(&mut self, after_ms: u64, out: &mut Vec<Command>) {
        self.joining = Joining::Trying;
        out.push(Command::Join { after_ms });
    }

    /// Credentials are at hand: start the current transport (offline: wait for `online`).
    fn begin(&mut self, online: bool, joined: bool, out: &mut Vec<Command>) {
        self.joining = Joining::Done;
        if joined {
            self.recovered(out);
        }
        if !online {
            return self.supervise(supervisor::Event::Offline, 0.0, out);
        }
        let start = self.supervisor.start();
        self.run(start, out);
    }

    fn recovered(&mut self, out: &mut Vec<Command>) {
        self.problem_shown = false;
        out.push(Command::Recovered);
    }

    fn delivered(&mut self, delivery: Delivery, now_ms: u64, out: &mut Vec<Command>) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        stream.last_seen_ms = now_ms;
        stream.proven |= delivery.proves_heartbeats();
        stream.interrupted = false;
        let first = !stream.delivered;
        stream.delivered = true;
        self.rejoins = 0;
        if first {
            self.recovered(out);
            self.supervise(supervisor::Event::Opened, 0.0, out);
        }
        if let Delivery::Message(message) = delivery {
            self.enqueue(message, out);
        }
    }

    fn enqueue(&mut self, message: FeedMessage, out: &mut Vec<Command>) {
        self.batch.push(message);
        if !self.flush_pending {
            self.flush_pending = true;
            out.push(Command::ScheduleFlush {
                fallback_ms: self.config.batch_fallback_ms,
            });
        }
    }

    fn failed(&mut self, failure: Failure, jitter: f64, out: &mut Vec<Command>) {
        self.stream = None;
        if failure.refuses_credentials()
            && !self.config.host_identity
            && self.rejoins < self.config.max_rejoins
        {
            // Our own credentials refused: expired, or signed with a secret the server no
            // longer has (a restart without a fixed secret). A new place beats a dead end.
            // (A transient failure keeps them: the server may just be restarting.)
            self.rejoins += 1;
            if self.probe != Probe::Idle {
                // The probe carries the refused credentials too.
                self.probe = Probe::Idle;
                out.push(Command::DropProbe);
            }
            out.push(Command::Rejoin);
            return self.join(0, out);
        }
        if failure.is_permanent() {
            self.problem_shown = true;
            out.push(Command::GiveUp(GiveUp::Refused));
        }
        self.supervise(supervisor::Event::Failed(failure), jitter, out);
    }

    fn tick(&mut self, now_ms: u64, woke: bool, jitter: f64, out: &mut Vec<Command>) {
        let Some(stream) = self.stream else {
            return;
        };
        if self.supervisor.current() != TransportKind::Sse {
            if woke {
                out.push(Command::CheckLiveness);
            }
            return;
        }
        // A quiet stream gets a heartbeat every 15 s: waking after a third of the dead limit
        // without one means the stream did not survive the sleep.
        let limit = if woke {
            self.config.silence_ms / 3
        } else {
            self.config.silence_ms
        };
        if stream.proven && now_ms.saturating_sub(stream.last_seen_ms) > limit {
            out.push(Command::Silent);
            self.failed(Failure::TRANSIENT, jitter, out);
        }
    }

    fn supervise(&mut self, event: supervisor::Event, jitter: f64, out: &mut Vec<Command>) {
        let command = self.supervisor.handle(event, jitter);
        self.run(command, out);
    }

    fn run(&mut self, command: supervisor::Command, out: &mut Vec<Command>) {
        match command {
            supervisor::Command::Keep => return,
            supervisor::Command::Stop => out.push(Command::Close),
            supervisor::Command::Open { kind, after_ms } => out.push(Command::Open {
                kind,
                after_ms,
                resume: true,
            }),
        }
        self.stream = None;
        if self.probe != Probe::Idle {
            self.probe = Probe::Idle;
            out.push(Command::DropProbe);
        }
    }

    /// On a healthy fallback with no probe under way: set the probe timer.
    fn schedule_probe(&mut self, jitter: f64, out: &mut Vec<Command>) {
        if self.probe != Probe::Idle || self.joining != Joining::Done {
            return;
        }
        let Some(target) = self.supervisor.upgrade_target() else {
            return;
        };
        self.probe = Probe::Waiting(target);
        let every = self.config.upgrade_every_ms as f64;
        out.push(Command::Probe {
            after_ms: (every * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as u64,
        });
    }
}

#[cfg(test)]
mod tests;
