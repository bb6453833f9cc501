//! What a node reads from Redis to serve its own connections: an experience's state at
//! one instant ([`Mirrored`], `lua/mirror.lua`), and the feed of what changes after it:
//! the broadcasts of the event log and the notes (`lua/common.lua` `note`), read for every
//! experience at once by one blocking `XREAD` on one connection ([`read_feed`]).
//!
//! Why streams and not pub/sub: a stream keeps what was written while a node was away (a
//! Redis outage, a slow read), so the node continues from the last id it read and nothing
//! between is lost; pub/sub would drop it. The entry ids are consecutive (`seq-0` for
//! broadcasts, `n-0` for notes), so a node also knows when the cap trimmed some before it
//! read them, and reloads instead of guessing.

use std::collections::HashMap;

use livequeue_protocol::api::ConnectionCounts;
use livequeue_protocol::{AdmissionStatus, Cursor, ExperienceStatus, ServerEvent, Stock};
use redis::Value;
use redis::aio::ConnectionManager;
use redis::streams::StreamReadReply;

use super::scripts::SCRIPTS;
use super::{RedisQueue, RedisQueueError, parse_status};
use crate::engine::core::QueueError;

/// One experience's state at one instant, as a node mirrors it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mirrored {
    /// The cursor of the last broadcast.
    pub cursor: Cursor,
    /// Stock now.
    pub stock: Stock,
    /// Open, paused or closed.
    pub status: ExperienceStatus,
    /// Display name.
    pub name: String,
    /// The operator's admissions per minute.
    pub rate_per_minute: f64,
    /// Where admitted shoppers check out.
    pub checkout_url: String,
    /// Tickets below this were admitted or left before their turn.
    pub head: u64,
    /// The last note written (the feed continues after it).
    pub notes: u64,
    /// Shoppers waiting.
    pub waiting: u64,
    /// Shoppers admitted in all.
    pub admitted: u64,
    /// Grants not yet reported ended (active, or ended by time and not yet reported).
    pub active: u64,
    /// Grants redeemed.
    pub redeemed: u64,
    /// Grants ended unused.
    pub expired: u64,
    /// Tickets at or after `head` whose shopper left, sorted; empty unless asked for.
    pub departed: Vec<u64>,
}

impl RedisQueue {
    /// The experience's state now; `with_departed` also reads the departed tickets (the
    /// operator's figures do not need them).
    pub async fn mirror(&self, with_departed: bool) -> Result<Mirrored, QueueError> {
        let flag = if with_departed { "1" } else { "0" };
        let (tag, mut r) = self.call("mirror", &SCRIPTS.mirror, &[flag]).await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &r));
        }
        let cursor = Cursor {
            epoch: r.u64("epoch")?,
            seq: r.u64("seq")?,
        };
        let stock = Stock {
            available: r.u64("available")?,
            total: r.u64("total")?,
        };
        let status = parse_status(&mut r)?;
        let name = r.string("name")?;
        let rate = r.string("rate")?;
        let rate_per_minute = rate.parse().map_err(|_| r.bad_value("rate", &rate))?;
        let mut mirrored = Mirrored {
            cursor,
            stock,
            status,
            name,
            rate_per_minute,
            checkout_url: r.string("checkout")?,
            head: r.u64("head")?,
            notes: r.u64("notes")?,
            waiting: r.u64("waiting")?,
            admitted: r.u64("admitted")?,
            active: r.u64("active")?,
            redeemed: r.u64("redeemed")?,
            expired: r.u64("expired")?,
            departed: Vec::new(),
        };
        while !r.is_empty() {
            mirrored.departed.push(r.u64("departed ticket")?);
        }
        Ok(mirrored)
    }
}

/// A page of the waiting line (`lua/page.lua`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Shoppers waiting.
    pub waiting: u64,
    /// Shoppers admitted in all: with a row's index, it names the row's place for good.
    pub admitted: u64,
    /// Consumer and when they joined (ms since the Unix epoch), from the page's offset.
    pub rows: Vec<(String, u64)>,
}

impl RedisQueue {
    /// `limit` rows of the waiting line from `offset` (0-based).
    pub async fn page(&self, offset: u64, limit: u64) -> Result<Page, QueueError> {
        let (offset, limit) = (offset.to_string(), limit.max(1).to_string());
        let (tag, mut r) = self.call("page", &SCRIPTS.page, &[&offset, &limit]).await?;
        if tag != "ok" {
            return Err(self.refusal(&tag, &r));
        }
        let (waiting, admitted) = (r.u64("waiting")?, r.u64("admitted")?);
        let mut rows = Vec::new();
        while !r.is_empty() {
            rows.push((r.string("consumer")?, r.u64("joined_at")?));
        }
        Ok(Page {
            waiting,
            admitted,
            rows,
        })
    }
}

/// Where each node's count of open shopper connections is kept: a hash of node → `sse ws
/// at_ms`, refreshed by every node each tick, so any node can give the operator the
/// experience's total.
const CONNECTIONS: &str = "connections";

impl RedisQueue {
    /// Records `node`'s open connections of the experience at `now`.
    pub async fn report_connections(
        &self,
        node: &str,
        counts: ConnectionCounts,
        now: u64,
    ) -> Result<(), RedisQueueError> {
        let key = self.keys().named(CONNECTIONS);
        redis::pipe()
            .cmd("HSET")
            .arg(&key)
            .arg(node)
            .arg(format!("{} {} {now}", counts.sse, counts.websocket))
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(60_000)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Every node's open connections of the experience as last reported, leaving out
    /// `except` (the caller counts its own) and reports older than `fresh_ms` at `now`
    /// (a node that stopped reporting is gone).
    pub async fn connections(
        &self,
        except: &str,
        now: u64,
        fresh_ms: u64,
    ) -> Result<ConnectionCounts, RedisQueueError> {
        let all: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.keys().named(CONNECTIONS))
            .query_async(&mut self.conn.clone())
            .await?;
        let mut total = ConnectionCounts::default();
        for (node, report) in all {
            let mut parts = report.split(' ').map(|p| p.parse::<u64>().unwrap_or(0));
            let (sse, websocket, at) = (
                parts.next().unwrap_or(0),
                parts.next().unwrap_or(0),
                parts.next().unwrap_or(0),
            );
            if node != except && at + fresh_ms >= now {
                total.sse += sse;
                total.websocket += websocket;
            }
        }
        Ok(total)
    }
}

/// A change that is not a broadcast (`note` in `lua/common.lua`).
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A grant was issued or changed.
    Grant {
        /// The grant.
        grant: String,
        /// Whose.
        consumer: String,
        /// Active, redeemed or ended.
        status: AdmissionStatus,
        /// When it ends, in ms since the Unix epoch.
        expires_at: u64,
        /// Units reserved against it.
        reserved: u64,
    },
    /// Admissions moved the head of the line.
    Head {
        /// The new head.
        head: u64,
        /// How many were admitted.
        admitted: u64,
    },
    /// A waiting shopper left; their ticket joins the departed.
    Left {
        /// Their ticket.
        ticket: u64,
    },
    /// The operator changed the rate.
    Rate {
        /// Admissions per minute.
        per_minute: f64,
    },
}

/// What the feed read for one experience.
#[derive(Debug, Default)]
pub struct Read {
    /// Broadcasts, by seq, in order.
    pub events: Vec<(u64, Result<ServerEvent, String>)>,
    /// Notes, by number, in order (`Err`: a note that does not parse).
    pub notes: Vec<(u64, Result<Note, String>)>,
}

/// Where the feed of one experience stands: the last broadcast and note read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The last broadcast's seq.
    pub seq: u64,
    /// The last note's number.
    pub note: u64,
}

/// Waits up to `block_ms` for broadcasts or notes after `positions` (one experience each)
/// and returns what came, by experience. One command on `conn`, which must be a
/// connection of its own: a blocked read holds it.
pub async fn read_feed(
    conn: &mut ConnectionManager,
    positions: &[(&RedisQueue, Position)],
    block_ms: u64,
) -> Result<HashMap<String, Read>, RedisQueueError> {
    let mut cmd = redis::cmd("XREAD");
    cmd.arg("COUNT")
        .arg(2000)
        .arg("BLOCK")
        .arg(block_ms)
        .arg("STREAMS");
    let mut owner: HashMap<String, (&str, bool)> = HashMap::new();
    for (queue, _) in positions {
        let (events, notes) = (queue.keys().named("events"), queue.keys().named("notes"));
        owner.insert(events.clone(), (queue.id(), true));
        owner.insert(notes.clone(), (queue.id(), false));
        cmd.arg(events).arg(notes);
    }
    for (_, at) in positions {
        cmd.arg(format!("{}-0", at.seq))
            .arg(format!("{}-0", at.note));
    }
    let reply: Option<StreamReadReply> = cmd.query_async(conn).await?;
    let mut out: HashMap<String, Read> = HashMap::new();
    for stream in reply.map(|r| r.keys).unwrap_or_default() {
        let Some(&(experience, is_events)) = owner.get(&stream.key) else {
            continue;
        };
        let read = out.entry(experience.to_string()).or_default();
        for entry in stream.ids {
            let Some(n) = entry_number(&entry.id) else {
                continue;
            };
            if is_events {
                read.events.push((n, decode_event(&entry.map)));
            } else {
                read.notes.push((n, decode_note(&entry.map)));
            }
        }
    }
    Ok(out)
}

/// The `n` of an entry id `n-0`.
fn entry_number(id: &str) -> Option<u64> {
    id.strip_suffix("-0")?.parse().ok()
}

/// A field of an entry as text.
fn field<'a>(map: &'a HashMap<String, Value>, name: &str) -> Result<&'a str, String> {
    match map.get(name) {
        Some(Value::BulkString(bytes)) => {
            std::str::from_utf8(bytes).map_err(|_| format!("field `{name}` is not UTF-8"))
        }
        Some(Value::SimpleString(s)) => Ok(s),
        other => Err(format!("field `{name}` is {other:?}")),
    }
}

fn decode_event(map: &HashMap<String, Value>) -> Result<ServerEvent, String> {
    let (kind, data) = (field(map, "kind")?, field(map, "data")?);
    ServerEvent::decode(kind, data).map_err(|e| e.to_string())
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("the {what} `{text}` is not a number"))
}

fn decode_note(map: &HashMap<String, Value>) -> Result<Note, String> {
    let (a, b) = (field(map, "a")?, field(map, "b")?);
    match field(map, "k")? {
        "g" => parse_grant(a, b),
        "h" => Ok(Note::Head {
            head: number(a, "head")?,
            admitted: number(b, "admitted count")?,
        }),
        "l" => Ok(Note::Left {
            ticket: number(a, "ticket")?,
        }),
        "r" => Ok(Note::Rate {
            per_minute: number(a, "rate")?,
        }),
        other => Err(format!("unknown note kind `{other}`")),
    }
}

/// A grant note: the grant and its stored record `status expires_at extended reserved
/// consumer` (`grant_put` in `lua/common.lua`).
fn parse_grant(grant: &str, record: &str) -> Result<Note, String> {
    let mut parts = record.splitn(5, ' ');
    let mut next = |what: &str| {
        parts
            .next()
            .ok_or_else(|| format!("grant record `{record}` has no {what}"))
    };
    let status = match next("status")? {
        "active" => AdmissionStatus::Active,
        "redeemed" => AdmissionStatus::Redeemed,
        "expired" | "lapsed" => AdmissionStatus::Expired,
        other => return Err(format!("grant status `{other}`")),
    };
    let expires_at = number(next("expiry")?, "expiry")?;
    let _extended = next("extended flag")?;
    let reserved = number(next("reservation")?, "reservation")?;
    let consumer = next("consumer")?.to_string();
    Ok(Note::Grant {
        grant: grant.to_string(),
        consumer,
        status,
        expires_at,
        reserved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_record_reads_back_with_a_consumer_that_holds_spaces() {
        assert_eq!(
            parse_grant("g_1", "lapsed 1700 1 2 c with spaces"),
            Ok(Note::Grant {
                grant: "g_1".into(),
                consumer: "c with spaces".into(),
                status: AdmissionStatus::Expired,
                expires_at: 1700,
                reserved: 2,
            })
        );
        assert!(parse_grant("g_1", "active x 0 0 c").is_err());
        assert!(parse_grant("g_1", "gone 1 0 0 c").is_err());
    }

    #[test]
    fn entry_ids_are_their_numbers() {
        assert_eq!(entry_number("42-0"), Some(42));
        assert_eq!(entry_number("42-1"), None);
        assert_eq!(entry_number("x-0"), None);
    }
}
