//! The browser pages, built into the binary: the chat widget any site
//! embeds (`/chat/widget.js`), its demo page (`/chat/demo`), the agent
//! desktop (`/agent`), the supervisor view (`/supervisor`) and the files
//! they load (`/web/{file}`). Plain HTML, CSS and JavaScript from
//! `crates/server/web/`, nothing to build; served with `Cache-Control: no-cache` so
//! a new server version is picked up at the next load.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::{Arc, LazyLock};

use super::{AppState, channel};

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// What the desktop pages may load and connect to: their own origin only.
const DESKTOP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Page {
    body: &'static str,
    content_type: &'static str,
    /// A Content-Security-Policy, for the desktop pages.
    policy: Option<&'static str>,
}

const WIDGET: Page = Page {
    body: include_str!("../web/widget.js"),
    content_type: JS,
    policy: None,
};
const DEMO: Page = Page {
    body: include_str!("../web/chat-demo.html"),
    content_type: HTML,
    policy: None,
};
const AGENT: Page = Page {
    body: include_str!("../web/agent.html"),
    content_type: HTML,
    policy: Some(DESKTOP_POLICY),
};
const SUPERVISOR: Page = Page {
    body: include_str!("../web/supervisor.html"),
    content_type: HTML,
    policy: Some(DESKTOP_POLICY),
};

/// The desktop's `views.js`, made once from the channels.
static VIEWS: LazyLock<String> = LazyLock::new(channel::views_module);

/// The files under `/web/`.
fn asset(name: &str) -> Option<Page> {
    let (body, content_type) = match name {
        "agent.js" => (include_str!("../web/agent.js"), JS),
        "supervisor.js" => (include_str!("../web/supervisor.js"), JS),
        "common.js" => (include_str!("../web/common.js"), JS),
        "case.js" => (include_str!("../web/case.js"), JS),
        "supervisor-email.js" => (include_str!("../web/supervisor-email.js"), JS),
        "parley.css" => (include_str!("../web/parley.css"), CSS),
        "widget.js" => (WIDGET.body, JS),
        // Each channel's view, and the module that gathers them.
        "views.js" => (VIEWS.as_str(), JS),
        module => (channel::desktop_module(module)?, JS),
    };
    Some(Page {
        body,
        content_type,
        policy: None,
    })
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        if let Some(policy) = self.policy {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(policy),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        response
    }
}

async fn web_file(Path(name): Path<String>) -> Response {
    match asset(&name) {
        Some(page) => page.into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The page routes: `/chat/widget.js`, `/chat/demo`, `/agent`,
/// `/supervisor` and `/web/{file}`; public, like the pages they serve
/// (the pages sign in through the API).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/chat/widget.js", get(|| async { WIDGET }))
        .route("/chat/demo", get(|| async { DEMO }))
        .route("/agent", get(|| async { AGENT }))
        .route("/supervisor", get(|| async { SUPERVISOR }))
        .route("/web/{file}", get(web_file))
}
