//! Headless Chromium through chromedriver, or headless Firefox through geckodriver, one
//! pair per test.
//!
//! The driver runs in a process group of its own, so dropping the [`Browser`] (also when a
//! test panics) ends it and the browser it started, by that group's id. Each session gets a
//! profile directory of its own under `TMPDIR`, removed with it.
//!
//! Firefox matters beside Chromium because its engine differs where the tests look hardest:
//! it caps an element's height at about 17.9 million px, half of Chromium's.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value as Json, json};

use crate::free_port;

/// How long a `wait_*` waits by default: the widget's first load (wasm compile) on a busy
/// 2-core machine takes a few seconds.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The view the tests lay pages out in, px: wide enough for the console's two columns.
const WINDOW: (u32, u32) = (1100, 1000);

/// A WebDriver session in a headless browser.
pub struct Browser {
    /// The session.
    pub client: Client,
    driver: Driver,
}

/// A running WebDriver server (in a process group of its own, with the browser it starts)
/// and the profile directory of its session: dropped, it ends both and removes the
/// directory, also when the session never opened.
struct Driver {
    process: Child,
    profile: PathBuf,
    /// The port it listens on.
    port: u16,
}

impl Driver {
    /// Starts `program` with `args`, quiet, in a process group of its own; its session will
    /// keep its profile in `profile`.
    fn spawn(program: PathBuf, args: &[String], profile: PathBuf, port: u16) -> Self {
        let mut command = Command::new(&program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let process = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        Self {
            process,
            profile,
            port,
        }
    }

    fn stop(&mut self) {
        // The negative id is the driver's process group: it and its browser.
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.process.try_wait().ok().flatten().is_none() {
            self.stop();
        } else {
            // The driver ended by itself; what its browser wrote is still there.
            let _ = std::fs::remove_dir_all(&self.profile);
        }
    }
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

/// `GECKODRIVER`, else `~/.cargo/bin/geckodriver` (where `cargo install` puts it); a
/// missing one fails the test.
fn geckodriver() -> PathBuf {
    let path = std::env::var_os("GECKODRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            PathBuf::from(home).join(".cargo/bin/geckodriver")
        });
    assert!(
        path.is_file(),
        "geckodriver is not at {}: install it (`cargo xtask setup --for-tests`, or `cargo \
         install geckodriver --version 0.37.1 --locked`) or set GECKODRIVER",
        path.display()
    );
    path
}

/// `LIVEQUEUE_E2E_FIREFOX`, else `/usr/bin/firefox-esr`; a missing one fails the test
/// (geckodriver would otherwise take whatever `firefox` is on `PATH`, or none).
fn firefox() -> PathBuf {
    let path = std::env::var_os("LIVEQUEUE_E2E_FIREFOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/firefox-esr"));
    assert!(
        path.is_file(),
        "Firefox is not at {}: install it (`cargo xtask setup --for-tests`, or `apt-get \
         install firefox-esr`) or set LIVEQUEUE_E2E_FIREFOX",
        path.display()
    );
    path
}

/// A fresh session on the driver listening at `port`, retried while it starts.
async fn connect(port: u16, capabilities: serde_json::Map<String, Json>) -> Client {
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session in headless Chromium.
    pub async fn start() -> Self {
        let port = free_port();
        let profile = std::env::temp_dir().join(format!(
            "livequeue-e2e-chromium-{}-{port}",
            std::process::id()
        ));
        let driver = Driver::spawn(chromedriver(), &[format!("--port={port}")], profile, port);
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
                format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                format!("--user-data-dir={}", driver.profile.display()),
            ]
        });
        let chromium =
            std::env::var("LIVEQUEUE_E2E_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
        if std::path::Path::new(&chromium).is_file() {
            options["binary"] = json!(chromium);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        Self {
            client: connect(port, capabilities).await,
            driver,
        }
    }

    /// Starts geckodriver on a free port and opens a session in headless Firefox.
    pub async fn start_firefox() -> Self {
        let binary = firefox();
        let port = free_port();
        let profile = std::env::temp_dir().join(format!(
            "livequeue-e2e-firefox-{}-{port}",
            std::process::id()
        ));
        // geckodriver writes its preferences into a profile given with `-profile` (which
        // must exist) and reads Firefox's Marionette port from it, so sessions side by side
        // do not share a port; its own temporary profile would outlive a killed session.
        std::fs::create_dir_all(&profile)
            .unwrap_or_else(|e| panic!("cannot make {}: {e}", profile.display()));
        let options = json!({
            "binary": binary,
            "args": ["-headless", "-profile", profile],
        });
        let driver = Driver::spawn(
            geckodriver(),
            &["--port".into(), port.to_string()],
            profile,
            port,
        );
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("firefox"));
        capabilities.insert("moz:firefoxOptions".into(), options);
        let browser = Self {
            client: connect(port, capabilities).await,
            driver,
        };
        // Firefox has no window-size flag: the session sizes the window.
        browser
            .client
            .set_window_size(WINDOW.0, WINDOW.1)
            .await
            .unwrap_or_else(|e| panic!("cannot size the Firefox window: {e}"));
        browser
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

    /// Sends the Chrome DevTools Protocol command `method` with `params` to the current
    /// window, through chromedriver's `goog/cdp/execute` (Chromium only): what WebDriver
    /// cannot do, such as freezing a page (`Page.setWebLifecycleState`) or crashing it
    /// (`Page.crash`, which gets no answer). The command's result, or why there is none.
    pub async fn cdp(&self, method: &str, params: Json) -> Result<Json, String> {
        let session = self
            .client
            .session_id()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no WebDriver session")?;
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
            self.driver.port
        );
        let answer = reqwest::Client::new()
            .post(&url)
            .json(&json!({ "cmd": method, "params": params }))
            .send()
            .await
            .map_err(|e| format!("{method}: no answer from chromedriver: {e}"))?;
        let status = answer.status();
        let body: Json = answer.json().await.unwrap_or(Json::Null);
        if !status.is_success() {
            return Err(format!("{method} refused ({status}): {body}"));
        }
        Ok(body["value"].clone())
    }

    /// Ends the session (the browser quits), then the driver.
    pub async fn close(self) {
        let Self { client, mut driver } = self;
        // The driver's drop ends the processes whatever happens here.
        let _ = client.close().await;
        driver.stop();
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
