//! The HTTP listener in front of the API (`[http]` in the settings): plain
//! TCP or TLS, with the limits a server on the open internet needs.
//!
//! - [`tls`]: rustls with a certificate and key from PEM files, reloaded
//!   when the files change; HSTS on every answer.
//! - [`connection`]: a cap on open connections (the listener stops
//!   accepting at the cap) and per client address (further connections
//!   are closed at once); a time limit on a request's headers; and an idle
//!   limit: a connection that moves no byte either way for that long is
//!   closed (event streams and chat sockets ping well within it).
//! - [`client`]: the client's address, from the peer or, behind trusted
//!   reverse proxies, from `X-Forwarded-For`, as a [`ClientAddr`] request
//!   extension.

pub mod client;
pub mod connection;
pub mod tls;

pub use client::ClientAddr;

use ipnet::IpNet;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ListenerSettings {
    /// Serve HTTPS with this certificate and key.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// Seconds a client has to send a request's headers.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_s: u64,
    /// Seconds a connection may move no byte before it is closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_s: u64,
    /// Open connections at most; at the cap new ones wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Open connections per client address at most (trusted proxies are
    /// not counted); further ones are closed at once.
    #[serde(default = "default_max_per_address")]
    pub max_connections_per_address: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or
    /// networks, e.g. `127.0.0.1` or `10.0.0.0/8`).
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
}

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain, the server's first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// `Strict-Transport-Security` max-age in seconds (0: no header).
    #[serde(default = "default_hsts")]
    pub hsts_max_age_s: u64,
}

fn default_header_timeout() -> u64 {
    10
}

fn default_idle_timeout() -> u64 {
    120
}

fn default_max_connections() -> usize {
    10_000
}

fn default_max_per_address() -> usize {
    256
}

fn default_hsts() -> u64 {
    // A year, as browsers' preload lists ask.
    31_536_000
}

impl Default for ListenerSettings {
    fn default() -> Self {
        ListenerSettings {
            tls: None,
            header_timeout_s: default_header_timeout(),
            idle_timeout_s: default_idle_timeout(),
            max_connections: default_max_connections(),
            max_connections_per_address: default_max_per_address(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl ListenerSettings {
    fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_s.max(1))
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_s.max(1))
    }
}
