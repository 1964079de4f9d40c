//! Outbound HTTP for plugins granted it: `wasi:http/outgoing-handler`
//! (wasmtime-wasi-http) limited to the origins (scheme, host, port) the
//! manifest lists and the operator allows (`[limits] grantable-http`), with
//! the operator's per-request timeout, response-size cap and per-version
//! concurrency cap. TLS is the host's, verified against the public roots.
//! The host follows no redirect: a plugin that follows one makes a new
//! request, checked like the first. A refused request is an `error-code`
//! the plugin sees (`HTTP-request-denied`, `connection-limit-reached`,
//! `HTTP-response-body-size` for a body announced over the cap...), never
//! a trap; a body that grows past the cap unannounced fails as the plugin
//! reads it, at the cap. Every request is counted
//! and logged with the plugin's name and version.

use http_body_util::{BodyExt, Limited};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use super::secrets::Secrets;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks, default_send_request,
};

/// An origin a plugin may reach: `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or IP address, lowercase.
    pub host: String,
    /// Port (the scheme's default when the text gives none).
    pub port: u16,
}

impl Origin {
    /// The origin a request goes to, if its URI names one.
    fn of(uri: &http::Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let host = uri.host()?.trim_matches(['[', ']']).to_ascii_lowercase();
        let port = uri.port_u16().or(default_port(&scheme))?;
        Some(Origin { scheme, host, port })
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl FromStr for Origin {
    type Err = String;

    fn from_str(text: &str) -> Result<Origin, String> {
        let bad = |why: &str| {
            format!("`{text}` is not an origin ({why}): write `https://host` or `http://host:port`")
        };
        let uri: http::Uri = text.parse().map_err(|_| bad("not a URI"))?;
        if uri
            .path_and_query()
            .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
        {
            return Err(bad("an origin has no path or query"));
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(bad("an origin has no user"));
        }
        let origin =
            Origin::of(&uri).ok_or_else(|| bad("scheme http or https and a host are needed"))?;
        Ok(origin)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            // An IPv6 address, bracketed as in a URL.
            write!(f, "{}://[{}]:{}", self.scheme, self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Origin, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The operator's limits on plugins' outbound requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Longest a request may wait for its response's headers, and each of
    /// the plugin's own timeouts (connect, first byte, between bytes) at
    /// most; the plugin's call deadline bounds the whole exchange.
    pub timeout: Duration,
    /// Largest response body, in bytes.
    pub max_response_bytes: u64,
    /// Requests one plugin version may have open at once.
    pub concurrency: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            timeout: Duration::from_secs(10),
            max_response_bytes: 1 << 20,
            concurrency: 4,
        }
    }
}

/// Counters of one plugin version's outbound requests.
#[derive(Debug, Default)]
pub struct HttpCounters {
    /// Requests sent.
    pub sent: AtomicU64,
    /// Requests refused before sending (origin not allowed, too many open).
    pub refused: AtomicU64,
    /// Requests that failed after sending (connection, TLS, timeout).
    pub failed: AtomicU64,
}

/// A snapshot of [`HttpCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HttpCounts {
    /// Requests sent.
    pub sent: u64,
    /// Requests refused before sending (origin not granted, too many open).
    pub refused: u64,
    /// Requests that failed after sending (connection, TLS, timeout).
    pub failed: u64,
}

impl HttpCounters {
    /// Adds counts saved earlier.
    pub fn carry_over(&self, saved: HttpCounts) {
        self.sent.fetch_add(saved.sent, Ordering::Relaxed);
        self.refused.fetch_add(saved.refused, Ordering::Relaxed);
        self.failed.fetch_add(saved.failed, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn snapshot(&self) -> HttpCounts {
        HttpCounts {
            sent: self.sent.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// The outbound HTTP of one plugin version.
#[derive(Debug)]
pub struct OutboundHttp {
    plugin: String,
    version: String,
    allowed: Vec<Origin>,
    limits: HttpLimits,
    permits: Arc<Semaphore>,
    /// The version's secrets, redacted from the URLs it logs.
    secrets: Secrets,
    /// What its requests came to.
    pub counters: HttpCounters,
}

impl OutboundHttp {
    /// The outbound HTTP of a version allowed `allowed` (already checked
    /// against the operator's list) under `limits`; `secrets` are kept out
    /// of its log lines.
    pub fn new(
        plugin: &str,
        version: &str,
        allowed: Vec<Origin>,
        limits: HttpLimits,
        secrets: Secrets,
    ) -> OutboundHttp {
        OutboundHttp {
            plugin: plugin.to_string(),
            version: version.to_string(),
            allowed,
            secrets,
            permits: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            limits,
            counters: HttpCounters::default(),
        }
    }

    /// The same grant and limits with open requests and counters of its
    /// own: for a call made apart from live traffic (the invoke API).
    pub fn apart(&self) -> OutboundHttp {
        OutboundHttp::new(
            &self.plugin,
            &self.version,
            self.allowed.clone(),
            self.limits,
            self.secrets.clone(),
        )
    }

    /// `options` of the plugin bounded by the operator's timeout.
    fn bounded(&self, options: Option<RequestOptions>) -> RequestOptions {
        let cap = |t: Option<Duration>| {
            Some(t.map_or(self.limits.timeout, |t| t.min(self.limits.timeout)))
        };
        let options = options.unwrap_or_default();
        RequestOptions {
            connect_timeout: cap(options.connect_timeout),
            first_byte_timeout: cap(options.first_byte_timeout),
            between_bytes_timeout: cap(options.between_bytes_timeout),
        }
    }

    fn refuse(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        error: HttpError,
        why: &str,
    ) -> SendFuture {
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
        let uri = self.secrets.redact(&uri.to_string()).into_owned();
        tracing::warn!(target: "plugin", plugin = %self.plugin, version = %self.version, %method, %uri, "outbound request refused: {why}");
        Box::new(async move { Err(error) })
    }
}

/// What `send_request` returns: the response and the connection's driver.
type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

/// The wasi:http hooks of one store: its version's outbound HTTP, if
/// granted (a store without the grant refuses every request).
#[derive(Default)]
pub struct HttpHooks(pub Option<Arc<OutboundHttp>>);

impl WasiHttpHooks for HttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        let method = request.method().clone();
        let uri = request.uri().clone();
        let Some(out) = self.0.clone() else {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        };
        let origin = Origin::of(&uri);
        if !origin.as_ref().is_some_and(|o| out.allowed.contains(o)) {
            return out.refuse(
                &method,
                &uri,
                HttpError::HttpRequestDenied,
                "its origin is not granted",
            );
        }
        let Ok(permit) = out.permits.clone().try_acquire_owned() else {
            return out.refuse(
                &method,
                &uri,
                HttpError::ConnectionLimitReached,
                &format!("{} requests are open already", out.limits.concurrency),
            );
        };
        let options = out.bounded(options);
        let uri = out.secrets.redact(&uri.to_string()).into_owned();
        Box::new(async move {
            out.counters.sent.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let sent = tokio::time::timeout(
                out.limits.timeout,
                default_send_request(request, Some(options)),
            )
            .await
            .unwrap_or(Err(HttpError::ConnectionTimeout));
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let (response, io) = match sent {
                Ok(sent) => sent,
                Err(error) => {
                    out.counters.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "plugin", plugin = %out.plugin, version = %out.version, %method, %uri, elapsed_ms, "outbound request failed: {error}");
                    return Err(error);
                }
            };
            tracing::info!(target: "plugin", plugin = %out.plugin, version = %out.version, %method, %uri, status = response.status().as_u16(), elapsed_ms, "outbound request");
            let max = out.limits.max_response_bytes;
            // A body announced over the cap is refused before it is read;
            // one that grows past it unannounced fails as it is read.
            let announced = response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            if announced.is_some_and(|length| length > max) {
                out.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target: "plugin", plugin = %out.plugin, version = %out.version, %method, %uri, "outbound response refused: its body is over {max} bytes");
                return Err(HttpError::HttpResponseBodySize(Some(max)));
            }
            // The request stays open, holding its permit, until the plugin
            // is done with the response body.
            let response = response.map(|body| {
                Limited::new(body, max as usize)
                    .map_err(move |e| match e.downcast::<HttpError>() {
                        Ok(inner) => *inner,
                        Err(_) => HttpError::HttpResponseBodySize(Some(max)),
                    })
                    .map_frame(move |frame| {
                        let _open = &permit;
                        frame
                    })
                    .boxed_unsync()
            });
            let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(io);
            Ok((response, io))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_with_their_default_ports_and_print_back_the_same() {
        for (text, shown) in [
            ("https://API.example.com", "https://api.example.com:443"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://example.com/", "http://example.com:80"),
            ("http://[::1]:9000", "http://[::1]:9000"),
        ] {
            let origin: Origin = text.parse().unwrap();
            assert_eq!(origin.to_string(), shown);
            assert_eq!(shown.parse::<Origin>().unwrap(), origin);
        }
        for bad in [
            "ftp://example.com",
            "example.com",
            "https://example.com/path",
            "https://user@example.com",
            "https://example.com?q=1",
        ] {
            let err = bad.parse::<Origin>().unwrap_err();
            assert!(err.contains("is not an origin"), "{bad}: {err}");
        }
    }
}
