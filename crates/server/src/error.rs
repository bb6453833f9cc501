//! The one error type of the HTTP layer: every 4xx and 5xx is `{"error":{"code","message"}}`.
//!
//! An [`AppError`] holds the protocol's [`ErrorCode`]; its HTTP status comes from
//! [`ErrorCode::http_status`] and nowhere else, so a code and its status cannot disagree.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livequeue_protocol::api::{ErrorBody, ErrorDetail};
use livequeue_protocol::{ErrorCode, IdError};

use crate::auth::AuthError;
use crate::engine::EngineError;
use crate::engine::experience::{GrantError, RedeemError};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// Stable machine-readable code; decides the HTTP status.
    pub code: ErrorCode,
    /// A sentence for the developer.
    pub message: String,
}

impl AppError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status of the answer, from the code.
    pub fn status(&self) -> StatusCode {
        // Every status the protocol names is a valid HTTP status.
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 400: a missing or malformed parameter or body.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// 401: a bad token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 403: a browser origin that may not call.
    pub fn forbidden_origin() -> Self {
        Self::new(
            ErrorCode::ForbiddenOrigin,
            "this origin is not allowed; add it to LIVEQUEUE_ALLOWED_ORIGINS",
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 500: the detail goes to the log, the client learns nothing about internals.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }

    /// An extractor's rejection: its status picks the code (422, serde's "valid JSON of the
    /// wrong shape", is a 400 like every other malformed request).
    fn from_rejection(status: StatusCode, message: String) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            s if s.is_server_error() => return Self::internal(message),
            _ => ErrorCode::BadRequest,
        };
        Self::new(code, message)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        (status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        Self::from_rejection(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        Self::from_rejection(r.status(), r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        Self::from_rejection(r.status(), r.body_text())
    }
}

impl From<IdError> for AppError {
    fn from(e: IdError) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing(_) => Self::bad_request(e.to_string()),
            AuthError::BadId(id) => id.into(),
            AuthError::UnknownExperience(_) => Self::not_found(e.to_string()),
            AuthError::BadToken(_) => Self::unauthorized(e.to_string()),
            AuthError::Closed(_) => Self::conflict(e.to_string()),
            AuthError::Unavailable(_) => Self::new(ErrorCode::Unavailable, e.to_string()),
        }
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::UnknownExperience(_) => Self::not_found(e.to_string()),
            // A consumer id that the engine does not know cannot have a valid token: the
            // token check runs first, so this means the engine lost its memory (a restart).
            EngineError::UnknownConsumer => {
                Self::unauthorized("unknown consumer: the queue was reset; join again")
            }
            EngineError::ExperienceExists(_) | EngineError::Closed(_) => {
                Self::conflict(e.to_string())
            }
            EngineError::Redeem(RedeemError::Unknown) => Self::not_found("no such grant"),
            EngineError::Redeem(RedeemError::AlreadyRedeemed) => {
                Self::conflict("grant already redeemed")
            }
            EngineError::Redeem(RedeemError::Expired) => {
                Self::new(ErrorCode::Gone, "grant expired")
            }
            EngineError::Grant(GrantError::Expired) => Self::new(ErrorCode::Gone, e.to_string()),
            // No grant, redeemed, extended already, over the limit, out of stock, key reused:
            // each is the request meeting the state, with its own sentence.
            EngineError::Grant(_) => Self::conflict(e.to_string()),
            EngineError::ShuttingDown | EngineError::Unavailable(_) => {
                Self::new(ErrorCode::Unavailable, e.to_string())
            }
            EngineError::Unsupported(_) => Self::bad_request(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_comes_from_the_code() {
        for code in ErrorCode::ALL {
            assert_eq!(
                AppError::new(code, "x").status().as_u16(),
                code.http_status(),
                "{code} answers another status than the protocol says"
            );
        }
    }
}
