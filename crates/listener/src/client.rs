//! Who is asking: the client's address, which rate limits and quotas
//! are keyed by.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client's address: the peer's, or, when the peer is a trusted
/// proxy, the nearest address in `X-Forwarded-For` that is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// Resolves the address of a request that came from `peer`. Proxies
    /// append the address they received from, so the list is read from
    /// the right: the first address no trusted proxy holds is the client
    /// (whatever a client writes to the left of it is not believed).
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientAddr {
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return ClientAddr(peer);
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if is_trusted(&ip) => client = ip,
                Ok(ip) => return ClientAddr(ip),
                // Garbage from the client's side: stop at the last known.
                Err(_) => break,
            }
        }
        ClientAddr(client)
    }
}

/// The address the listener attached; requests that did not come through
/// it (none in the server) are refused.
impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = (axum::http::StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<ClientAddr>().copied().ok_or((
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the client address is not attached to the request",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let client = ClientAddr::resolve(ip("203.0.113.9"), &headers(&["10.0.0.1"]), &[]);
        assert_eq!(client.0, ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; the proxies appended the rest.
        let forwarded = headers(&["1.2.3.4, 198.51.100.7", "10.1.1.1"]);
        let client = ClientAddr::resolve(ip("10.0.0.2"), &forwarded, &trusted);
        assert_eq!(client.0, ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_itself() {
        let trusted: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap()];
        let client = ClientAddr::resolve(ip("127.0.0.1"), &headers(&[]), &trusted);
        assert_eq!(client.0, ip("127.0.0.1"));
        let garbage = ClientAddr::resolve(ip("127.0.0.1"), &headers(&["junk"]), &trusted);
        assert_eq!(garbage.0, ip("127.0.0.1"));
    }
}
