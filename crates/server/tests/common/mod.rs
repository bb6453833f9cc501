//! A real server on port 0 and real clients, shared by the integration tests.
#![allow(dead_code, missing_docs)]

pub mod shopper;

use std::net::SocketAddr;
use std::time::Duration;

use eventsource_stream::{Event, Eventsource};
use futures_util::{Stream, StreamExt};
use livequeue_protocol::api::{CreateExperience, JoinResponse};
use livequeue_protocol::paths::{CONSUMER_ID, TOKEN, query};
use livequeue_protocol::{Endpoint, ExperienceId, QueueState};
use livequeue_server::{AppState, Config, serve};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN: &str = "test-admin-token";

/// A fresh temporary directory (a test's `dist/`), removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lq-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A leftover temporary directory harms nothing.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<std::io::Result<()>>>,
}

pub fn config() -> Config {
    Config {
        admin_token: Some(ADMIN.into()),
        allowed_origins: "https://shop.example".into(),
        ..Config::default()
    }
}

impl TestServer {
    /// The in-memory engine's epoch (these servers run on it).
    #[allow(dead_code)]
    pub fn memory_epoch(&self) -> u64 {
        match &self.state.engine {
            livequeue_server::engine::Engine::Memory(memory) => memory.epoch(),
            livequeue_server::engine::Engine::Redis(_) => {
                unreachable!("test servers run in memory")
            }
        }
    }

    pub async fn start() -> Self {
        Self::with_config(config()).await
    }

    pub async fn with_config(config: Config) -> Self {
        Self::with_state(AppState::new(config)).await
    }

    /// A server on the Redis engine at `url`.
    pub async fn on_redis(config: Config, url: &str) -> Self {
        let engine = livequeue_server::engine::Engine::redis(config.engine.clone(), url)
            .await
            .expect("the Redis engine starts");
        Self::with_state(AppState::with_engine(config, engine)).await
    }

    pub async fn with_state(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            state,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/ws/queue?{}", self.addr, query)
    }

    /// Stops the server and returns how long `serve` took to return.
    pub async fn shutdown(&mut self) -> Duration {
        let started = tokio::time::Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("serve task").expect("serve result");
        }
        started.elapsed()
    }

    /// Creates an experience with no automatic admissions (rate 0).
    pub async fn experience(&self, id: &str, stock: u64) {
        let body = CreateExperience {
            id: id.into(),
            name: format!("Experience {id}"),
            stock,
            admission_rate_per_minute: 0.0,
            checkout_url: "https://shop.example/checkout".into(),
            grant_ttl_seconds: None,
        };
        let r = self
            .admin(reqwest::Method::POST, "/api/admin/experiences")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "creating {id}: {}",
            r.text().await.unwrap()
        );
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(ADMIN)
    }

    pub async fn join(&self, experience: &str) -> JoinResponse {
        let r = self
            .http
            .post(self.url(&format!("/api/experiences/{experience}/join")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    }

    pub async fn admit(&self, experience: &str, count: u64) {
        let r = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/admin/experiences/{experience}/admit"),
            )
            .json(&serde_json::json!({ "count": count }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    pub async fn set_stock(&self, experience: &str, stock: u64) {
        let r = self
            .admin(
                reqwest::Method::PATCH,
                &format!("/api/admin/experiences/{experience}"),
            )
            .json(&serde_json::json!({ "stock": stock }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// `POST` to a shopper's own endpoint (extend, reserve, leave) with their credentials.
    pub fn shopper(
        &self,
        endpoint: Endpoint,
        experience: &str,
        who: &JoinResponse,
    ) -> reqwest::RequestBuilder {
        let id: ExperienceId = experience.parse().expect("a valid experience id");
        let credentials = query(&[(CONSUMER_ID, &who.consumer_id), (TOKEN, &who.token)]);
        self.http
            .post(self.url(&format!("{}{credentials}", endpoint.path(&id))))
    }

    /// The shopper's state, polled.
    pub async fn state(&self, experience: &str, who: &JoinResponse) -> QueueState {
        let path = format!(
            "/api/queue/{experience}?consumerId={}&token={}",
            who.consumer_id, who.token
        );
        let r = self.http.get(self.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "polling {experience}");
        r.json().await.unwrap()
    }

    pub fn sse_path(experience: &str, who: &JoinResponse) -> String {
        format!(
            "/api/sse/queue/{experience}?consumerId={}&token={}",
            who.consumer_id, who.token
        )
    }

    pub async fn sse(
        &self,
        experience: &str,
        who: &JoinResponse,
        last_event_id: Option<&str>,
    ) -> Sse {
        let mut request = self.http.get(self.url(&Self::sse_path(experience, who)));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "SSE refused");
        Sse {
            events: Box::pin(response.bytes_stream().eventsource()),
        }
    }
}

impl TestServer {
    /// `GET path` with the operator token, answered `200` with a `T`.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.admin(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// A stream ticket, asked for with the operator token.
    pub async fn stream_ticket(&self) -> String {
        let r = self
            .admin(reqwest::Method::POST, Endpoint::StreamTicket.route())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "no stream ticket");
        let ticket: livequeue_protocol::api::StreamTicket = r.json().await.unwrap();
        ticket.ticket
    }

    /// The operator stream's path for `experience` with `ticket`.
    pub fn operator_stream_path(experience: &str, ticket: &str) -> String {
        let id: ExperienceId = experience.parse().expect("a valid experience id");
        format!(
            "{}{}",
            Endpoint::OperatorStream.path(&id),
            query(&[(livequeue_protocol::paths::TICKET, ticket)])
        )
    }

    /// The operator stream of `experience`, opened with a fresh ticket.
    pub async fn operator_stream(&self, experience: &str) -> Sse {
        let ticket = self.stream_ticket().await;
        let path = Self::operator_stream_path(experience, &ticket);
        let response = self.http.get(self.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "the operator stream was refused");
        Sse::of(response)
    }

    /// `count` synthetic shoppers join `experience` (the server needs `--test-controls`).
    pub async fn synthetic(&self, experience: &str, count: u64) -> reqwest::Response {
        let id: ExperienceId = experience.parse().expect("a valid experience id");
        self.admin(reqwest::Method::POST, &Endpoint::Synthetic.path(&id))
            .json(&serde_json::json!({ "count": count }))
            .send()
            .await
            .unwrap()
    }
}

/// The test config with the test controls on (synthetic joins, inject).
pub fn controls() -> Config {
    Config {
        test_controls: true,
        ..config()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct Sse {
    events: std::pin::Pin<
        Box<
            dyn Stream<Item = Result<Event, eventsource_stream::EventStreamError<reqwest::Error>>>
                + Send,
        >,
    >,
}

impl Sse {
    /// The events of an event-stream answer.
    pub fn of(response: reqwest::Response) -> Self {
        Self {
            events: Box::pin(response.bytes_stream().eventsource()),
        }
    }

    /// The next event other than heartbeats, within five seconds.
    pub async fn next(&mut self) -> Event {
        loop {
            let e = self.next_any().await;
            if e.event != "heartbeat" {
                return e;
            }
        }
    }

    pub async fn next_any(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(5), self.events.next())
            .await
            .expect("an SSE event within 5 s")
            .expect("the stream is open")
            .expect("a well-formed event")
    }

    /// Events until one named `name` (returned with everything before it).
    pub async fn until(&mut self, name: &str) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            let e = self.next().await;
            let done = e.event == name;
            seen.push(e);
            if done {
                return seen;
            }
        }
    }

    /// Whether the stream ends within `limit`.
    pub async fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.events.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}
