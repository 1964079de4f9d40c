//! The OpenAPI document is generated from the code; these tests hold it to
//! what the server does. The operations it lists are the ones the server
//! routes, both ways; each operation refuses the callers its security
//! leaves out; the document is valid OpenAPI 3.1 (openapi-spec-validator);
//! and a client generated from it (openapi-python-client) runs the
//! README's demo flow. The tools come from scripts/openapi.sh
//! (`PARLEY_OPENAPI_TOOLS`).

use parley_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The routes that serve the browser pages, not the API.
const PAGES: [&str; 5] = [
    "/agent",
    "/supervisor",
    "/chat/demo",
    "/chat/widget.js",
    "/web/{file}",
];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every documented operation: path, method, and its security
/// requirements.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.push((method.to_string(), path.clone(), operation.clone()));
            }
        }
    }
    operations
}

/// The paths the server routes, as axum's router lists them in its debug
/// form (the only place it lists them).
fn routed_paths() -> BTreeSet<String> {
    let router = format!("{:?}", parley_server::routes());
    let paths = router
        .split("fallback_router")
        .next()
        .expect("the router's own routes");
    let route = regex::Regex::new(r#"RouteId\(\d+\): "([^"]*)""#).unwrap();
    let found: BTreeSet<String> = route
        .captures_iter(paths)
        .map(|c| c[1].to_string())
        .collect();
    assert!(
        found.contains("/v1/openapi.json"),
        "the router's debug form no longer lists its routes as expected: {found:?}"
    );
    found
}

/// `path` with each parameter replaced by `x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The methods `path` is routed for: axum answers a method it has no route
/// for (TRACE has none anywhere) with 405 and the `Allow` header.
async fn routed_methods(http: &reqwest::Client, base: &str, path: &str) -> BTreeSet<String> {
    let response = http
        .request(Method::TRACE, format!("{base}{}", concrete(path)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "TRACE {path}"
    );
    let allow = response.headers()["allow"].to_str().unwrap().to_lowercase();
    let methods: BTreeSet<String> = allow.split(',').map(|m| m.trim().to_string()).collect();
    // GET routes answer HEAD too.
    methods.into_iter().filter(|m| m != "head").collect()
}

/// Calls `method path` (parameters filled in) with `token` as bearer (none
/// if empty) and `query`; the status and body (empty for streams).
async fn call(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    token: &str,
    query: &str,
) -> (StatusCode, String) {
    let mut request = http.request(
        method.to_uppercase().parse().unwrap(),
        format!("{base}{}{query}", concrete(path)),
    );
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let streaming = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return (status, String::new());
    }
    (status, response.text().await.unwrap())
}

async fn served_document(server: &TestServer) -> Value {
    let (status, doc) = server.admin().with_token("").get("/v1/openapi.json").await;
    assert_eq!(status, 200);
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_operations_are_served_and_served_ones_documented() {
    let server = TestServer::start(|_| {}).await;
    let doc = served_document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc,
        serde_json::to_value(parley_server::api().1).unwrap(),
        "the served document is the one the code builds"
    );
    let ops = operations(&doc);
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, path, _) in &ops {
        documented
            .entry(path.clone())
            .or_default()
            .insert(method.clone());
    }

    // Served => documented: every route is a documented path (or a page)...
    let mut routed = routed_paths();
    for page in PAGES {
        assert!(routed.remove(page), "page {page} is not routed");
    }
    let documented_paths: BTreeSet<String> = documented.keys().cloned().collect();
    assert_eq!(
        routed, documented_paths,
        "routed paths (left) and documented paths (right) differ"
    );
    // ...whose every routed method is documented, and the other way round.
    let http = reqwest::Client::new();
    let base = server.url("");
    for (path, methods) in &documented {
        assert_eq!(
            &routed_methods(&http, &base, path).await,
            methods,
            "{path}: routed methods (left) and documented ones (right) differ"
        );
    }

    // Documented => served: each operation reaches its handler, which
    // answers (a 404 of the handler's own has an error body; the router's
    // has none).
    let admin = server.admin();
    for (method, path, _) in &ops {
        let (status, body) = call(&http, &base, method, path, &admin.token, "").await;
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED
                && status != StatusCode::INTERNAL_SERVER_ERROR
                && (status != StatusCode::NOT_FOUND || body.contains("\"code\"")),
            "{method} {path}: {status} {body}"
        );
    }
}

/// The least role each kind of credential needs, from an operation's
/// security requirements.
fn required_roles(operation: &Value) -> BTreeMap<String, String> {
    let mut roles = BTreeMap::new();
    for requirement in operation["security"].as_array().expect("security") {
        for (scheme, scopes) in requirement.as_object().unwrap() {
            let role = scopes[0].as_str().unwrap_or("admin").to_string();
            roles.insert(scheme.clone(), role);
        }
    }
    roles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_refuses_the_callers_its_security_leaves_out() {
    let server = TestServer::start(|_| {}).await;
    let doc = served_document(&server).await;
    let admin = server.admin();
    admin
        .create_agent(json!({"id": "ann", "password": "ann-secret-1"}))
        .await;
    let session = admin.login("ann", "ann-secret-1").await;
    let key = admin
        .ok_post("/v1/api-keys", json!({"name": "reader", "role": "agent"}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let base = server.url("");
    let mut checked = BTreeMap::<&str, usize>::new();
    for (method, path, operation) in operations(&doc) {
        let roles = required_roles(&operation);
        let what = format!("{method} {path}");
        let (status, body) = call(&http, &base, &method, &path, "", "").await;
        if roles.is_empty() {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{what} is public: {body}");
            *checked.entry("public").or_default() += 1;
            continue;
        }
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{what} without credential: {body}"
        );
        if roles.contains_key("chatKey") {
            *checked.entry("chat key").or_default() += 1;
            continue;
        }
        let role = &roles["session"];
        // An agent's session is refused where more than an agent is needed.
        if role != "agent" {
            let (status, body) = call(&http, &base, &method, &path, &session.token, "").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{what} as an agent: {body}");
        }
        // An agent's API key: refused for its role, or for not being a
        // session where only sessions are.
        let (status, body) = call(&http, &base, &method, &path, &key, "").await;
        if role != "agent" {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{what} with an API key: {body}"
            );
        } else if !roles.contains_key("apiKey") {
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{what} with an API key: {body}"
            );
            assert!(body.contains("\"bad-request\""), "{what}: {body}");
        } else {
            // Let in (the handler may still refuse what is not the key's).
            assert_ne!(
                status,
                StatusCode::UNAUTHORIZED,
                "{what} with an agent's API key: {body}"
            );
        }
        // `?token=` counts only where the document says so.
        let query = format!("?token={}", admin.token);
        let (status, body) = call(&http, &base, &method, &path, "", &query).await;
        if roles.contains_key("tokenQuery") {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{what}{query}: {body}");
            *checked.entry("token in query").or_default() += 1;
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}{query}: {body}");
        }
        *checked
            .entry(if role == "agent" { "agent" } else { "more" })
            .or_default() += 1;
    }
    for kind in ["public", "chat key", "agent", "more", "token in query"] {
        assert!(
            checked.contains_key(kind),
            "no {kind} operation: {checked:?}"
        );
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A tool of scripts/openapi.sh.
fn tool(name: &str) -> PathBuf {
    let dir = std::env::var("PARLEY_OPENAPI_TOOLS")
        .expect("PARLEY_OPENAPI_TOOLS: source scripts/openapi.sh first");
    PathBuf::from(dir).join(name)
}

fn run(command: &mut Command, what: &str) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_openapi_3_1() {
    let server = TestServer::start(|_| {}).await;
    let doc = served_document(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let report = run(
        Command::new(tool("openapi-spec-validator"))
            .args(["--schema", "3.1.0"])
            .arg(&file),
        "openapi-spec-validator",
    );
    assert!(report.contains("OK"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_generated_from_the_document_runs_the_demo_flow() {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("parley_client");
    run(
        Command::new(tool("openapi-python-client"))
            .args(["generate", "--meta", "none", "--url"])
            .arg(server.url("/v1/openapi.json"))
            .arg("--output-path")
            .arg(&package),
        "openapi-python-client generate",
    );
    let report = run(
        Command::new(tool("python"))
            .arg(workspace().join("tests/openapi/demo_flow.py"))
            .env("PYTHONPATH", dir.path())
            .env("PARLEY_URL", server.url(""))
            .env("PARLEY_ADMIN_TOKEN", &server.admin().token),
        "the demo flow with the generated client",
    );
    assert!(report.contains("demo flow done"), "{report}");
}
