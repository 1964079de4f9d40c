//! TLS with rustls. The certificate and key are read from PEM files at
//! start (a bad pair refuses to start) and again whenever either file
//! changes, so a renewed certificate is served to new connections without
//! a restart; a bad renewal is logged and the current pair kept.

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

use super::TlsFiles;
use parley_core::watch::Watch;

/// The certificate served now.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a certificate chain and its key, and checks they belong together.
fn load(files: &TlsFiles) -> anyhow::Result<CertifiedKey> {
    let read_error =
        |path: &Path, e: rustls_pki_types::pem::Error| anyhow::anyhow!("{}: {e}", path.display());
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| read_error(&files.cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read_error(&files.cert, e))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "{} holds no certificate",
        files.cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| read_error(&files.key, e))?;
    CertifiedKey::from_der(certs, key, &provider()).map_err(|e| {
        anyhow::anyhow!(
            "the key {} does not fit the certificate {}: {e}",
            files.key.display(),
            files.cert.display()
        )
    })
}

/// A TLS acceptor serving the files' certificate, and the watch that
/// reloads it (dropping the watch stops reloading).
pub fn acceptor(files: &TlsFiles) -> anyhow::Result<(TlsAcceptor, Vec<Watch>)> {
    let current = Arc::new(Current(RwLock::new(Arc::new(load(files)?))));
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(current.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut watches = Vec::new();
    // Watch the directories: renewals usually replace the files.
    let mut dirs: Vec<&Path> = [&files.cert, &files.key]
        .iter()
        .filter_map(|p| p.parent())
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .collect();
    dirs.dedup();
    for dir in dirs {
        let files = files.clone();
        let current = current.clone();
        let names =
            [files.cert.file_name(), files.key.file_name()].map(|n| n.map(ToOwned::to_owned));
        let watch = parley_core::watch::watch(
            dir,
            false,
            move |changed| {
                names
                    .iter()
                    .flatten()
                    .any(|n| changed.file_name() == Some(n))
            },
            move |_| {
                let files = files.clone();
                let current = current.clone();
                async move {
                    match load(&files) {
                        Ok(key) => {
                            *current.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
                            tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                        }
                        Err(err) => tracing::error!(
                            "TLS certificate not reloaded, the current one is kept: {err}"
                        ),
                    }
                }
            },
        )?;
        watches.push(watch);
    }
    Ok((TlsAcceptor::from(Arc::new(config)), watches))
}
