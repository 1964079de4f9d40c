//! The versioned plugin contract: a component built against the frozen
//! `parley:plugin@0.1.0` and one built against the latest run side by side
//! and behave the same; what 0.2.0 added (secrets the operator configures,
//! the host pattern engine, outbound HTTP) works, is bounded by the
//! operator, and keeps secret values out of everything the host writes.

use parley_plugin::bindings::routing::Change;
use parley_plugin::bindings::types::{AgentCandidate, Attribute, Value};
use parley_plugin::cases::{load_cases, run_cases};
use parley_plugin::manifest::OperatorSecret;
use parley_plugin::observe::RouterCall;
use parley_plugin::observe::recorder::{Recorder, RecordingSettings};
use parley_plugin::outbound::HttpLimits;
use parley_plugin::versions::VersionStore;
use parley_plugin::{GrantPolicy, LimitPolicy, PluginVersion, Registry};
use parley_tests::certificates::{make_ca, make_cert};
use parley_tests::{bundled_plugin, engine, guests, interaction, write_plugin};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The value of the operator's secret in these tests.
const SECRET: &str = "tok-7f3a9c-very-secret";

/// The probe router's grants: it imports every host interface and
/// outbound HTTP (here to an address nothing listens on).
const PROBE_GRANTS: &str = "[capabilities]\nkv = true\ncalls = [\"rules-screener\"]\nsecrets = [\"crm-token\"]\nhttp = [\"http://127.0.0.1:9\"]";

fn new_registry(root: &Path, policy: LimitPolicy) -> Arc<Registry> {
    Registry::new(engine(), policy, VersionStore::new(root.join("versions")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_strategy_built_against_both_contracts_runs_side_by_side() {
    let root = tempfile::tempdir().unwrap();
    let registry = new_registry(root.path(), LimitPolicy::default());
    let plugins = root.path().join("plugins");
    let latest = bundled_plugin(&plugins, "skills-router");
    // The same sources built against the frozen 0.1.0 contract, with the
    // same manifest and cases under another name.
    let old = plugins.join("skills-router-v0-1");
    std::fs::create_dir_all(old.join("cases")).unwrap();
    for case in std::fs::read_dir(latest.join("cases")).unwrap() {
        let case = case.unwrap().path();
        std::fs::copy(&case, old.join("cases").join(case.file_name().unwrap())).unwrap();
    }
    std::fs::copy(guests::SKILLS_ROUTER_V0_1, old.join("skills_router.wasm")).unwrap();
    let manifest = std::fs::read_to_string(latest.join("plugin.toml")).unwrap();
    std::fs::write(
        old.join("plugin.toml"),
        manifest.replace("name = \"skills-router\"", "name = \"skills-router-v0-1\""),
    )
    .unwrap();
    // Loading runs each one's cases: both go live.
    registry.load_dir(&latest, "test").await.unwrap();
    registry.load_dir(&old, "test").await.unwrap();
    let new = registry.get("skills-router").unwrap();
    let frozen = registry.get("skills-router-v0-1").unwrap();
    assert_eq!(new.export_name(), "parley:plugin/routing@0.2.0");
    assert_eq!(frozen.export_name(), "parley:plugin/routing@0.1.0");

    let cases = load_cases(&latest.join("cases")).unwrap();
    assert!(cases.len() >= 10, "{} cases", cases.len());
    for version in [&new, &frozen] {
        let reports = run_cases(version, &cases).await.unwrap();
        let failed: Vec<_> = reports.iter().filter(|r| !r.passed()).collect();
        assert!(failed.is_empty(), "{}: {failed:?}", version.name());
        assert_eq!(reports.len(), cases.len());
    }

    // Live calls answer the same, decisions included.
    let mut ix = interaction("side-by-side");
    ix.media_type = "chat".into();
    let candidates: Vec<AgentCandidate> = ["ann", "bob"]
        .iter()
        .enumerate()
        .map(|(i, id)| AgentCandidate {
            id: id.to_string(),
            skills: vec![parley_plugin::bindings::types::SkillLevel {
                name: "support".into(),
                level: 3,
            }],
            groups: Vec::new(),
            load: vec![parley_plugin::bindings::types::MediaLoad {
                media_type: "chat".into(),
                active: 0,
                capacity: 2,
            }],
            idle_ms: 1000 * (i as u64 + 1),
        })
        .collect();
    let picked_new = new.pick_agent(&ix, &candidates).await.unwrap().value;
    let picked_old = frozen.pick_agent(&ix, &candidates).await.unwrap().value;
    assert_eq!(picked_new, Some("bob".to_string()), "longest idle");
    assert_eq!(picked_old, picked_new);
    let decided_new = new.on_queued(&ix).await.unwrap().value;
    let decided_old = frozen.on_queued(&ix).await.unwrap().value;
    assert_eq!(format!("{decided_old:?}"), format!("{decided_new:?}"));
}

/// A registry under `policy` with the probe router loaded from `manifest`.
async fn loaded_probe(
    root: &Path,
    policy: LimitPolicy,
    manifest: &str,
) -> (Arc<Registry>, Arc<PluginVersion>) {
    let registry = new_registry(root, policy);
    let probe = write_plugin(
        &root.join("plugins"),
        "probe",
        "router",
        guests::PROBE_ROUTER,
        manifest,
    );
    registry.load_dir(&probe, "test").await.unwrap();
    let version = registry.get("probe").unwrap();
    (registry, version)
}

/// Why the probe router with `manifest` is refused by `registry`.
async fn refused_probe(registry: &Registry, plugins: &Path, manifest: &str) -> String {
    let probe = write_plugin(plugins, "probe", "router", guests::PROBE_ROUTER, manifest);
    registry
        .load_dir(&probe, "test")
        .await
        .unwrap_err()
        .to_string()
}

/// A policy with the secret `crm-token` for the plugins `allowed`.
fn policy_with_secret(allowed: &[&str]) -> LimitPolicy {
    LimitPolicy {
        grants: GrantPolicy {
            http: vec!["http://127.0.0.1:9".parse().unwrap()],
            secrets: BTreeMap::from([(
                "crm-token".to_string(),
                OperatorSecret {
                    value: SECRET.into(),
                    plugins: allowed.iter().map(|p| p.to_string()).collect(),
                },
            )]),
            ..GrantPolicy::default()
        },
        ..LimitPolicy::default()
    }
}

/// An interaction carrying `probes` for the probe router.
fn probing(probes: &[&str]) -> parley_plugin::bindings::types::Interaction {
    let mut ix = interaction("probe");
    ix.attached.push(Attribute {
        key: "probe".into(),
        value: Value::Texts(probes.iter().map(|p| p.to_string()).collect()),
    });
    ix
}

/// The attributes a probe decision set, by probe.
fn outcomes(changes: &[Change]) -> BTreeMap<String, String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::SetAttribute(Attribute {
                key,
                value: Value::Text(text),
            }) => Some((key.clone(), text.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_secret_is_read_and_redacted_from_errors_and_recordings() {
    let root = tempfile::tempdir().unwrap();
    let (registry, version) =
        loaded_probe(root.path(), policy_with_secret(&["probe"]), PROBE_GRANTS).await;

    let decided = version
        .on_queued(&probing(&["secret:crm-token", "secret:other-token"]))
        .await
        .unwrap()
        .value;
    let got = outcomes(&decided.changes);
    assert_eq!(got["secret:crm-token"], SECRET);
    assert!(
        got["secret:other-token"].starts_with(
            "error: ErrorKind::Denied: the manifest does not grant the secret `other-token`"
        ),
        "{got:?}"
    );

    // A failure quoting the secret reaches the host redacted.
    let failure = version
        .on_queued(&probing(&["fail-with-secret:crm-token"]))
        .await
        .unwrap_err();
    let message = failure.to_string();
    assert!(!message.contains(SECRET), "{message}");
    assert!(
        message.contains("the service refused token [secret:crm-token]"),
        "{message}"
    );

    // A recorded call keeps no secret value, though the decision held it.
    let recordings = root.path().join("recordings");
    let recorder = Recorder::new(
        RecordingSettings {
            plugin: "probe".into(),
            sample: 1.0,
            max_bytes: 1 << 20,
            mask: Vec::new(),
        },
        &recordings,
    )
    .unwrap();
    registry.observers().set_recorder("probe", recorder);
    registry
        .observers()
        .route(
            &version,
            RouterCall::OnQueued(probing(&["secret:crm-token"])),
        )
        .await
        .unwrap();
    let recorded = std::fs::read_to_string(recordings.join("probe.jsonl")).unwrap();
    assert!(recorded.contains("[secret:crm-token]"), "{recorded}");
    assert!(!recorded.contains(SECRET), "{recorded}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_the_operator_does_not_allow_refuses_the_manifest() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    // Configured for another plugin only.
    let registry = new_registry(root.path(), policy_with_secret(&["crm-router"]));
    let err = refused_probe(&registry, &plugins, PROBE_GRANTS).await;
    assert!(
        err.contains("the secret `crm-token` may not be granted to `probe`"),
        "{err}"
    );
    // Not configured at all.
    let err = refused_probe(
        &registry,
        &plugins,
        &PROBE_GRANTS.replace("crm-token", "payroll-key"),
    )
    .await;
    assert!(
        err.contains("the secret `payroll-key` may not be granted: the operator configures no secret of that name"),
        "{err}"
    );
    assert!(registry.get("probe").is_err(), "nothing was loaded");
    // Any plugin, when the operator says so.
    let open = new_registry(&root.path().join("open"), policy_with_secret(&["*"]));
    let probe = write_plugin(
        &plugins,
        "probe",
        "router",
        guests::PROBE_ROUTER,
        PROBE_GRANTS,
    );
    open.load_dir(&probe, "test").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_cases_mock_secrets_and_their_reports_redact_them() {
    let root = tempfile::tempdir().unwrap();
    let registry = new_registry(root.path(), policy_with_secret(&["probe"]));
    let probe = write_plugin(
        &root.path().join("plugins"),
        "probe",
        "router",
        guests::PROBE_ROUTER,
        PROBE_GRANTS,
    );
    let cases = probe.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let input = serde_json::json!({
        "interaction": {
            "id": "c1", "tenant": "acme", "media-type": "chat", "queue": "inbound",
            "priority": 0, "age-ms": 0, "queue-age-ms": 0,
            "attached": [{"key": "probe", "value": {"texts": ["secret:crm-token"]}}]
        }
    });
    let case = |expected: &str| {
        serde_json::json!({
            "function": "on-queued",
            "input": input,
            "host": {"secrets": {"crm-token": "case-token-123"}},
            "expect": {"ok": {
                "action": {"route": {"target": {"agent": "probe"}, "timer": null}},
                "changes": [{"set-attribute": {"key": "secret:crm-token", "value": {"text": expected}}}]
            }}
        })
        .to_string()
    };
    std::fs::write(cases.join("mocked.json"), case("case-token-123")).unwrap();
    // Loading runs the case against the mock, never the operator's value.
    registry.load_dir(&probe, "test").await.unwrap();
    let version = registry.get("probe").unwrap();

    std::fs::write(cases.join("mismatch.json"), case("something else")).unwrap();
    let reports = run_cases(&version, &load_cases(&cases).unwrap())
        .await
        .unwrap();
    let by_name: BTreeMap<_, _> = reports.iter().map(|r| (r.name.as_str(), r)).collect();
    assert!(by_name["mocked"].passed(), "{:?}", by_name["mocked"]);
    let report = serde_json::to_string(by_name["mismatch"]).unwrap();
    assert!(!by_name["mismatch"].passed());
    assert!(report.contains("[secret:crm-token]"), "{report}");
    assert!(!report.contains("case-token-123"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_pattern_engine_compiles_matches_and_refuses_bad_patterns() {
    let root = tempfile::tempdir().unwrap();
    let (_registry, version) =
        loaded_probe(root.path(), policy_with_secret(&["probe"]), PROBE_GRANTS).await;
    let probes = [
        r"regex:(?i)order\s+(?P<number>[A-Z]{2}\d{2,})|Re: ORDER ab1234 is late",
        r"regex:(?P<word>\p{Greek}+)|say γειά now",
        r"regex:x(y)?z|xz",
        r"regex:nothing|here",
        r"regex:(unclosed|text",
        r"regex:(?<=look)behind|lookbehind",
    ];
    let decided = version.on_queued(&probing(&probes)).await.unwrap().value;
    let got = outcomes(&decided.changes);
    assert_eq!(got[probes[0]], "0=ORDER ab1234,number=ab1234");
    assert_eq!(got[probes[1]], "0=γειά,word=γειά");
    assert_eq!(got[probes[2]], "0=xz,1=-");
    assert_eq!(got[probes[3]], "no match");
    assert!(
        got[probes[4]].starts_with("error: ErrorKind::InvalidInput: regex parse error"),
        "{got:?}"
    );
    assert!(
        got[probes[5]].contains("look-around")
            && got[probes[5]].starts_with("error: ErrorKind::InvalidInput"),
        "{got:?}"
    );
}

/// A real HTTP server for plugins to reach: `/ok` (a small body), `/huge`
/// (5 MiB, its length announced), `/huge-stream` (5 MiB in chunks, its
/// length not announced), `/slow` (answers only when the test ends; each request to it
/// is announced on `slow_started`), `/redirect-in` (to `/ok`) and
/// `/redirect-out` (to `/ok` by the name `localhost`, another origin).
struct HttpPeer {
    port: u16,
    slow_started: Arc<tokio::sync::Notify>,
}

async fn http_peer() -> HttpPeer {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let slow_started = Arc::new(tokio::sync::Notify::new());
    let announce = slow_started.clone();
    let app = axum::Router::new()
        .route("/ok", get(|| async { "hello from the peer" }))
        .route("/huge", get(|| async { vec![b'x'; 5 << 20] }))
        .route(
            "/huge-stream",
            get(|| async {
                let chunks = (0..80).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 64 << 10]));
                axum::body::Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route(
            "/slow",
            get(move || {
                let announce = announce.clone();
                async move {
                    announce.notify_one();
                    std::future::pending::<()>().await;
                    "never"
                }
            }),
        )
        .route(
            "/redirect-in",
            get(move || async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("http://127.0.0.1:{port}/ok"))],
                )
                    .into_response()
            }),
        )
        .route(
            "/redirect-out",
            get(move || async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("http://localhost:{port}/ok"))],
                )
                    .into_response()
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    HttpPeer { port, slow_started }
}

/// The probe router granted outbound HTTP to `origin`, on a registry
/// whose operator allows it with small limits (300 ms, 1 MiB, one open
/// request).
async fn probe_with_http(root: &Path, origin: &str) -> Arc<PluginVersion> {
    let mut policy = policy_with_secret(&["probe"]);
    policy.grants.http = vec![origin.parse().unwrap()];
    policy.http = HttpLimits {
        timeout: Duration::from_millis(300),
        max_response_bytes: 1 << 20,
        concurrency: 1,
    };
    let manifest = format!(
        "[limits]\ndeadline-ms = 10000\nmemory-mb = 64\n{}",
        PROBE_GRANTS.replace("http://127.0.0.1:9", origin)
    );
    loaded_probe(root, policy, &manifest).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_reaches_only_granted_origins_within_the_operators_limits() {
    let peer = http_peer().await;
    let origin = format!("http://127.0.0.1:{}", peer.port);
    let root = tempfile::tempdir().unwrap();
    let version = probe_with_http(root.path(), &origin).await;
    let url = |path: &str| format!("http:{origin}{path}");
    let probes = [
        url("/ok"),
        format!("http:http://localhost:{}/ok", peer.port),
        url("/redirect-in"),
        url("/redirect-out"),
        url("/huge"),
        url("/huge-stream"),
        url("/slow"),
    ];
    let probes: Vec<&str> = probes.iter().map(String::as_str).collect();
    let decided = version.on_queued(&probing(&probes)).await.unwrap().value;
    let got = outcomes(&decided.changes);
    assert_eq!(got[probes[0]], "status=200 bytes=19", "{got:?}");
    assert_eq!(
        got[probes[1]], "error: ErrorCode::HttpRequestDenied",
        "{got:?}"
    );
    assert_eq!(got[probes[2]], "status=200 bytes=19", "{got:?}");
    assert_eq!(
        got[probes[3]], "error: ErrorCode::HttpRequestDenied",
        "{got:?}"
    );
    assert_eq!(
        got[probes[4]], "error: ErrorCode::HttpResponseBodySize(Some(1048576))",
        "{got:?}"
    );
    let streamed = &got[probes[5]];
    assert!(
        streamed.starts_with("error: HTTP response body size exceeds limit: 1048576 bytes after"),
        "{got:?}"
    );
    let read: usize = streamed
        .rsplit(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(read <= 1 << 20, "{read} bytes reached the plugin");
    assert!(
        got[probes[6]].starts_with("error: ErrorCode::Connection")
            && got[probes[6]].contains("Timeout"),
        "{got:?}"
    );

    // Counted: seven sent (the redirect in is two; one was refused for its
    // announced size, one timed out), two refused before sending.
    let http = version.http_counters().unwrap();
    assert_eq!(http.sent, 7, "{http:?}");
    assert_eq!(http.refused, 2, "{http:?}");
    assert_eq!(http.failed, 2, "{http:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_requests_are_capped_per_version() {
    let peer = http_peer().await;
    let origin = format!("http://127.0.0.1:{}", peer.port);
    let root = tempfile::tempdir().unwrap();
    let version = probe_with_http(root.path(), &origin).await;
    // One call holds the only permit on a request the server never answers
    // (until the operator's timeout); a call made meanwhile is refused.
    let slow = format!("http:{origin}/slow");
    let holder = {
        let version = version.clone();
        let slow = slow.clone();
        tokio::spawn(async move { version.on_queued(&probing(&[&slow])).await })
    };
    peer.slow_started.notified().await;
    let ok = format!("http:{origin}/ok");
    let decided = version.on_queued(&probing(&[&ok])).await.unwrap().value;
    assert_eq!(
        outcomes(&decided.changes)[&ok],
        "error: ErrorCode::ConnectionLimitReached"
    );
    holder.await.unwrap().unwrap();
    // The permit came back with the timed-out request.
    let decided = version.on_queued(&probing(&[&ok])).await.unwrap().value;
    assert_eq!(outcomes(&decided.changes)[&ok], "status=200 bytes=19");
}

/// A real HTTPS server on 127.0.0.1 whose certificate is signed by a CA of
/// the test's own, which the host does not trust. Each handshake's outcome
/// is sent on the returned channel (`Err` with the server's view of the
/// failure), and a completed handshake is answered with a small page.
async fn untrusted_https_peer(
    dir: &Path,
) -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>,
) {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::AsyncWriteExt;
    make_ca(dir);
    make_cert(dir, "peer");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from_pem_file(dir.join("peer.pem")).unwrap()],
        PrivateKeyDer::from_pem_file(dir.join("peer.key")).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (handshakes, outcomes) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            match acceptor.accept(tcp).await {
                Ok(mut tls) => {
                    let _ = handshakes.send(Ok(()));
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                }
                Err(e) => {
                    let _ = handshakes.send(Err(e.to_string()));
                }
            }
        }
    });
    (port, outcomes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_server_the_host_does_not_trust_fails_its_handshake() {
    let root = tempfile::tempdir().unwrap();
    let (port, mut handshakes) = untrusted_https_peer(root.path()).await;
    let origin = format!("https://127.0.0.1:{port}");
    let version = probe_with_http(root.path(), &origin).await;
    let url = format!("http:{origin}/ok");
    let decided = version.on_queued(&probing(&[&url])).await.unwrap().value;
    let got = outcomes(&decided.changes);
    assert_eq!(got[&url], "error: ErrorCode::TlsProtocolError", "{got:?}");
    // The server was reached, and the client (the host) refused its
    // certificate, issued by a CA it does not know, during the handshake.
    let seen = handshakes.recv().await.expect("a handshake");
    assert_eq!(seen, Err("received fatal alert: UnknownCA".to_string()));
    let http = version.http_counters().unwrap();
    assert_eq!((http.sent, http.failed), (1, 1), "{http:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_beyond_the_operators_list_or_http_without_a_grant_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    let registry = new_registry(root.path(), policy_with_secret(&["probe"]));
    let err = refused_probe(
        &registry,
        &plugins,
        &PROBE_GRANTS.replace("http://127.0.0.1:9", "https://api.example.com"),
    )
    .await;
    assert!(
        err.contains("the origin https://api.example.com:443 may not be granted (the operator allows [http://127.0.0.1:9] under `[limits] grantable-http`)"),
        "{err}"
    );
    let err = refused_probe(
        &registry,
        &plugins,
        &PROBE_GRANTS.replace("\nhttp = [\"http://127.0.0.1:9\"]", ""),
    )
    .await;
    assert!(
        err.contains("imports `wasi:http/outgoing-handler@")
            && err.contains("does not grant outbound HTTP"),
        "{err}"
    );
    for bad in [
        "ftp://example.com",
        "https://example.com/path",
        "https://user@example.com",
    ] {
        let manifest = PROBE_GRANTS.replace("http://127.0.0.1:9", bad);
        let err = refused_probe(&registry, &plugins, &manifest).await;
        assert!(err.contains("is not an origin"), "{bad}: {err}");
    }
}
