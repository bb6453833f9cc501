//! WebSocket close codes of this protocol, and what a client does about each.
//!
//! Every close code is a value that carries its number, its reason text and the client's
//! reconnect rule, defined once here: the server closes with [`CloseCode::frame_parts`], the
//! widget's supervisor decides with [`CloseCode::reconnect`]. No bare close number appears
//! anywhere else.

use std::fmt;

/// What a client does after the server closed its socket with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reconnect {
    /// Reconnect after a short delay: the server is restarting and will be back at once.
    Soon,
    /// Reconnect with the usual backoff (a dropped connection, a ping timeout).
    Backoff,
    /// Reconnect, but wait longer than usual: the server is overloaded or the client fell
    /// behind.
    Later,
    /// The shopper's credentials were refused: a fresh place (a new join) may help, the same
    /// credentials never will.
    Rejoin,
    /// The request itself is wrong; retrying cannot help.
    Stop,
}

/// A WebSocket close code the server sends, or a standard one a client may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: a normal close (the client's own, or a server done with the stream).
    Normal,
    /// 1001: the peer stopped answering pings, or is going away.
    GoingAway,
    /// 1003: the client sent a binary frame.
    Unsupported,
    /// 1006: the connection dropped without a close frame (set by browsers, never sent).
    Abnormal,
    /// 1008: a policy violation.
    PolicyViolation,
    /// 1009: a client message larger than the server accepts.
    TooBig,
    /// 1011: the server hit an internal error.
    InternalError,
    /// 1012: the server is restarting.
    Restart,
    /// 1013: the server is overloaded; try again later.
    TryAgainLater,
    /// 4000: `experienceId`, `consumerId` or `token` missing or malformed.
    MissingParameters,
    /// 4001: the token is invalid or expired, or the server does not know the consumer.
    BadToken,
    /// 4004: no such experience.
    UnknownExperience,
    /// 4008: the client could not keep up with its updates.
    SlowConsumer,
}

impl CloseCode {
    /// Every code, in numeric order.
    pub const ALL: [CloseCode; 13] = [
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::Unsupported,
        CloseCode::Abnormal,
        CloseCode::PolicyViolation,
        CloseCode::TooBig,
        CloseCode::InternalError,
        CloseCode::Restart,
        CloseCode::TryAgainLater,
        CloseCode::MissingParameters,
        CloseCode::BadToken,
        CloseCode::UnknownExperience,
        CloseCode::SlowConsumer,
    ];

    /// The number on the wire.
    pub const fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::Unsupported => 1003,
            CloseCode::Abnormal => 1006,
            CloseCode::PolicyViolation => 1008,
            CloseCode::TooBig => 1009,
            CloseCode::InternalError => 1011,
            CloseCode::Restart => 1012,
            CloseCode::TryAgainLater => 1013,
            CloseCode::MissingParameters => 4000,
            CloseCode::BadToken => 4001,
            CloseCode::UnknownExperience => 4004,
            CloseCode::SlowConsumer => 4008,
        }
    }

    /// The reason text sent with the close frame (short: a close reason is at most 123 bytes).
    pub const fn reason(self) -> &'static str {
        match self {
            CloseCode::Normal => "closed",
            CloseCode::GoingAway => "no answer to ping",
            CloseCode::Unsupported => "binary frames are not supported",
            CloseCode::Abnormal => "connection dropped",
            CloseCode::PolicyViolation => "policy violation",
            CloseCode::TooBig => "message too big",
            CloseCode::InternalError => "internal error",
            CloseCode::Restart => "server restarting",
            CloseCode::TryAgainLater => "server busy, try again later",
            CloseCode::MissingParameters => "missing or malformed parameters",
            CloseCode::BadToken => "invalid or expired token",
            CloseCode::UnknownExperience => "unknown experience",
            CloseCode::SlowConsumer => "too slow to keep up with updates",
        }
    }

    /// What a client does about this close.
    pub const fn reconnect(self) -> Reconnect {
        match self {
            CloseCode::Restart => Reconnect::Soon,
            CloseCode::TryAgainLater | CloseCode::SlowConsumer => Reconnect::Later,
            CloseCode::BadToken => Reconnect::Rejoin,
            CloseCode::MissingParameters
            | CloseCode::UnknownExperience
            | CloseCode::Unsupported
            | CloseCode::PolicyViolation
            | CloseCode::TooBig => Reconnect::Stop,
            CloseCode::Normal
            | CloseCode::GoingAway
            | CloseCode::Abnormal
            | CloseCode::InternalError => Reconnect::Backoff,
        }
    }

    /// The code with number `code`, if this protocol names it.
    pub fn from_code(code: u16) -> Option<Self> {
        CloseCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// What a client does about a close with number `code`: a number this protocol does
    /// not name is an ordinary drop (reconnect with backoff).
    pub fn reconnect_for(code: u16) -> Reconnect {
        CloseCode::from_code(code).map_or(Reconnect::Backoff, CloseCode::reconnect)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_number() {
        for code in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(code.code()), Some(code), "{code}");
            assert!(
                code.reason().len() <= 123,
                "{code}: a close reason fits in a frame"
            );
        }
        assert_eq!(CloseCode::from_code(4999), None);
    }

    #[test]
    fn the_codes_of_the_protocol_keep_their_numbers_and_rules() {
        assert_eq!(CloseCode::MissingParameters.code(), 4000);
        assert_eq!(CloseCode::BadToken.code(), 4001);
        assert_eq!(CloseCode::UnknownExperience.code(), 4004);
        assert_eq!(CloseCode::SlowConsumer.code(), 4008);
        assert_eq!(CloseCode::reconnect_for(1012), Reconnect::Soon);
        assert_eq!(CloseCode::reconnect_for(4008), Reconnect::Later);
        assert_eq!(CloseCode::reconnect_for(4001), Reconnect::Rejoin);
        assert_eq!(CloseCode::reconnect_for(4000), Reconnect::Stop);
        assert_eq!(CloseCode::reconnect_for(1006), Reconnect::Backoff);
        assert_eq!(
            CloseCode::reconnect_for(3333),
            Reconnect::Backoff,
            "an unknown code is an ordinary drop"
        );
    }
}
