//! Behind a reverse proxy: `X-Forwarded-For` and `X-Forwarded-Proto` are believed only when
//! the peer is one of the `trusted_proxies` (docs/security.md rules 31, 38; RFC 9700 §4.13). Anyone
//! else could write any address there and dodge the login limiter.

use ipnet::IpNet;
use std::net::IpAddr;

/// The addresses and ranges whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads a list of addresses (`10.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`); the
    /// error names the entry that is neither.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(canonical)
                    .map_err(|_| format!("{entry:?} is not an address or a CIDR range"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: the peer's, unless the peer is trusted; then, walking
    /// `X-Forwarded-For` from the right (each proxy appends the address it saw), the first
    /// one that is not a trusted proxy. An entry that is not an address ends the walk at
    /// the last one that was; if every entry is trusted, the leftmost.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        for entry in forwarded_for.unwrap_or("").rsplit(',') {
            let Some(address) = parse_entry(entry) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }

    /// Whether the client reached the proxy over https: the last `X-Forwarded-Proto` entry
    /// (the nearest proxy's), believed only from a trusted peer.
    pub(crate) fn forwarded_https(&self, peer: IpAddr, forwarded_proto: Option<&str>) -> bool {
        self.trusts(peer)
            && forwarded_proto
                .and_then(|value| value.rsplit(',').next())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }
}

/// An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) as the IPv4 range it is, since
/// addresses are compared in their canonical form.
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        other => other,
    }
}

/// An `X-Forwarded-For` entry: an address, perhaps in brackets (IPv6) or with a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<IpAddr>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn entries_are_addresses_or_ranges() {
        assert!(TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).is_ok());
        let err = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_address() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.1.1"]);
        let peer = ip("10.0.0.5");
        for (forwarded, client) in [
            (None, "10.0.0.5"),
            (Some("203.0.113.7"), "203.0.113.7"),
            (Some("1.1.1.1, 203.0.113.7, 192.168.1.1"), "203.0.113.7"),
            (Some("1.1.1.1,203.0.113.7,10.9.9.9"), "203.0.113.7"),
            (Some("10.1.1.1, 10.2.2.2"), "10.1.1.1"),
            (Some("1.1.1.1, garbage, 10.2.2.2"), "10.2.2.2"),
            (Some("[2001:db8::1]"), "2001:db8::1"),
            (Some("203.0.113.7:4711"), "203.0.113.7"),
            (Some(""), "10.0.0.5"),
        ] {
            assert_eq!(trusted.client(peer, forwarded), ip(client), "{forwarded:?}");
        }
    }

    #[test]
    fn untrusted_peers_are_not_believed() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.5"), Some("1.2.3.4")), ip("10.0.0.5"));
        assert!(!none.forwarded_https(ip("10.0.0.5"), Some("https")));
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(
            trusted.client(ip("::ffff:127.0.0.1"), Some("1.2.3.4")),
            ip("1.2.3.4"),
            "an IPv4-mapped peer is its IPv4 address"
        );
        assert!(trusted.forwarded_https(ip("127.0.0.1"), Some("http, HTTPS")));
        assert!(!trusted.forwarded_https(ip("127.0.0.1"), Some("https, http")));
        assert!(!trusted.forwarded_https(ip("127.0.0.2"), Some("https")));
        let mapped = proxies(&["::ffff:10.0.0.0/104"]);
        assert_eq!(
            mapped.client(ip("10.1.2.3"), Some("1.2.3.4")),
            ip("1.2.3.4")
        );
        assert_eq!(
            mapped.client(ip("11.1.2.3"), Some("1.2.3.4")),
            ip("11.1.2.3")
        );
    }
}
