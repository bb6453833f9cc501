//! The HTTP routes, one file per concern, and the extractors that turn every malformed
//! request into a JSON error.

pub mod admin;
pub mod checkout;
pub mod embed;
pub mod health;
pub mod operator_stream;
pub mod queue;
pub mod shopper;
pub mod sse;
pub mod ws;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use livequeue_protocol::ExperienceId;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{AuthError, Authorized};
use crate::error::AppError;

/// `Json` whose rejections are JSON errors.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `Query` whose rejections are JSON errors.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// `Path` whose rejections are JSON errors.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// Query parameters of the shopper's endpoints (reads, and their own actions).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadParams {
    /// The shopper.
    pub consumer_id: Option<String>,
    /// The shopper's token.
    pub token: Option<String>,
    /// SSE only: resume after this event id on a first connection.
    pub last_event_id: Option<String>,
}

impl ReadParams {
    /// The shopper these parameters name, checked by [`AppState::authorize`].
    pub async fn authorize(
        &self,
        app: &AppState,
        experience: &ExperienceId,
    ) -> Result<Authorized, AuthError> {
        app.authorize(
            experience,
            self.consumer_id.as_deref(),
            self.token.as_deref(),
        )
        .await
    }
}

/// The `{experience_id}` of the path, parsed with the protocol's rule: a malformed id is a
/// 400 whose message is that rule.
#[derive(Debug, Clone)]
pub struct ExperiencePath(pub ExperienceId);

impl<S: Send + Sync> FromRequestParts<S> for ExperiencePath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let ApiPath(id) = ApiPath::<String>::from_request_parts(parts, state).await?;
        Ok(Self(id.parse()?))
    }
}
