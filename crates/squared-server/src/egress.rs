//! The egress policy: which network addresses connectors may reach.
//!
//! A connector makes this server open connections for whoever configured it, so without a
//! policy a workspace member could aim one at the server's own database, at a cloud metadata
//! service (169.254.169.254) or at anything else on the server's private network. By
//! default every address that is not public is refused: loopback, link-local, private
//! (RFC 1918 and IPv6 unique-local), shared (RFC 6598), unspecified, multicast and reserved,
//! including the same addresses written as IPv4-mapped, IPv4-compatible, NAT64 or 6to4
//! IPv6. An operator allows networks with `--allow-network CIDR` (or
//! `SQUARED_ALLOW_NETWORKS`), for example to reach a database on the same machine.
//!
//! [`EgressPolicy::decide`] is the rule: an address in, a decision out. [`EgressPolicy::resolve`]
//! applies it to the addresses a host name resolves to, and the runtimes connect only to the
//! addresses it returns (never to the name again), so a DNS answer cannot change between the
//! check and the connection. Every runtime reaches the network through it; nothing else
//! in this module touches the network.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

/// The command-line flag that allows a network.
pub const ALLOW_FLAG: &str = "--allow-network";
/// The environment variable that allows networks (comma-separated CIDRs).
pub const ALLOW_ENV: &str = "SQUARED_ALLOW_NETWORKS";

/// Why an address is not public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restricted {
    Unspecified,
    Loopback,
    LinkLocal,
    Private,
    UniqueLocal,
    SharedAddressSpace,
    Multicast,
    Reserved,
}

impl fmt::Display for Restricted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Restricted::Unspecified => "unspecified",
            Restricted::Loopback => "loopback",
            Restricted::LinkLocal => "link-local",
            Restricted::Private => "private",
            Restricted::UniqueLocal => "unique-local",
            Restricted::SharedAddressSpace => "shared (carrier-grade NAT)",
            Restricted::Multicast => "multicast",
            Restricted::Reserved => "reserved",
        })
    }
}

/// What the policy says of one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Refused(Restricted),
}

/// Why a connection was not opened.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    #[error(
        "the egress policy refuses {host}: it is a {range} address, which connectors may not reach unless the \
         operator allows its network (squared-server serve {ALLOW_FLAG} CIDR, or {ALLOW_ENV})"
    )]
    Refused { host: String, range: Restricted },
    #[error("could not resolve the host {host}: {message}")]
    Unresolved { host: String, message: String },
}

/// A network an operator allowed could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{ALLOW_FLAG} {text:?} is not a network in CIDR notation (such as 10.0.0.0/8 or 127.0.0.1/32)")]
pub struct BadNetwork {
    text: String,
}

/// The operator's policy: every public address, and the networks allowed besides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allowed: Vec<IpNet>,
}

impl EgressPolicy {
    /// Public addresses only.
    pub fn public_only() -> Self {
        EgressPolicy::default()
    }

    /// Public addresses and `allowed`.
    pub fn allowing(allowed: impl IntoIterator<Item = IpNet>) -> Self {
        EgressPolicy { allowed: allowed.into_iter().map(|net| net.trunc()).collect() }
    }

    /// Reads one CIDR (a bare address means that address alone).
    pub fn parse_network(text: &str) -> Result<IpNet, BadNetwork> {
        let text = text.trim();
        IpNet::from_str(text)
            .or_else(|_| IpAddr::from_str(text).map(IpNet::from))
            .map_err(|_| BadNetwork { text: text.to_owned() })
    }

    /// The networks allowed besides public addresses.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether a connection to `address` may be opened.
    pub fn decide(&self, address: IpAddr) -> Decision {
        let address = canonical(address);
        if self.allowed.iter().any(|net| net.contains(&address)) {
            return Decision::Allowed;
        }
        match restriction(address) {
            Some(range) => Decision::Refused(range),
            None => Decision::Allowed,
        }
    }

    /// The addresses of `host` (a name or an address literal) that the policy allows, each
    /// with `port`: the only addresses a runtime may then connect to. Refused when there is
    /// none.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, EgressError> {
        let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let candidates: Vec<SocketAddr> = match IpAddr::from_str(literal) {
            Ok(address) => vec![SocketAddr::new(address, port)],
            Err(_) => {
                // A path (a Unix socket, to a database driver) or anything else that is not a
                // host name is not resolved; it could only reach this machine.
                if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
                    return Err(EgressError::Unresolved {
                        host: host.to_owned(),
                        message: "not a host name or an IP address".into(),
                    });
                }
                tokio::net::lookup_host((host, port))
                    .await
                    .map_err(|e| EgressError::Unresolved { host: host.to_owned(), message: e.to_string() })?
                    .collect()
            }
        };
        let mut refused = None;
        let mut allowed = Vec::new();
        for candidate in candidates {
            match self.decide(candidate.ip()) {
                Decision::Allowed => allowed.push(SocketAddr::new(canonical(candidate.ip()), port)),
                Decision::Refused(range) => {
                    refused.get_or_insert(range);
                }
            }
        }
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some(range)) => Err(EgressError::Refused { host: host.to_owned(), range }),
            (true, None) => Err(EgressError::Unresolved { host: host.to_owned(), message: "it has no address".into() }),
        }
    }
}

/// An IPv4 address written as IPv6 (mapped, or the deprecated compatible form) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The range that makes `address` not public, if any.
fn restriction(address: IpAddr) -> Option<Restricted> {
    match address {
        IpAddr::V4(v4) => restriction_v4(v4),
        IpAddr::V6(v6) => restriction_v6(v6),
    }
}

fn restriction_v4(address: Ipv4Addr) -> Option<Restricted> {
    let [a, b, ..] = address.octets();
    if a == 0 {
        Some(Restricted::Unspecified) // 0.0.0.0/8, "this network"
    } else if address.is_loopback() {
        Some(Restricted::Loopback)
    } else if address.is_link_local() {
        Some(Restricted::LinkLocal)
    } else if address.is_private() {
        Some(Restricted::Private)
    } else if a == 100 && (64..128).contains(&b) {
        Some(Restricted::SharedAddressSpace)
    } else if address.is_multicast() {
        Some(Restricted::Multicast)
    } else if a >= 240 || (a == 192 && b == 0 && address.octets()[2] == 0) {
        Some(Restricted::Reserved) // 240.0.0.0/4 with the broadcast address; 192.0.0.0/24
    } else {
        None
    }
}

fn restriction_v6(address: Ipv6Addr) -> Option<Restricted> {
    let segments = address.segments();
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if address.is_unspecified() {
        Some(Restricted::Unspecified)
    } else if address.is_loopback() {
        Some(Restricted::Loopback)
    } else if segments[0] & 0xffc0 == 0xfe80 {
        Some(Restricted::LinkLocal)
    } else if segments[0] & 0xffc0 == 0xfec0 {
        Some(Restricted::Private) // the deprecated site-local range
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some(Restricted::UniqueLocal)
    } else if address.is_multicast() {
        Some(Restricted::Multicast)
    } else if segments[..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (::a.b.c.d, deprecated): judged as the IPv4 address it carries.
        restriction_v4(embedded(segments[6], segments[7])).or(Some(Restricted::Reserved))
    } else if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        restriction_v4(embedded(segments[6], segments[7])) // NAT64
    } else if segments[0] == 0x2002 {
        restriction_v4(embedded(segments[1], segments[2])) // 6to4
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<Restricted> {
        match EgressPolicy::public_only().decide(text.parse().unwrap()) {
            Decision::Allowed => None,
            Decision::Refused(range) => Some(range),
        }
    }

    #[test]
    fn every_non_public_range_is_refused_by_default() {
        use Restricted::*;
        for (address, range) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("224.0.0.1", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Reserved),
            ("192.0.0.8", Reserved),
            ("::", Unspecified),
            ("::1", Loopback),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", Private),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("ff02::1", Multicast),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:10.1.2.3", Private),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("2002:c0a8:0101::1", Private),
        ] {
            assert_eq!(refused(address), Some(range), "{address}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "169.253.255.255",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert_eq!(refused(address), None, "{address}");
        }
    }

    #[test]
    fn allowed_networks_open_only_themselves() {
        let policy = EgressPolicy::allowing([
            EgressPolicy::parse_network("127.0.0.1/32").unwrap(),
            EgressPolicy::parse_network("10.1.0.0/16").unwrap(),
            EgressPolicy::parse_network("::1").unwrap(),
        ]);
        assert_eq!(policy.decide("127.0.0.1".parse().unwrap()), Decision::Allowed);
        assert_eq!(policy.decide("::ffff:127.0.0.1".parse().unwrap()), Decision::Allowed);
        assert_eq!(policy.decide("::1".parse().unwrap()), Decision::Allowed);
        assert_eq!(policy.decide("10.1.200.3".parse().unwrap()), Decision::Allowed);
        assert_eq!(policy.decide("127.0.0.2".parse().unwrap()), Decision::Refused(Restricted::Loopback));
        assert_eq!(policy.decide("10.2.0.1".parse().unwrap()), Decision::Refused(Restricted::Private));
        assert_eq!(policy.decide("169.254.169.254".parse().unwrap()), Decision::Refused(Restricted::LinkLocal));
    }

    #[test]
    fn networks_parse_or_say_why_not() {
        assert_eq!(EgressPolicy::parse_network(" 10.0.0.0/8 ").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(EgressPolicy::parse_network("127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        // Host bits are dropped: the network is what is allowed.
        assert_eq!(
            EgressPolicy::allowing([EgressPolicy::parse_network("10.1.2.3/8").unwrap()]).allowed()[0].to_string(),
            "10.0.0.0/8"
        );
        let error = EgressPolicy::parse_network("10.0.0.0/33").unwrap_err().to_string();
        assert!(error.contains(ALLOW_FLAG) && error.contains("CIDR"), "{error}");
        assert!(EgressPolicy::parse_network("localhost").is_err());
    }

    #[tokio::test]
    async fn resolution_keeps_only_allowed_addresses_and_names_the_flag() {
        // Literals and `localhost` resolve on this machine without a network.
        let error = EgressPolicy::public_only().resolve("127.0.0.1", 5432).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("loopback") && message.contains(ALLOW_FLAG) && message.contains(ALLOW_ENV),
            "{message}"
        );
        assert!(matches!(
            EgressPolicy::public_only().resolve("localhost", 5432).await,
            Err(EgressError::Refused { range: Restricted::Loopback, .. })
        ));
        let loopback = EgressPolicy::allowing([EgressPolicy::parse_network("127.0.0.0/8").unwrap()]);
        assert_eq!(loopback.resolve("127.0.0.1", 5432).await.unwrap(), ["127.0.0.1:5432".parse().unwrap()]);
        assert_eq!(loopback.resolve("[::ffff:127.0.0.1]", 80).await.unwrap(), ["127.0.0.1:80".parse().unwrap()]);
        // A Unix socket path is never handed to a driver.
        assert!(matches!(loopback.resolve("/var/run/postgresql", 5432).await, Err(EgressError::Unresolved { .. })));
    }
}
