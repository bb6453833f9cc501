//! Headless Chromium through chromedriver, one pair per test.
//!
//! chromedriver runs in a process group of its own, so dropping the [`Browser`] (also when
//! a test panics) ends it and the Chromium it started, by that group's id.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value as Json, json};

use crate::free_port;

/// How long a `wait_*` waits by default: the widget's first load (wasm compile) on a busy
/// 2-core machine takes a few seconds.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A WebDriver session in headless Chromium.
pub struct Browser {
    /// The session.
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

/// `CHROMEDRIVER`, else `/usr/bin/chromedriver`; a missing one fails the test.
fn chromedriver() -> PathBuf {
    let path = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    assert!(
        path.is_file(),
        "chromedriver is not at {}: install Chromium and chromedriver (`cargo xtask setup \
         --for-tests`, or `apt-get install chromium chromium-driver`) or set CHROMEDRIVER",
        path.display()
    );
    path
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session.
    pub async fn start() -> Self {
        let port = free_port();
        let mut command = Command::new(chromedriver());
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().expect("cannot start chromedriver");
        let profile = std::env::temp_dir().join(format!(
            "livequeue-e2e-chromium-{}-{port}",
            std::process::id()
        ));
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1100,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        });
        let chromium =
            std::env::var("LIVEQUEUE_E2E_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
        if std::path::Path::new(&chromium).is_file() {
            options["binary"] = json!(chromium);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut browser = None;
        while browser.is_none() {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => browser = Some(client),
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        Self {
            client: browser.expect("a session"),
            driver,
            profile,
        }
    }

    /// Opens `url` in the top window.
    pub async fn goto(&self, url: &str) {
        self.top().await;
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Runs `script` (a function body; `return` gives its value) in the current frame.
    pub async fn js(&self, script: &str) -> Json {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs `script` in the current frame until it returns something [`accepted`], and
    /// returns that; fails after `timeout` naming `what` and the last value.
    pub async fn wait_js(&self, what: &str, script: &str, timeout: Duration) -> Json {
        self.wait(None, what, script, timeout).await
    }

    /// Runs `script` inside the top page's `index`-th frame, then returns to the top page.
    pub async fn js_in_frame(&self, index: u16, script: &str) -> Json {
        self.enter(index).await;
        let value = self.js(script).await;
        self.top().await;
        value
    }

    /// `script` inside the top page's `index`-th frame, or why it could not run there.
    pub async fn try_js_in_frame(&self, index: u16, script: &str) -> Result<Json, String> {
        self.attempt(Some(index), script).await
    }

    /// [`Browser::wait_js`] inside the top page's `index`-th frame (entered afresh on every
    /// try, so a frame still loading is waited for too).
    pub async fn wait_in_frame(
        &self,
        index: u16,
        what: &str,
        script: &str,
        timeout: Duration,
    ) -> Json {
        self.wait(Some(index), what, script, timeout).await
    }

    /// Tries `script` every 100 ms, in the current frame or in the top page's `frame`-th,
    /// until its answer is [`accepted`].
    async fn wait(&self, frame: Option<u16>, what: &str, script: &str, timeout: Duration) -> Json {
        let deadline = Instant::now() + timeout;
        loop {
            match self.attempt(frame, script).await {
                Ok(v) if accepted(&v) => return v,
                last => assert!(
                    Instant::now() < deadline,
                    "{what}: not within {timeout:?} (last: {last:?})"
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `script` in the current frame (`None`) or in the top page's `frame`-th (and back).
    async fn attempt(&self, frame: Option<u16>, script: &str) -> Result<Json, String> {
        let Some(index) = frame else {
            return self
                .client
                .execute(script, Vec::new())
                .await
                .map_err(|e| e.to_string());
        };
        self.top().await;
        let value = match self.client.enter_frame(index).await {
            Ok(()) => self
                .client
                .execute(script, Vec::new())
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        self.top().await;
        value
    }

    /// Back to the top page: frames here are one level deep, and WebDriver's "parent
    /// frame" of the top page is the top page.
    async fn top(&self) {
        // Fails only without a window, which the next command reports.
        let _ = self.client.enter_parent_frame().await;
    }

    async fn enter(&self, index: u16) {
        self.top().await;
        self.client
            .enter_frame(index)
            .await
            .unwrap_or_else(|e| panic!("no frame {index}: {e}"));
    }

    /// Ends the session (Chromium quits); the drop then ends chromedriver.
    pub async fn close(mut self) {
        let client = self.client.clone();
        // The drop below ends the processes whatever happens here.
        let _ = client.close().await;
        self.stop();
    }

    fn stop(&mut self) {
        // The negative id is chromedriver's process group: it and its Chromium.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.driver.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

/// Whether a waited-for answer is the awaited one: an object with an `ok` field when that
/// is `true` (the other fields explain a timeout), anything else when it is truthy.
pub fn accepted(value: &Json) -> bool {
    match value.get("ok") {
        Some(ok) => ok == true,
        None => truthy(value),
    }
}

/// JavaScript's truthiness of a WebDriver answer.
pub fn truthy(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(_) | Json::Object(_) => true,
    }
}
