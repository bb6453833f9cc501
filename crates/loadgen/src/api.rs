//! The HTTP calls that set a phase up: create an experience, join shoppers, patch stock,
//! read the live connection counts. Few and cheap, so `reqwest` with a keep-alive pool does.

use std::future::Future;

use futures_util::stream::{self, StreamExt};
use livequeue_protocol::api::{CreateExperience, ExperienceSummary, JoinResponse, PatchExperience};
use livequeue_protocol::{Endpoint, ExperienceId};
use reqwest::{Client, Response};
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// The metric of a node's own open shopper streams, one series per transport
/// (`crates/server/src/metrics.rs`: its prefix and `connections`).
const CONNECTIONS_METRIC: &str = "livequeue_connections";

/// The sum of every series of metric `name` in a Prometheus text exposition: lines
/// `name value` or `name{labels} value`, not those of a longer name (`name_more …`).
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A shopper's credentials for the push endpoints.
#[derive(Debug, Clone)]
pub struct Shopper {
    /// The consumer id.
    pub consumer_id: String,
    /// The signed token.
    pub token: String,
}

/// Runs `join` `n` times, `in_flight` at a time: every shopper, or the first error. Any
/// server's join call (livequeue's, the guide's) goes through here.
pub async fn join_concurrently<F, Fut>(n: usize, in_flight: usize, join: F) -> Result<Vec<Shopper>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Shopper>>,
{
    stream::iter(0..n)
        .map(|_| join())
        .buffer_unordered(in_flight.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// The server's API as this tool uses it.
#[derive(Debug, Clone)]
pub struct Api {
    client: Client,
    base_url: String,
    admin_token: String,
}

/// An HTTP client that never goes through a proxy: every call of this tool is to a loopback
/// server, and a `HTTP_PROXY` in the environment must not send it anywhere else.
pub fn loopback_client() -> Client {
    Client::builder()
        .no_proxy()
        .build()
        // Building fails only when TLS cannot initialise; this client has no TLS.
        .unwrap_or_default()
}

async fn check(context: &str, response: reqwest::Result<Response>) -> Result<Response> {
    let http = |message: String| Error::Http {
        context: context.to_string(),
        message,
    };
    let response = response.map_err(|e| http(e.to_string()))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Err(http(format!("{status}: {body}")))
}

/// The whole body of an answer that [`check`] let through.
async fn body(context: &str, response: reqwest::Result<Response>) -> Result<String> {
    check(context, response)
        .await?
        .text()
        .await
        .map_err(|e| Error::Http {
            context: context.to_string(),
            message: format!("reading the body: {e}"),
        })
}

/// The JSON body of an answer that [`check`] let through.
async fn json<T: DeserializeOwned>(
    context: &str,
    response: reqwest::Result<Response>,
) -> Result<T> {
    let text = body(context, response).await?;
    serde_json::from_str(&text).map_err(|e| Error::Http {
        context: context.to_string(),
        message: format!("decoding the body: {e}"),
    })
}

impl Api {
    /// Calls the server at `base_url` (`http://host:port`).
    pub fn new(base_url: &str, admin_token: &str) -> Self {
        Self {
            client: loopback_client(),
            base_url: base_url.trim_end_matches('/').to_string(),
            admin_token: admin_token.to_string(),
        }
    }

    /// The absolute URL of `path` on the server.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Creates experience `id` with `stock` units and no admissions, so nothing but our
    /// patches ever broadcasts on it.
    pub async fn create_experience(&self, id: &ExperienceId, stock: u64) -> Result<()> {
        let body = CreateExperience {
            id: id.to_string(),
            name: format!("loadgen {id}"),
            stock,
            admission_rate_per_minute: 0.0,
            checkout_url: "/checkout".to_string(),
            grant_ttl_seconds: None,
        };
        let sent = self
            .client
            .post(self.url(Endpoint::CreateExperience.route()))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await;
        check("creating the experience", sent).await?;
        Ok(())
    }

    /// Joins one shopper.
    pub async fn join(&self, experience: &ExperienceId) -> Result<Shopper> {
        let sent = self
            .client
            .post(self.url(&Endpoint::Join.path(experience)))
            .send()
            .await;
        let joined: JoinResponse = json("joining", sent).await?;
        Ok(Shopper {
            consumer_id: joined.consumer_id,
            token: joined.token,
        })
    }

    /// Joins `n` shoppers, `in_flight` at a time.
    pub async fn join_many(
        &self,
        experience: &ExperienceId,
        n: usize,
        in_flight: usize,
    ) -> Result<Vec<Shopper>> {
        join_concurrently(n, in_flight, || self.join(experience)).await
    }

    /// Sets the total stock: the one publish of this benchmark, broadcast as `stock_update`
    /// to every connection of the experience.
    pub async fn patch_stock(&self, experience: &ExperienceId, total: u64) -> Result<()> {
        let body = PatchExperience {
            stock: Some(total),
            ..PatchExperience::default()
        };
        let sent = self
            .client
            .patch(self.url(&Endpoint::Experience.path(experience)))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await;
        check("patching stock", sent).await?;
        Ok(())
    }

    /// The server's count of open connections on the experience: on a Redis node, every
    /// node's (each reports its own to Redis once a tick, so the others' lag by up to one).
    pub async fn connections(&self, experience: &ExperienceId) -> Result<u64> {
        self.summary(experience).await.map(|s| s.connections)
    }

    /// This node's own open shopper streams, of every experience, from its `/metrics`
    /// (in a run on processes the loadgen started, there is one experience).
    pub async fn node_connections(&self) -> Result<u64> {
        let sent = self
            .client
            .get(self.url(Endpoint::Metrics.route()))
            .send()
            .await;
        let text = body("reading /metrics", sent).await?;
        // A gauge of whole streams: the float is an integer.
        Ok(metric_sum(&text, CONNECTIONS_METRIC) as u64)
    }

    /// The experience's summary.
    async fn summary(&self, experience: &ExperienceId) -> Result<ExperienceSummary> {
        let sent = self
            .client
            .get(self.url(&Endpoint::Experience.path(experience)))
            .bearer_auth(&self.admin_token)
            .send()
            .await;
        json("reading the experience", sent).await
    }
}

#[cfg(test)]
mod tests {
    use super::metric_sum;

    #[test]
    fn a_metric_is_the_sum_of_its_series_and_not_of_longer_names() {
        let text = "# HELP livequeue_connections Open shopper streams on this node\n\
                    # TYPE livequeue_connections gauge\n\
                    livequeue_connections{transport=\"sse\"} 2500\n\
                    livequeue_connections{transport=\"websocket\"} 3\n\
                    livequeue_connections_opened_total{transport=\"sse\"} 9000\n";
        assert_eq!(metric_sum(text, "livequeue_connections"), 2503.0);
        assert_eq!(metric_sum(text, "livequeue_nothing"), 0.0, "absent is zero");
    }
}
