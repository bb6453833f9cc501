//! The operator API as the console calls it: every request carries the operator token in
//! `Authorization`, never in a URL, and every refusal comes back as an [`ApiError`] that
//! says why in a sentence.

use gloo_net::http::{Request, RequestBuilder, Response};
use livequeue_protocol::api::{
    AdmitRequest, CreateExperience, EntriesPage, ErrorBody, ExperienceList, ExperienceSummary,
    PatchExperience, StreamTicket, SyntheticJoins,
};
use livequeue_protocol::paths::{self, Endpoint};
use livequeue_protocol::{ErrorCode, ExperienceId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use web_sys::AbortSignal;

/// Why a request gave no answer the console can use.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The token was refused (401).
    Unauthorized,
    /// The server refused the request and said why.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's sentence.
        message: String,
    },
    /// No answer: offline, the server down, or the request cancelled.
    Network(String),
    /// An answer the console cannot read.
    Unreadable(String),
}

impl ApiError {
    /// The sentence the operator reads.
    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthorized => "The server refused this operator token.".into(),
            ApiError::Refused { message, .. } => message.clone(),
            ApiError::Network(why) => format!("No answer from the server ({why})."),
            ApiError::Unreadable(why) => format!("The server's answer could not be read ({why})."),
        }
    }
}

/// The operator's client: the API's origin (the console's own) and the token.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// The operator token, sent as `Authorization: Bearer …`.
    pub token: String,
}

impl Operator {
    fn authorized(&self, builder: RequestBuilder) -> RequestBuilder {
        builder
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Accept", "application/json")
    }

    /// Every experience.
    pub async fn experiences(&self) -> Result<ExperienceList, ApiError> {
        let url = Endpoint::CreateExperience.route();
        read(self.authorized(Request::get(url)).send().await).await
    }

    /// One experience's summary.
    pub async fn summary(&self, id: &ExperienceId) -> Result<ExperienceSummary, ApiError> {
        let url = Endpoint::Experience.path(id);
        read(self.authorized(Request::get(&url)).send().await).await
    }

    /// Changes an experience's settings.
    pub async fn patch(
        &self,
        id: &ExperienceId,
        patch: &PatchExperience,
    ) -> Result<ExperienceSummary, ApiError> {
        send(
            self.authorized(Request::patch(&Endpoint::Experience.path(id))),
            patch,
        )
        .await
    }

    /// Admits `count` shoppers now.
    pub async fn admit(
        &self,
        id: &ExperienceId,
        count: u64,
    ) -> Result<ExperienceSummary, ApiError> {
        let body = AdmitRequest { count };
        send(
            self.authorized(Request::post(&Endpoint::Admit.path(id))),
            &body,
        )
        .await
    }

    /// Adds `count` synthetic shoppers at the back of the line (demo and test servers only).
    pub async fn synthetic(
        &self,
        id: &ExperienceId,
        count: u64,
    ) -> Result<ExperienceSummary, ApiError> {
        let body = SyntheticJoins { count };
        send(
            self.authorized(Request::post(&Endpoint::Synthetic.path(id))),
            &body,
        )
        .await
    }

    /// Creates an experience.
    pub async fn create(&self, body: &CreateExperience) -> Result<ExperienceSummary, ApiError> {
        send(
            self.authorized(Request::post(Endpoint::CreateExperience.route())),
            body,
        )
        .await
    }

    /// A ticket for the operator stream.
    pub async fn stream_ticket(&self) -> Result<StreamTicket, ApiError> {
        let builder = self.authorized(Request::post(Endpoint::StreamTicket.route()));
        read(builder.send().await).await
    }

    /// A page of the line: `limit` rows from `offset`, cancelled through `signal`.
    pub async fn entries(
        &self,
        id: &ExperienceId,
        offset: u64,
        limit: u64,
        signal: &AbortSignal,
    ) -> Result<EntriesPage, ApiError> {
        let offset = offset.to_string();
        let limit = limit.to_string();
        let url =
            Endpoint::Entries.path(id) + &paths::query(&[("offset", &offset), ("limit", &limit)]);
        let builder = self
            .authorized(Request::get(&url))
            .abort_signal(Some(signal));
        read(builder.send().await).await
    }
}

/// The operator stream's URL for `ticket`.
pub fn stream_url(id: &ExperienceId, ticket: &str) -> String {
    Endpoint::OperatorStream.path(id) + &paths::query(&[(paths::TICKET, ticket)])
}

async fn send<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    let request = builder
        .json(body)
        .map_err(|e| ApiError::Unreadable(e.to_string()))?;
    read(request.send().await).await
}

async fn read<T: DeserializeOwned>(
    answer: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = answer.map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&text).map_err(|e| ApiError::Unreadable(e.to_string()));
    }
    Err(refusal(status, &text))
}

/// The error of a non-2xx answer: the server's own sentence when it sent its error body.
pub fn refusal(status: u16, body: &str) -> ApiError {
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    if status == 401
        || parsed
            .as_ref()
            .is_some_and(|b| b.error.code == ErrorCode::Unauthorized)
    {
        return ApiError::Unauthorized;
    }
    let message = match parsed {
        Some(body) => body.error.message,
        None => format!("The server answered {status}."),
    };
    ApiError::Refused { status, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_is_a_refused_token() {
        assert_eq!(refusal(401, ""), ApiError::Unauthorized);
    }

    #[test]
    fn the_servers_sentence_is_kept() {
        let body = r#"{"error":{"code":"bad_request","message":"limit must be 1..=1000"}}"#;
        assert_eq!(
            refusal(400, body).message(),
            "limit must be 1..=1000",
            "the server's reason was lost"
        );
    }

    #[test]
    fn an_answer_without_our_body_names_its_status() {
        assert_eq!(refusal(502, "<html>").message(), "The server answered 502.");
    }

    #[test]
    fn the_stream_ticket_goes_in_the_query_encoded() {
        let id: ExperienceId = "demo-drop".parse().unwrap();
        assert_eq!(
            stream_url(&id, "a+b/c"),
            "/api/admin/experiences/demo-drop/stream?ticket=a%2Bb%2Fc"
        );
    }
}
