//! Every JSON request body of the HTTP API, against a running server: the
//! operations are read from the OpenAPI document, each called with the
//! credential its security names. An input is the operation's line
//! (`POST /v1/chat/sessions`; any other line picks one by its hash) and
//! the body below it. Bad input is the caller's error: no body may make
//! the server answer 5xx or stop answering.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::app::RunningServer;
use parley::settings::Settings;
use reqwest::Method;
use serde_json::{Value as Json, json};
use std::sync::LazyLock;
use tokio::runtime::Runtime;
use utoipa::openapi::RefOr;

const ADMIN_TOKEN: &str = "fuzz-admin-token-0123";

/// Who an operation is called as.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    /// The key of the customer chat made at start.
    ChatKey,
    /// The admin token (operations open to a role).
    Admin,
    /// A supervisor's session (operations only an account may call).
    Session,
}

/// An operation that takes a JSON body.
#[derive(Debug)]
struct Operation {
    /// `METHOD /path/{param}`, as the document writes it.
    line: String,
    method: Method,
    /// The path with its parameters filled in.
    path: String,
    caller: Caller,
}

/// The server, what it was given at start, and the operations to call.
struct Target {
    runtime: Runtime,
    http: reqwest::Client,
    base: String,
    session: String,
    chat_key: String,
    operations: Vec<Operation>,
    _server: RunningServer,
    _data: tempfile::TempDir,
}

/// Limits that would turn a fuzzer's calls into 429s are lifted; the rest
/// is the default server.
fn settings(data_dir: &std::path::Path) -> Settings {
    let text = format!(
        r#"
listen = "127.0.0.1:0"
data-dir = {data_dir:?}
admin-token = "{ADMIN_TOKEN}"
[quotas]
login = {{ per-minute = 0, burst = 1 }}
chat-start = {{ per-minute = 0, burst = 1 }}
form-post = {{ per-minute = 0, burst = 1 }}
[chat]
customer-messages = {{ per-minute = 0, burst = 1 }}
"#,
        data_dir = data_dir.display().to_string()
    );
    toml::from_str(&text).expect("fuzz settings")
}

/// The value of path parameter `name` in `path`: the resources made at
/// start where the path names one, else a name nothing has.
fn parameter(path: &str, name: &str, chat: &str, contact: &str) -> String {
    let value = match (path.split('/').nth(2).unwrap_or(""), name) {
        ("chat" | "chats" | "interactions" | "emails", _) => chat,
        ("agents", "id") => "fuzz-target-agent",
        ("contacts", _) => contact,
        ("plugins", "name") => "skills-router",
        _ => "unknown",
    };
    value.to_string()
}

/// Every operation of the OpenAPI document that takes a JSON body.
fn operations(chat: &str, contact: &str) -> Vec<Operation> {
    let (_, document) = parley_server::api();
    let mut operations = Vec::new();
    for (template, item) in document.paths.paths {
        let methods = [
            (&item.post, Method::POST),
            (&item.put, Method::PUT),
            (&item.patch, Method::PATCH),
        ];
        for (operation, method) in methods {
            let Some(operation) = operation else { continue };
            let json_body = operation
                .request_body
                .as_ref()
                .is_some_and(|body| match body {
                    RefOr::T(body) => body.content.contains_key("application/json"),
                    RefOr::Ref(_) => false,
                });
            if !json_body {
                continue;
            }
            // A requirement is written `{"scheme": [roles]}`.
            let schemes: Vec<String> = operation
                .security
                .iter()
                .flatten()
                .filter_map(|requirement| serde_json::to_value(requirement).ok())
                .filter_map(|requirement| requirement.as_object().cloned())
                .flat_map(|requirement| requirement.into_iter().map(|(scheme, _)| scheme))
                .collect();
            let names = |scheme: &str| schemes.iter().any(|s| s == scheme);
            let caller = if names("chatKey") {
                Caller::ChatKey
            } else if names("adminToken") {
                Caller::Admin
            } else if names("session") {
                Caller::Session
            } else {
                Caller::Anonymous
            };
            let mut path = template.clone();
            while let Some(start) = path.find('{') {
                let end = start + path[start..].find('}').expect("a closed parameter");
                let value = parameter(&template, &path[start + 1..end], chat, contact);
                path.replace_range(start..=end, &value);
            }
            operations.push(Operation {
                line: format!("{method} {template}"),
                method,
                path,
                caller,
            });
        }
    }
    operations.sort_by(|a, b| a.line.cmp(&b.line));
    assert!(operations.len() > 20, "the document lists the API's bodies");
    operations
}

/// Posts `body` as `token` and answers the JSON reply, or panics.
async fn made(http: &reqwest::Client, url: String, token: Option<&str>, body: Json) -> Json {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let reply: Json = response.json().await.expect("a JSON reply");
    assert!(status.is_success(), "{body} refused: {status} {reply}");
    reply
}

static TARGET: LazyLock<Target> = LazyLock::new(|| {
    let runtime = Runtime::new().expect("a runtime");
    let data = tempfile::tempdir().expect("a data directory");
    let server = runtime
        .block_on(parley::app::start(settings(data.path())))
        .expect("the server starts");
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let (session, chat, chat_key, contact) = runtime.block_on(async {
        let admin = Some(ADMIN_TOKEN);
        for (id, role) in [
            ("fuzz-supervisor", "supervisor"),
            ("fuzz-target-agent", "agent"),
        ] {
            let spec =
                json!({"id": id, "name": id, "password": "fuzz-password-0123", "role": role});
            made(&http, format!("{base}/v1/agents"), admin, spec).await;
        }
        let login = json!({"id": "fuzz-supervisor", "password": "fuzz-password-0123"});
        let session = made(&http, format!("{base}/v1/sessions"), None, login).await;
        let chat = json!({"nickname": "Fuzz", "email": "fuzz@example.com"});
        let chat = made(&http, format!("{base}/v1/chat/sessions"), None, chat).await;
        let contact = json!({"name": "Fuzz Contact"});
        let contact = made(&http, format!("{base}/v1/contacts"), admin, contact).await;
        let text = |v: &Json, key: &str| v[key].as_str().expect(key).to_string();
        (
            text(&session, "token"),
            text(&chat, "id"),
            text(&chat, "key"),
            text(&contact, "id"),
        )
    });
    let operations = operations(&chat, &contact);
    Target {
        runtime,
        http,
        base,
        session,
        chat_key,
        operations,
        _server: server,
        _data: data,
    }
});

fuzz_target!(
    // Starting the server compiles the bundled plugins: not a unit's time.
    init: {
        LazyLock::force(&TARGET);
    },
    |data: &[u8]| call(data)
);

fn call(data: &[u8]) {
    let (line, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let target = &*TARGET;
    let operations = &target.operations;
    let operation = operations
        .iter()
        .find(|o| o.line.as_bytes() == line)
        .unwrap_or_else(|| {
            let hash = line
                .iter()
                .fold(0usize, |h, &b| h.wrapping_mul(31).wrapping_add(b.into()));
            &operations[hash % operations.len()]
        });
    let mut request = target
        .http
        .request(
            operation.method.clone(),
            format!("{}{}", target.base, operation.path),
        )
        .header("content-type", "application/json")
        .body(body.to_vec());
    request = match operation.caller {
        Caller::Anonymous => request,
        Caller::ChatKey => request.header("x-chat-key", &target.chat_key),
        Caller::Admin => request.bearer_auth(ADMIN_TOKEN),
        Caller::Session => request.bearer_auth(&target.session),
    };
    let (status, reply) = target.runtime.block_on(async {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    });
    assert!(
        !status.is_server_error(),
        "{} {} answered {status} to {:?}: {reply}",
        operation.method,
        operation.path,
        String::from_utf8_lossy(body)
    );
}
