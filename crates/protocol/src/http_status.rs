//! HTTP statuses as a client reads them when an answer carries no error body of ours.
//!
//! Clients decide on the [`ErrorCode`] of the JSON error body, not on the status number,
//! which proxies may change. Some answers have no such body: a browser's `EventSource`
//! shows none, and a proxy's or a foreign server's error page is not ours. [`code_for`] reads
//! such a status as the code our server would have answered with, so every decision still
//! goes through one [`ErrorCode`]; it is the only place a client maps status numbers.

use crate::error_code::ErrorCode;

/// `304 Not Modified`: a conditional poll whose state has not changed.
pub const NOT_MODIFIED: u16 = 304;

/// Whether `status` is a success (`2xx`).
pub const fn is_success(status: u16) -> bool {
    status >= 200 && status < 300
}

/// Whether `status` is an error answer (`4xx` or `5xx`).
pub const fn is_error(status: u16) -> bool {
    status >= 400
}

/// The code our server answers `status` with; `429 Too Many Requests` reads as
/// [`ErrorCode::Unavailable`] (come back later), any other `5xx` as
/// [`ErrorCode::Internal`], and anything else as [`ErrorCode::Unknown`].
pub fn code_for(status: u16) -> ErrorCode {
    // Two codes share 503: `Unavailable` is the general one (`TransportRefused` is a test
    // switch of our server, which always sends its body).
    if status == ErrorCode::Unavailable.http_status() || status == 429 {
        return ErrorCode::Unavailable;
    }
    if let Some(code) = ErrorCode::ALL
        .into_iter()
        .find(|c| c.http_status() == status)
    {
        return code;
    }
    if status >= 500 {
        ErrorCode::Internal
    } else {
        ErrorCode::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn our_statuses_read_as_the_codes_our_server_sends_them_with() {
        for code in ErrorCode::ALL {
            if code == ErrorCode::TransportRefused {
                continue;
            }
            assert_eq!(code_for(code.http_status()), code, "{code}");
        }
        assert_eq!(code_for(429), ErrorCode::Unavailable, "rate limited");
        assert_eq!(code_for(502), ErrorCode::Internal, "a gateway error");
        assert_eq!(code_for(418), ErrorCode::Unknown);
    }

    proptest! {
        #[test]
        fn every_server_error_is_transient(status in 500u16..600) {
            prop_assert!(code_for(status).is_transient(), "{}", status);
        }

        #[test]
        fn successes_are_not_errors(status in 200u16..300) {
            prop_assert!(is_success(status) && !is_error(status));
        }
    }
}
