//! TLS: the listener serves HTTPS with a certificate from PEM files
//! (certificates made by `openssl` for each test), sends HSTS, and serves a
//! renewed certificate without a restart; the store talks to PostgreSQL
//! over TLS when the URL asks for it.

use parley_tests::TestServer;
use parley_tests::certificates::{make_ca, make_cert};
use parley_tests::client::PATIENCE;
use parley_tests::database::{TestDb, postgres_admin_url};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

/// GETs `/health` over TLS, trusting the test CA; the answer's head and
/// the certificate the server presented.
async fn get_health(addr: std::net::SocketAddr, ca: &Path) -> (String, CertificateDer<'static>) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der(ca)).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::IpAddress(addr.ip().into());
    let mut tls = connector.connect(name, tcp).await.expect("the handshake");
    let presented = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    tls.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.ok();
    (String::from_utf8_lossy(&answer).into_owned(), presented)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_hsts_and_a_certificate_renewed_in_place() {
    let certs = tempfile::tempdir().unwrap();
    make_ca(certs.path());
    make_cert(certs.path(), "first");
    make_cert(certs.path(), "second");
    let live_cert = certs.path().join("live.pem");
    let live_key = certs.path().join("live.key");
    std::fs::copy(certs.path().join("first.pem"), &live_cert).unwrap();
    std::fs::copy(certs.path().join("first.key"), &live_key).unwrap();
    let settings = format!(
        "[http]\ntls = {{ cert = {:?}, key = {:?} }}\n",
        live_cert.display().to_string(),
        live_key.display().to_string()
    );
    let (server, _) = TestServer::with_admin(None, &settings).await;
    let addr = server.server.addr;
    let ca = certs.path().join("ca.pem");

    let (answer, presented) = get_health(addr, &ca).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{answer}"
    );
    assert_eq!(presented, der(&certs.path().join("first.pem")));

    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::get(format!("http://{addr}/health")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // A renewal replaces both files; new connections get the new one.
    let renewed = der(&certs.path().join("second.pem"));
    std::fs::copy(certs.path().join("second.key"), &live_key).unwrap();
    std::fs::copy(certs.path().join("second.pem"), &live_cert).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (answer, presented) = get_health(addr, &ca).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        if presented == renewed {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the renewed certificate was never served"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_does_not_fit_its_certificate_refuses_to_start() {
    let certs = tempfile::tempdir().unwrap();
    make_ca(certs.path());
    make_cert(certs.path(), "first");
    make_cert(certs.path(), "second");
    let data = tempfile::tempdir().unwrap();
    let settings: parley::settings::Settings = toml::from_str(&format!(
        "listen = \"127.0.0.1:0\"\ndata-dir = {:?}\nadmin-token = \"test-admin-token-0123\"\n[http]\ntls = {{ cert = {:?}, key = {:?} }}\n",
        data.path().display().to_string(),
        certs.path().join("first.pem").display().to_string(),
        certs.path().join("second.key").display().to_string(),
    ))
    .unwrap();
    let error = parley::app::start(settings).await.err().expect("refused");
    assert!(error.to_string().contains("does not fit"), "{error:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_reaches_postgresql_over_tls_when_asked() {
    let db = TestDb::postgres().await;
    let TestDb::Postgres { name } = &db else {
        unreachable!()
    };
    let server = TestServer::on_database(format!("{}?sslmode=require", db.url()), "").await;
    let admin = server.admin();
    let (status, _) = admin.get("/v1/agents").await;
    assert_eq!(status, 200);
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url())
        .await
        .unwrap();
    let (plain, encrypted): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE NOT s.ssl), count(*) FILTER (WHERE s.ssl) \
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(encrypted > 0, "the server's connections use TLS");
    assert_eq!(plain, 0, "none is in the clear");
}
