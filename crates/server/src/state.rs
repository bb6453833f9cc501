//! [`AppState`]: what every handler shares, and the checks every transport shares
//! (authorization, refused transports, origins).

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use livequeue_protocol::supervisor::TransportKind;
use livequeue_protocol::{ConsumerId, ErrorCode, ExperienceId, paths};

use crate::auth::{Auth, AuthError, Authorized, Origins};
use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::error::AppError;
use crate::metrics::Metrics;

/// Everything a handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The queue.
    pub engine: Engine,
    /// Tokens and labels.
    pub auth: Arc<Auth>,
    /// Allowed browser origins.
    pub origins: Arc<Origins>,
    /// Timings and paths.
    pub config: Arc<Config>,
    /// Transports refused now: `--refuse-transports`, changed at run time only through the
    /// test controls.
    pub refused: Arc<std::sync::RwLock<Vec<TransportKind>>>,
    /// The registry of the engine's counters, encoded at `GET /metrics`.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// State for `config`, with a fresh in-memory engine.
    pub fn new(config: Config) -> Self {
        let engine = Engine::memory(config.engine.clone());
        Self::with_engine(config, engine)
    }

    /// State for `config` over `engine` (in memory or on Redis).
    pub fn with_engine(config: Config, engine: Engine) -> Self {
        let auth = Auth::new(
            config.secret.clone(),
            config.token_ttl_secs,
            config.admin_token.clone(),
        );
        Self {
            metrics: Arc::new(Metrics::new(engine.counters())),
            engine,
            auth: Arc::new(auth),
            origins: Arc::new(Origins::parse(&config.allowed_origins)),
            refused: Arc::new(std::sync::RwLock::new(config.refuse_transports.clone())),
            config: Arc::new(config),
        }
    }

    /// Checks that `consumer` holds a valid `token` for `experience`, and makes sure this
    /// epoch knows the shopper. Every read transport (poll, SSE, WebSocket) asks this one
    /// question; each turns the answer into its own kind of refusal.
    pub async fn authorize(
        &self,
        experience: &ExperienceId,
        consumer: Option<&str>,
        token: Option<&str>,
    ) -> Result<Authorized, AuthError> {
        let consumer = required(consumer, paths::CONSUMER_ID)?.parse::<ConsumerId>()?;
        let token = required(token, paths::TOKEN)?;
        match self.engine.exists(experience.as_str()).await {
            Ok(true) => {}
            Ok(false) => return Err(AuthError::UnknownExperience(experience.clone())),
            Err(e) => return Err(AuthError::Unavailable(e.to_string())),
        }
        self.auth
            .verify(
                token,
                consumer.as_str(),
                experience.as_str(),
                self.engine.now_ms() / 1000,
            )
            .map_err(|e| {
                tracing::debug!(error = %e, "token refused");
                AuthError::BadToken(e)
            })?;
        self.engine
            .ensure_consumer(experience.as_str(), consumer.as_str())
            .await
            .map_err(|e| match e {
                EngineError::Closed(_) => AuthError::Closed(experience.clone()),
                EngineError::Unavailable(why) => AuthError::Unavailable(why),
                _ => AuthError::UnknownExperience(experience.clone()),
            })?;
        Ok(Authorized {
            experience: experience.clone(),
            consumer,
        })
    }

    /// Refuses a transport switched off with `--refuse-transports` (for fallback tests).
    pub fn transport_allowed(&self, kind: TransportKind) -> Result<(), AppError> {
        let refused = self
            .refused
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&kind);
        if refused {
            return Err(AppError::new(
                ErrorCode::TransportRefused,
                format!("the {kind} transport is switched off on this server"),
            ));
        }
        Ok(())
    }

    /// Whether the request's `Origin` (if any) may call.
    pub fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        origin.to_str().is_ok_and(|o| self.origins.allows(o, host))
    }
}

/// A parameter that must be given and not empty; `name` is its wire name.
pub fn required<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, AuthError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(AuthError::Missing(name))
}
