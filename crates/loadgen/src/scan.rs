//! Finding `"available":N` in a byte stream that arrives in arbitrary pieces.
//!
//! Readers do not parse SSE or JSON: the server writes compact JSON, and every frame that
//! carries stock (the first state, each `stock_update`, a resync snapshot) holds exactly one
//! `"available":N`. A byte-at-a-time matcher needs no buffer and no copy, and a marker or
//! number split across two reads (or two TCP segments, or HTTP chunks) is still found.

/// What the matcher looks for before the digits.
pub const MARKER: &[u8] = br#""available":"#;

/// Where the matcher is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes of [`MARKER`] matched.
    Marker(usize),
    /// After a whole marker: the digits read so far.
    Digits { value: u64, len: usize },
}

/// A matcher for [`MARKER`] followed by decimal digits, fed any number of pieces.
#[derive(Debug, Clone)]
pub struct AvailableScanner {
    state: State,
}

impl Default for AvailableScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl AvailableScanner {
    /// A matcher at the start of a stream.
    pub fn new() -> Self {
        Self {
            state: State::Marker(0),
        }
    }

    /// Feeds the next piece, calling `found` with every complete number in it. A number
    /// still being read at the end of the piece is completed by the next one (a number
    /// ends at its first non-digit, which in JSON is always there: `,` or `}`).
    pub fn feed(&mut self, bytes: &[u8], mut found: impl FnMut(u64)) {
        for &b in bytes {
            if let State::Digits { value, len } = self.state {
                if b.is_ascii_digit() {
                    self.state = State::Digits {
                        value: value.saturating_mul(10).saturating_add(u64::from(b - b'0')),
                        len: len + 1,
                    };
                    continue;
                }
                // A marker followed by no digit at all (`"available":null`) is no number.
                if len > 0 {
                    found(value);
                }
                self.state = State::Marker(0);
            }
            let State::Marker(matched) = self.state else {
                continue;
            };
            let matched = if b == MARKER[matched] {
                matched + 1
            } else {
                restart(matched, b)
            };
            self.state = if matched == MARKER.len() {
                State::Digits { value: 0, len: 0 }
            } else {
                State::Marker(matched)
            };
        }
    }
}

/// After `matched` bytes of the marker and then a mismatching `b`: how many bytes of the
/// marker the text now ends with (the longest prefix of the marker that is a suffix of
/// `MARKER[..matched] + b`). Almost every byte of a stream lands here with `matched == 0`.
fn restart(matched: usize, b: u8) -> usize {
    if matched == 0 {
        return usize::from(b == MARKER[0]);
    }
    (1..=matched)
        .rev()
        .find(|&k| MARKER[k - 1] == b && MARKER[..k - 1] == MARKER[matched + 1 - k..matched])
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_pieces(pieces: &[&[u8]]) -> Vec<u64> {
        let mut scanner = AvailableScanner::new();
        let mut out = Vec::new();
        for piece in pieces {
            scanner.feed(piece, |v| out.push(v));
        }
        out
    }

    const SSE_FRAME: &[u8] =
        b"id: 7:3\nevent: stock_update\ndata: {\"available\":1000042,\"total\":1000042}\n\n";

    #[test]
    fn finds_the_value_of_an_sse_stock_update() {
        assert_eq!(scan_pieces(&[SSE_FRAME]), vec![1_000_042]);
    }

    #[test]
    fn finds_the_value_of_a_websocket_stock_update() {
        let msg =
            br#"{"type":"stock_update","data":{"available":17,"total":20},"epoch":7,"seq":3}"#;
        assert_eq!(scan_pieces(&[msg]), vec![17]);
    }

    #[test]
    fn a_frame_split_at_every_byte_gives_the_same_value() {
        for cut in 0..=SSE_FRAME.len() {
            let (a, b) = SSE_FRAME.split_at(cut);
            assert_eq!(scan_pieces(&[a, b]), vec![1_000_042], "split at byte {cut}");
        }
        let bytes: Vec<&[u8]> = SSE_FRAME.chunks(1).collect();
        assert_eq!(scan_pieces(&bytes), vec![1_000_042], "one byte per read");
    }

    #[test]
    fn several_frames_in_one_read_give_every_value_in_order() {
        let stream = [
            SSE_FRAME,
            b"\r\n4c\r\n",
            SSE_FRAME,
            b"data: {\"available\":5,\"total\":9}\n\n",
        ]
        .concat();
        assert_eq!(scan_pieces(&[&stream]), vec![1_000_042, 1_000_042, 5]);
    }

    #[test]
    fn near_misses_are_not_values() {
        let text =
            br#"{"availablex":1,"available" :2,"available":null,"unavailable":3,""available":4}"#;
        // `"unavailable":3` has no quote right before `available`; `""available":4` does.
        assert_eq!(scan_pieces(&[text]), vec![4]);
    }

    #[test]
    fn a_number_still_open_at_the_end_is_completed_by_the_next_piece() {
        assert_eq!(
            scan_pieces(&[b"{\"available\":12", b"34,\"total\":1}"]),
            vec![1234]
        );
        assert_eq!(
            scan_pieces(&[b"{\"available\":12"]),
            Vec::<u64>::new(),
            "not yet known to be complete"
        );
    }
}
