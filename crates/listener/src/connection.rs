//! Accepting and serving connections within their limits.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use super::{ClientAddr, ListenerSettings};
use parley_core::watch::Watch;

/// How long open requests get to finish once the server stops.
const DRAIN: Duration = Duration::from_secs(5);

/// A bound listener, ready to serve.
pub struct Listener {
    tcp: TcpListener,
    settings: ListenerSettings,
    tls: Option<TlsAcceptor>,
    _reload: Vec<Watch>,
}

impl Listener {
    /// Binds `addr` and, with TLS, loads the certificate (a bad one
    /// refuses to start).
    pub async fn bind(addr: SocketAddr, settings: ListenerSettings) -> anyhow::Result<Listener> {
        let (tls, reload) = match &settings.tls {
            Some(files) => {
                let (acceptor, watches) = super::tls::acceptor(files)?;
                (Some(acceptor), watches)
            }
            None => (None, Vec::new()),
        };
        Ok(Listener {
            tcp: TcpListener::bind(addr).await?,
            settings,
            tls,
            _reload: reload,
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves `router` until `shutdown` completes, then lets open
    /// requests finish for a few seconds.
    pub async fn serve(self, router: Router, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let settings = Arc::new(self.settings);
        let open = Arc::new(Semaphore::new(settings.max_connections.max(1)));
        let per_address = Arc::new(PerAddress::default());
        let (stop, stopping) = watch::channel(false);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = open.clone().acquire_owned() => permit.expect("the connection semaphore is never closed"),
                () = &mut shutdown => break,
            };
            let (tcp, peer) = tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of descriptors and the like: the connection
                        // is lost, the listener is not.
                        tracing::warn!("accept failed: {err}");
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let peer = peer.ip().to_canonical();
            let is_proxy = settings
                .trusted_proxies
                .iter()
                .any(|net| net.contains(&peer));
            let slot = if is_proxy {
                None
            } else {
                match per_address.claim(peer, settings.max_connections_per_address) {
                    Some(slot) => Some(slot),
                    None => {
                        tracing::debug!(%peer, "connection refused: too many from this address");
                        continue;
                    }
                }
            };
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!("TCP_NODELAY not set: {err}");
            }
            let io = Watched::new(tcp, settings.idle_timeout(), (permit, slot));
            tokio::spawn(connection(
                io,
                peer,
                self.tls.clone(),
                settings.clone(),
                router.clone(),
                stopping.clone(),
            ));
        }
        let _ = stop.send(true);
        // Every connection holds a permit until its socket closes.
        let all = u32::try_from(settings.max_connections.max(1)).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(DRAIN, open.acquire_many(all)).await;
        Ok(())
    }
}

/// Serves one connection: the TLS handshake (within the header time
/// limit), then HTTP/1.1 with upgrades to WebSocket.
async fn connection(
    io: Watched<tokio::net::TcpStream>,
    peer: IpAddr,
    tls: Option<TlsAcceptor>,
    settings: Arc<ListenerSettings>,
    router: Router,
    stopping: watch::Receiver<bool>,
) {
    match tls {
        Some(acceptor) => {
            let handshake = tokio::time::timeout(settings.header_timeout(), acceptor.accept(io));
            match handshake.await {
                Ok(Ok(stream)) => http(stream, peer, settings, router, stopping).await,
                Ok(Err(err)) => tracing::debug!(%peer, "TLS handshake failed: {err}"),
                Err(_) => tracing::debug!(%peer, "TLS handshake too slow"),
            }
        }
        None => http(io, peer, settings, router, stopping).await,
    }
}

async fn http<S>(
    io: S,
    peer: IpAddr,
    settings: Arc<ListenerSettings>,
    router: Router,
    mut stopping: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let hsts = settings
        .tls
        .as_ref()
        .filter(|tls| tls.hsts_max_age_s > 0)
        .and_then(|tls| HeaderValue::from_str(&format!("max-age={}", tls.hsts_max_age_s)).ok());
    let trusted: Arc<[IpNet]> = settings.trusted_proxies.clone().into();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let client = ClientAddr::resolve(peer, request.headers(), &trusted);
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(client);
        let mut router = router.clone();
        let hsts = hsts.clone();
        async move {
            let mut response = router.call(request).await?;
            if let Some(hsts) = hsts {
                response
                    .headers_mut()
                    .insert(header::STRICT_TRANSPORT_SECURITY, hsts);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout())
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => {
            if let Err(err) = served {
                tracing::debug!(%peer, "connection ended: {err}");
            }
        }
        _ = async { stopping.wait_for(|stop| *stop).await.is_ok() } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted against its address, until dropped.
struct AddressSlot {
    counts: Arc<PerAddress>,
    addr: IpAddr,
}

impl PerAddress {
    fn claim(self: &Arc<Self>, addr: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(addr).or_default();
        if *count >= max.max(1) {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            counts: self.clone(),
            addr,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.addr);
            }
        }
    }
}

/// A socket that fails its pending read or write once no byte has moved
/// either way for the idle limit (a client that sends nothing, or that
/// stops reading what it asked for), and holds the connection's place in
/// the caps for as long as it lives (through a WebSocket upgrade too).
struct Watched<S> {
    inner: S,
    idle: Duration,
    last_moved: Instant,
    /// One timer per direction: a read and a write may wait in different
    /// tasks (a WebSocket's two halves), and each must be woken.
    read_deadline: Pin<Box<Sleep>>,
    write_deadline: Pin<Box<Sleep>>,
    _places: (OwnedSemaphorePermit, Option<AddressSlot>),
}

/// The error of a read or write that waited past the idle limit.
fn idle_too_long() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the connection was idle too long")
}

impl<S> Watched<S> {
    fn new(inner: S, idle: Duration, places: (OwnedSemaphorePermit, Option<AddressSlot>)) -> Self {
        let now = Instant::now();
        Watched {
            inner,
            idle,
            last_moved: now,
            read_deadline: Box::pin(tokio::time::sleep_until(now + idle)),
            write_deadline: Box::pin(tokio::time::sleep_until(now + idle)),
            _places: places,
        }
    }

    fn moved(&mut self) {
        // The timers are moved lazily, when they fire.
        self.last_moved = Instant::now();
    }

    /// Whether the idle limit has passed, by the read or the write timer
    /// (re-arming it if bytes moved since it was set).
    fn idle_expired(&mut self, cx: &mut Context<'_>, write: bool) -> bool {
        let due = self.last_moved + self.idle;
        let deadline = if write {
            &mut self.write_deadline
        } else {
            &mut self.read_deadline
        };
        loop {
            if deadline.as_mut().poll(cx).is_pending() {
                return false;
            }
            if due <= Instant::now() {
                return true;
            }
            deadline.as_mut().reset(due);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.moved();
                }
                Poll::Ready(result)
            }
            Poll::Pending if self.idle_expired(cx, false) => Poll::Ready(Err(idle_too_long())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if self.idle_expired(cx, true) => Poll::Ready(Err(idle_too_long())),
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const IDLE: Duration = Duration::from_secs(120);

    fn watched<S>(inner: S) -> Watched<S> {
        let permit = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
        Watched::new(inner, IDLE, (permit, None))
    }

    // The clock is paused: it moves only when every task waits, so these
    // tests do not depend on how fast the machine is.

    #[tokio::test(start_paused = true)]
    async fn a_client_that_sends_nothing_is_let_go_at_the_idle_limit() {
        let (server, _client) = tokio::io::duplex(64);
        let mut server = watched(server);
        let started = Instant::now();
        let error = server.read(&mut [0; 16]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_is_let_go_at_the_idle_limit() {
        let (server, _client) = tokio::io::duplex(64);
        let mut server = watched(server);
        let started = Instant::now();
        let error = server.write_all(&[7; 4096]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_reading_is_served_whole() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = watched(server);
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            let mut chunk = [0; 64];
            loop {
                // Well within the idle limit between reads, far beyond it
                // in all.
                tokio::time::sleep(IDLE / 2).await;
                match client.read(&mut chunk).await.unwrap() {
                    0 => return received,
                    n => received.extend_from_slice(&chunk[..n]),
                }
            }
        });
        let started = Instant::now();
        server.write_all(&[7; 1024]).await.unwrap();
        server.shutdown().await.unwrap();
        assert!(started.elapsed() > IDLE * 4);
        assert_eq!(reader.await.unwrap(), vec![7; 1024]);
    }
}
