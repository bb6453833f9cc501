//! The one error type of the HTTP layer: every 4xx and 5xx is `{"error":{"code","message"}}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livequeue_protocol::api::{ErrorBody, ErrorDetail};

use crate::engine::EngineError;
use crate::engine::experience::RedeemError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// A sentence for the developer.
    pub message: String,
}

impl AppError {
    /// 400: a missing or malformed parameter or body.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }

    /// 401: a bad token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
        }
    }

    /// 403: a browser origin that may not call.
    pub fn forbidden_origin() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "forbidden_origin",
            message: "this origin is not allowed; add it to LIVEQUEUE_ALLOWED_ORIGINS".into(),
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }

    /// 500: the detail goes to the log, the client learns nothing about internals.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "internal error".into(),
        }
    }

    fn from_status(status: StatusCode, message: String) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            s if s.is_server_error() => return Self::internal(message),
            _ => "bad_request",
        };
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        Self {
            status,
            code,
            message,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: livequeue_protocol::ErrorCode::parse(self.code),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        Self::from_status(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        Self::from_status(r.status(), r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        Self::from_status(r.status(), r.body_text())
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        let conflict = |message: String| Self {
            status: StatusCode::CONFLICT,
            code: "conflict",
            message,
        };
        match e {
            EngineError::UnknownExperience(_) => Self::not_found(e.to_string()),
            // A consumer id that the engine does not know cannot have a valid token: the
            // token check runs first, so this means the engine lost its memory (a restart).
            EngineError::UnknownConsumer => {
                Self::unauthorized("unknown consumer: the queue was reset; join again")
            }
            EngineError::ExperienceExists(_) | EngineError::Closed(_) => conflict(e.to_string()),
            EngineError::Redeem(RedeemError::Unknown) => Self::not_found("no such grant"),
            EngineError::Redeem(RedeemError::AlreadyRedeemed) => {
                conflict("grant already redeemed".into())
            }
            EngineError::Redeem(RedeemError::Expired) => Self {
                status: StatusCode::GONE,
                code: "gone",
                message: "grant expired".into(),
            },
            EngineError::ShuttingDown => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "unavailable",
                message: e.to_string(),
            },
        }
    }
}
