//! Connections to mail servers: TCP, TLS from the first byte, or plain
//! text upgraded by the protocol's STARTTLS, with rustls and the public
//! roots plus any certificates the settings trust.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::settings::Endpoint;

/// A connection to a mail server, plain or TLS.
#[derive(Debug)]
pub enum Conn {
    /// Plain TCP (before STARTTLS, or `security = "none"`).
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Why a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The settings cannot work (bad CA file...).
    #[error("{0}")]
    Config(String),
    /// The network or TLS failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server took too long.
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
}

/// The TLS client configuration for an endpoint: the public roots plus
/// the certificates of its `ca-file`.
pub fn tls_config(endpoint: &Endpoint) -> Result<Arc<rustls::ClientConfig>, ConnectError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &endpoint.ca_file {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| ConnectError::Config(format!("ca-file {}: {e}", path.display())))?;
        for cert in certs {
            let cert =
                cert.map_err(|e| ConnectError::Config(format!("ca-file {}: {e}", path.display())))?;
            roots
                .add(cert)
                .map_err(|e| ConnectError::Config(format!("ca-file {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Runs `step` with the endpoint's timeout.
pub async fn timed<T, E: From<ConnectError>>(
    endpoint: &Endpoint,
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let limit = Duration::from_secs(endpoint.timeout_s.max(1));
    match tokio::time::timeout(limit, step).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout(limit).into()),
    }
}

/// Opens a TCP connection to the endpoint, with TLS at once when its
/// security is `tls`.
pub async fn open(endpoint: &Endpoint, default_port: u16) -> Result<Conn, ConnectError> {
    let port = endpoint.port.unwrap_or(default_port);
    let tcp = timed(endpoint, async {
        TcpStream::connect((endpoint.host.as_str(), port))
            .await
            .map_err(ConnectError::from)
    })
    .await?;
    tcp.set_nodelay(true)?;
    match endpoint.security {
        super::settings::Security::Tls => upgrade(endpoint, Conn::Plain(tcp)).await,
        _ => Ok(Conn::Plain(tcp)),
    }
}

/// Starts TLS on a plain connection (after the protocol's STARTTLS).
pub async fn upgrade(endpoint: &Endpoint, conn: Conn) -> Result<Conn, ConnectError> {
    let Conn::Plain(tcp) = conn else {
        return Ok(conn);
    };
    let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
        .map_err(|e| ConnectError::Config(format!("host `{}`: {e}", endpoint.host)))?;
    let connector = TlsConnector::from(tls_config(endpoint)?);
    let tls = timed(endpoint, async {
        connector
            .connect(name, tcp)
            .await
            .map_err(ConnectError::from)
    })
    .await?;
    Ok(Conn::Tls(Box::new(tls)))
}
