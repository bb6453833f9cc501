//! What keeps the widget from working, as the shopper is told it.
//!
//! The feed holds an `Option<Problem>`; the page renders its [`Display`](std::fmt::Display),
//! one sentence a shopper understands. The detail (an [`ApiError`]'s message, a close code)
//! goes to the console, not to the page.

use std::fmt;

use crate::api::ApiError;

/// A problem shown to the shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The page's `?experience=` is not an id the server could accept.
    InvalidLink,
    /// Joining the queue failed; the sentence depends on why.
    JoinFailed(ApiError),
    /// The server does not offer joining (a server written from the guide): only a page that
    /// gives the shopper's place (`?consumerId=`) can follow its queue.
    JoinNotOffered,
    /// Every attempt to reach the queue failed; the place is kept on the server.
    ConnectionLost,
    /// The server refused the shopper's credentials for good.
    CredentialsRefused,
}

impl Problem {
    /// The problem a failed join means: an answer that is not our server's (an HTML
    /// `404`/`405`, a success without a join answer) is a server that does not offer joining.
    pub fn of_join(error: ApiError) -> Self {
        if error.means_join_not_offered() {
            Problem::JoinNotOffered
        } else {
            Problem::JoinFailed(error)
        }
    }
}

impl Problem {
    /// The sentence for the shopper, as `Display` writes it.
    pub fn sentence(&self) -> &'static str {
        let t = crate::i18n::t();
        match self {
            Problem::InvalidLink => t.problem_invalid_link,
            Problem::JoinFailed(error) => error.shopper_message(),
            Problem::JoinNotOffered => t.problem_no_join,
            Problem::ConnectionLost => t.problem_lost,
            Problem::CredentialsRefused => t.problem_credentials,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sentence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livequeue_protocol::ErrorCode;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn status(status: u16, code: ErrorCode) -> ApiError {
        ApiError::Status {
            status,
            code,
            message: String::new(),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn our_not_found_is_a_missing_queue() {
        let problem = Problem::of_join(status(404, ErrorCode::NotFound));
        assert_eq!(
            problem.to_string(),
            "This queue doesn't exist. Check the link."
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_foreign_404_or_405_or_an_unreadable_join_answer_is_joining_not_offered() {
        for error in [
            status(404, ErrorCode::Unknown),
            status(405, ErrorCode::Unknown),
            ApiError::Decode("missing field `token`".into()),
        ] {
            assert_eq!(
                Problem::of_join(error.clone()),
                Problem::JoinNotOffered,
                "{error}"
            );
        }
        assert!(
            Problem::JoinNotOffered
                .to_string()
                .contains("doesn't offer joining"),
            "the sentence says so"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_server_in_trouble_is_retried_not_a_missing_join() {
        let problem = Problem::of_join(status(502, ErrorCode::Unknown));
        assert_eq!(
            problem.to_string(),
            "We can't reach the queue right now. Trying again…"
        );
    }
}
