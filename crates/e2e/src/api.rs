//! [`Api`]: the server's HTTP API at one origin (a node, or nginx in front of nodes), called
//! as the tests call it: each method checks the status it expects and says what broke.

use std::time::Duration;

use livequeue_protocol::api::{AdmitRequest, CreateExperience, ExperienceSummary, JoinResponse};
use livequeue_protocol::paths::{CONSUMER_ID, TOKEN, query};
use livequeue_protocol::{Endpoint, ExperienceId, QueueState};
use serde::de::DeserializeOwned;

/// How long [`Api::status`] waits: a probe of `/healthz` or `/readyz` answers at once, or
/// the node is as good as down.
const PROBE: Duration = Duration::from_secs(2);

/// A client of one origin's API, with the operator token its admin calls carry.
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`.
    pub origin: String,
    /// The HTTP client (a pool shared by clones).
    pub http: reqwest::Client,
    /// The operator token.
    admin: String,
}

/// An answer as it came, for calls whose refusal is what a test looks at.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its status code.
    pub status: u16,
    /// Its body.
    pub body: String,
}

impl Answer {
    /// The body as a `T`, or a panic naming `what` and the body.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{what}: not the expected JSON ({e}): {}", self.body))
    }
}

/// `experience` as an experience id, or a panic: the tests' ids are constants.
pub(crate) fn id(experience: &str) -> ExperienceId {
    experience
        .parse()
        .unwrap_or_else(|e| panic!("`{experience}` is no experience id: {e}"))
}

/// An experience that admits no one by itself (rate 0): only the test's own admissions
/// move its line, so every place is exact. Its admitted shoppers check out at `checkout_url`.
pub fn still_experience(id: &str, stock: u64, checkout_url: &str) -> CreateExperience {
    CreateExperience {
        id: id.into(),
        name: format!("Still {id}"),
        stock,
        admission_rate_per_minute: 0.0,
        checkout_url: checkout_url.into(),
        grant_ttl_seconds: None,
    }
}

/// `?consumerId=…&token=…` for `who`.
pub fn credentials(who: &JoinResponse) -> String {
    query(&[(CONSUMER_ID, &who.consumer_id), (TOKEN, &who.token)])
}

impl Api {
    /// The API at `origin`, whose admin calls send `admin`.
    pub fn new(origin: impl Into<String>, admin: &str) -> Self {
        Self {
            origin: origin.into(),
            http: reqwest::Client::new(),
            admin: admin.to_owned(),
        }
    }

    /// `origin + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// `GET path`: its status, or `None` when nothing answered within [`PROBE`] (a
    /// stopped or hung node).
    pub async fn status(&self, path: &str) -> Option<u16> {
        let r = self
            .http
            .get(self.url(path))
            .timeout(PROBE)
            .send()
            .await
            .ok()?;
        Some(r.status().as_u16())
    }

    /// Whether `GET path` answers `status` now; if not, what it answered instead (for a
    /// wait's message).
    pub async fn answers(&self, path: &str, status: u16) -> Result<(), String> {
        match self.status(path).await {
            Some(s) if s == status => Ok(()),
            Some(other) => Err(format!("{other} from {path}")),
            None => Err(format!("no answer to {path}")),
        }
    }

    /// Sends `request` and reads the whole answer; a request that gets no answer panics.
    async fn answer(&self, what: &str, request: reqwest::RequestBuilder) -> Answer {
        let r = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what} at {}: no answer: {e}", self.origin));
        let status = r.status().as_u16();
        let body = r
            .text()
            .await
            .unwrap_or_else(|e| panic!("{what} at {}: the body broke off: {e}", self.origin));
        Answer { status, body }
    }

    /// [`Api::answer`], which must have `status`; its body as a `T`.
    async fn expect<T: DeserializeOwned>(
        &self,
        what: &str,
        status: u16,
        request: reqwest::RequestBuilder,
    ) -> T {
        let answer = self.answer(what, request).await;
        assert_eq!(
            answer.status, status,
            "{what} at {}: {}",
            self.origin, answer.body
        );
        answer.json(what)
    }

    /// Creates an experience (`201`).
    pub async fn create(&self, body: &CreateExperience) -> ExperienceSummary {
        let request = self
            .http
            .post(self.url(Endpoint::CreateExperience.route()))
            .bearer_auth(&self.admin)
            .json(body);
        self.expect(&format!("creating {}", body.id), 201, request)
            .await
    }

    /// `POST …/admit` for `count`, answered however it is.
    pub async fn try_admit(&self, experience: &str, count: u64) -> Answer {
        let request = self
            .http
            .post(self.url(&Endpoint::Admit.path(&id(experience))))
            .bearer_auth(&self.admin)
            .json(&AdmitRequest { count });
        self.answer(&format!("admitting {count} to {experience}"), request)
            .await
    }

    /// Admits the first `count` of `experience`'s line now, as an operator does (`200`).
    pub async fn admit(&self, experience: &str, count: u64) -> ExperienceSummary {
        let what = format!("admitting {count} to {experience}");
        let answer = self.try_admit(experience, count).await;
        assert_eq!(
            answer.status, 200,
            "{what} at {}: {}",
            self.origin, answer.body
        );
        answer.json(&what)
    }

    /// The experience's figures and settings as this origin has them (`200`).
    pub async fn summary(&self, experience: &str) -> ExperienceSummary {
        let request = self
            .http
            .get(self.url(&Endpoint::Experience.path(&id(experience))))
            .bearer_auth(&self.admin);
        self.expect(&format!("the summary of {experience}"), 200, request)
            .await
    }

    /// The sum of every series of the metric `name` in `GET /metrics` (`200`), as this
    /// origin answers it: `livequeue_connections` is a node's open shopper streams, all
    /// transports.
    pub async fn metric(&self, name: &str) -> f64 {
        let what = format!("the metric {name}");
        let answer = self
            .answer(&what, self.http.get(self.url(Endpoint::Metrics.route())))
            .await;
        assert_eq!(
            answer.status, 200,
            "{what} at {}: {}",
            self.origin, answer.body
        );
        answer
            .body
            .lines()
            .filter(|line| {
                // `name value` or `name{labels} value`, not `name_more…`.
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// A new shopper at the back of `experience`'s line (`201`).
    pub async fn join(&self, experience: &str) -> JoinResponse {
        let request = self
            .http
            .post(self.url(&Endpoint::Join.path(&id(experience))));
        self.expect(&format!("joining {experience}"), 201, request)
            .await
    }

    /// `who`'s state, polled (`200`).
    pub async fn state(&self, experience: &str, who: &JoinResponse) -> QueueState {
        let path = Endpoint::Poll.path(&id(experience)) + &credentials(who);
        let request = self.http.get(self.url(&path));
        self.expect(&format!("polling {experience}"), 200, request)
            .await
    }
}
