//! The client's address. Baton serves plain HTTP, so an https deployment sits
//! behind a reverse proxy and every connection then comes from the proxy.
//! Only from peers listed in `BATON_TRUSTED_PROXIES` is the forwarded chain
//! (`X-Forwarded-For`, else `Forwarded: for=`) believed, and then only up to
//! the rightmost hop that is not itself a trusted proxy: everything left of
//! it was written by the client and can say anything.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::state::AppState;

/// The address a request is attributed to (throttles, audit, sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list of CIDRs or single addresses
    /// (`10.0.0.0/8, 127.0.0.1, ::1`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(a) => IpNet::from(a),
                    Err(_) => {
                        return Err(format!(
                            "{item:?} is not an address or CIDR range like 10.0.0.0/8"
                        ))
                    }
                },
            };
            nets.push(net.trunc());
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|n| n.contains(&addr))
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as a dual-stack listener
/// reports IPv4 peers) as the IPv4 address it is.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The client address of a request that came from `peer`.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let hops = forwarded_chain(headers);
    let mut client = peer;
    // From the right: each hop was appended by the proxy to its right.
    for hop in hops.iter().rev() {
        match hop {
            Some(addr) => {
                client = canonical(*addr);
                if !trusted.contains(client) {
                    return client;
                }
            }
            // An unreadable hop ("unknown", an obfuscated name): the last
            // address we could read is as far as the chain can be believed.
            None => return client,
        }
    }
    client
}

/// The forwarded chain, left (client) to right (nearest proxy): every
/// `X-Forwarded-For` header in order, or, without one, every `Forwarded`
/// element's `for=`. `None` for a hop that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| parse_hop(hop.trim()))
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(v.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// One hop: `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(a) = hop.parse::<IpAddr>() {
        return Some(a);
    }
    if let Ok(sa) = hop.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// Middleware: attributes the request to its client address.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        let addr = resolve(peer.ip(), req.headers(), &state.config.trusted_proxies);
        req.extensions_mut().insert(ClientAddr(addr));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn parses_lists() {
        let t = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1 ::1").unwrap();
        assert!(t.contains(ip("10.1.2.3")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped");
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }

    #[test]
    fn resolves_the_rightmost_untrusted_hop() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        type Headers = &'static [(&'static str, &'static str)];
        let cases: &[(&str, Headers, &str)] = &[
            // Not from a trusted proxy: headers are ignored.
            (
                "198.51.100.9",
                &[("x-forwarded-for", "1.2.3.4")],
                "198.51.100.9",
            ),
            // From the proxy: the client it saw.
            (
                "10.0.0.2",
                &[("x-forwarded-for", "203.0.113.7")],
                "203.0.113.7",
            ),
            // A client-written spoof on the left is not believed.
            (
                "10.0.0.2",
                &[("x-forwarded-for", "1.2.3.4, 203.0.113.7")],
                "203.0.113.7",
            ),
            // Two proxies of ours: skip the inner one.
            (
                "10.0.0.2",
                &[("x-forwarded-for", "203.0.113.7, 10.0.0.3")],
                "203.0.113.7",
            ),
            // Several headers count as one list, in order.
            (
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "1.2.3.4"),
                    ("x-forwarded-for", "203.0.113.8"),
                ],
                "203.0.113.8",
            ),
            // Ports and brackets.
            (
                "10.0.0.2",
                &[("x-forwarded-for", "[2001:db8::1]:4711")],
                "2001:db8::1",
            ),
            (
                "10.0.0.2",
                &[("x-forwarded-for", "203.0.113.7:4711")],
                "203.0.113.7",
            ),
            // Forwarded, when there is no X-Forwarded-For.
            (
                "10.0.0.2",
                &[(
                    "forwarded",
                    "for=1.2.3.4, for=\"[2001:db8::2]:80\";proto=https",
                )],
                "2001:db8::2",
            ),
            (
                "10.0.0.2",
                &[("forwarded", "proto=https;for=203.0.113.9")],
                "203.0.113.9",
            ),
            // An unreadable hop stops the walk at the last address read.
            (
                "10.0.0.2",
                &[("x-forwarded-for", "203.0.113.7, unknown")],
                "10.0.0.2",
            ),
            (
                "10.0.0.2",
                &[("x-forwarded-for", "garbage, 10.0.0.3")],
                "10.0.0.3",
            ),
            // No header: the proxy itself.
            ("10.0.0.2", &[], "10.0.0.2"),
            // Only proxies in the chain: the leftmost of them.
            (
                "10.0.0.2",
                &[("x-forwarded-for", "10.0.0.5, 10.0.0.3")],
                "10.0.0.5",
            ),
        ];
        for (peer, h, want) in cases {
            assert_eq!(resolve(ip(peer), &headers(h), &t), ip(want), "{peer} {h:?}");
        }
        // Nothing trusted (the default): always the peer.
        let none = TrustedProxies::default();
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &headers(&[("x-forwarded-for", "1.2.3.4")]),
                &none
            ),
            ip("10.0.0.2")
        );
    }
}
