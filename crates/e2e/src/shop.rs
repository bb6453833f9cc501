//! A shop on an origin of its own: a tiny axum server on `127.0.0.1:<port>` whose pages the
//! test writes ([`Shop::page`]). Origins differ by port, which is all a browser needs to
//! treat two loopback servers as two sites' origins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

type Pages = Arc<Mutex<HashMap<String, String>>>;

/// A running shop, stopped when dropped.
pub struct Shop {
    /// `http://127.0.0.1:<port>`.
    pub origin: String,
    pages: Pages,
    task: JoinHandle<()>,
}

impl Shop {
    /// A shop with no pages yet, listening on a free port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the shop");
        let origin = format!("http://{}", listener.local_addr().expect("shop address"));
        let pages = Pages::default();
        let app = Router::new().fallback(page).with_state(pages.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the shop stopped");
        });
        Self {
            origin,
            pages,
            task,
        }
    }

    /// Serves `html` at `path` from now on.
    pub fn page(&self, path: &str, html: String) {
        self.pages
            .lock()
            .expect("pages")
            .insert(path.to_owned(), html);
    }

    /// `origin + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn page(State(pages): State<Pages>, request: Request) -> Response {
    let html = pages
        .lock()
        .expect("pages")
        .get(request.uri().path())
        .cloned();
    match html {
        Some(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A page with `body`, recording for the test every `livequeue` message it receives
/// (`window.got`: `{origin, data}`) and every `livequeue:*` event that reaches its document
/// (`window.events`: `{type, detail, target}`).
pub fn recording_page(body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Test shop</title>
<script>
window.got = [];
window.events = [];
addEventListener("message", function (e) {{
  if (e.data && e.data.source === "livequeue") got.push({{ origin: e.origin, data: e.data }});
}});
["ready", "position", "admitted"].forEach(function (type) {{
  document.addEventListener("livequeue:" + type, function (e) {{
    events.push({{ type: type, detail: e.detail, target: e.target.tagName }});
  }});
}});
</script>
</head>
<body>
<h1>Test shop</h1>
{body}
</body>
</html>
"#
    )
}
