//! Just enough of the Redis protocol (RESP2) to ask the guide's Redis how many clients and
//! subscribers it holds: one command per connection, its reply read whole.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::{Error, Result};

/// Longest wait for one command's reply.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Simple(String),
    /// `-ERR …`.
    Error(String),
    /// `:42`.
    Int(i64),
    /// `$n …` (`None` for `$-1`).
    Bulk(Option<Vec<u8>>),
    /// `*n …` (`None` for `*-1`).
    Array(Option<Vec<Reply>>),
}

/// `args` as a RESP array of bulk strings.
pub fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The line at the start of `buf` (without its CRLF) and the bytes it took, once whole.
fn line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    Some((&buf[..end], end + 2))
}

fn number(text: &[u8]) -> std::result::Result<i64, String> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad length or integer {:?}", String::from_utf8_lossy(text)))
}

/// The first reply in `buf` and the bytes it took: `Ok(None)` while it is incomplete.
pub fn parse(buf: &[u8]) -> std::result::Result<Option<(Reply, usize)>, String> {
    let Some((head, used)) = line(buf) else {
        return Ok(None);
    };
    let Some((&kind, rest)) = head.split_first() else {
        return Err("empty reply line".into());
    };
    let text = || String::from_utf8_lossy(rest).into_owned();
    match kind {
        b'+' => Ok(Some((Reply::Simple(text()), used))),
        b'-' => Ok(Some((Reply::Error(text()), used))),
        b':' => Ok(Some((Reply::Int(number(rest)?), used))),
        b'$' => {
            let Ok(len) = usize::try_from(number(rest)?) else {
                return Ok(Some((Reply::Bulk(None), used)));
            };
            if buf.len() < used + len + 2 {
                return Ok(None);
            }
            let body = buf[used..used + len].to_vec();
            Ok(Some((Reply::Bulk(Some(body)), used + len + 2)))
        }
        b'*' => {
            let Ok(count) = usize::try_from(number(rest)?) else {
                return Ok(Some((Reply::Array(None), used)));
            };
            let mut items = Vec::with_capacity(count.min(1024));
            let mut at = used;
            for _ in 0..count {
                let Some((item, took)) = parse(&buf[at..])? else {
                    return Ok(None);
                };
                items.push(item);
                at += took;
            }
            Ok(Some((Reply::Array(Some(items)), at)))
        }
        other => Err(format!("unknown reply type {:?}", char::from(other))),
    }
}

/// Sends `args` to the Redis at `addr` on a connection of its own and returns the reply.
pub async fn call(addr: SocketAddr, args: &[&str]) -> Result<Reply> {
    let what = || format!("redis {} on {addr}", args.join(" "));
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(&encode(args)).await?;
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "closed before the reply",
                ));
            }
            buf.extend_from_slice(&chunk[..n]);
            match parse(&buf) {
                Ok(Some((reply, _))) => return Ok(reply),
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            }
        }
    };
    match timeout(CALL_TIMEOUT, exchange).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) => Err(Error::io(what(), e)),
        Err(_) => Err(Error::Setup(format!(
            "{}: no reply in {CALL_TIMEOUT:?}",
            what()
        ))),
    }
}

/// Whether the Redis at `addr` answers `PING`.
pub async fn ping(addr: SocketAddr) -> bool {
    matches!(call(addr, &["PING"]).await, Ok(Reply::Simple(s)) if s == "PONG")
}

/// The value of `field` in an `INFO` text (`field:value` lines).
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        l.strip_prefix(field)?
            .strip_prefix(':')
            .map(|v| v.trim_end_matches('\r'))
    })
}

/// `INFO section` as text.
pub async fn info(addr: SocketAddr, section: &str) -> Result<String> {
    match call(addr, &["INFO", section]).await? {
        Reply::Bulk(Some(bytes)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        other => Err(Error::Setup(format!("INFO {section}: {other:?}"))),
    }
}

/// Clients connected to Redis now (this call's own connection not counted).
pub async fn connected_clients(addr: SocketAddr) -> Result<u64> {
    let text = info(addr, "clients").await?;
    let n: u64 = info_field(&text, "connected_clients")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::Setup("INFO clients has no connected_clients".into()))?;
    Ok(n.saturating_sub(1))
}

/// Subscribers of `channel` (`PUBSUB NUMSUB`; pattern subscribers are not counted).
pub async fn subscribers(addr: SocketAddr, channel: &str) -> Result<u64> {
    match call(addr, &["PUBSUB", "NUMSUB", channel]).await? {
        Reply::Array(Some(items)) => match items.as_slice() {
            [_, Reply::Int(n)] => Ok(u64::try_from(*n).unwrap_or(0)),
            other => Err(Error::Setup(format!("PUBSUB NUMSUB: {other:?}"))),
        },
        other => Err(Error::Setup(format!("PUBSUB NUMSUB: {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            encode(&["PUBSUB", "NUMSUB", "q:1"]),
            b"*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$3\r\nq:1\r\n".to_vec()
        );
    }

    #[test]
    fn replies_parse_whole_or_wait_for_more() {
        let numsub = b"*2\r\n$3\r\nq:1\r\n:5000\r\n";
        assert_eq!(
            parse(numsub).unwrap(),
            Some((
                Reply::Array(Some(vec![
                    Reply::Bulk(Some(b"q:1".to_vec())),
                    Reply::Int(5000)
                ])),
                numsub.len()
            ))
        );
        for cut in 0..numsub.len() {
            assert_eq!(parse(&numsub[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(
            parse(b"+PONG\r\n").unwrap(),
            Some((Reply::Simple("PONG".into()), 7))
        );
        assert_eq!(
            parse(b"$-1\r\n").unwrap(),
            Some((Reply::Bulk(None), 5)),
            "a nil bulk string"
        );
        assert!(parse(b"?x\r\n").is_err());
    }

    #[test]
    fn info_fields_are_read_by_name() {
        let text = "# Clients\r\nconnected_clients:5003\r\nblocked_clients:0\r\n";
        assert_eq!(info_field(text, "connected_clients"), Some("5003"));
        assert_eq!(info_field(text, "connected"), None, "whole names only");
    }
}
