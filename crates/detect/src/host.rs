//! Hosts as detection sees them: an IP address where the traffic has one,
//! else a MAC address (layer-2 only devices).

use palisade_model::{is_local_ip, Endpoint, MacAddr};
use std::fmt;
use std::net::IpAddr;

/// One side of a conversation, by the address that identifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostKey {
    /// A host with an IP address.
    Ip(IpAddr),
    /// A layer-2 host (no IP address in the traffic).
    Mac(MacAddr),
}

impl HostKey {
    /// The key of an endpoint: its IP if it can be a host, else its unicast MAC.
    pub fn of(ep: &Endpoint) -> Option<HostKey> {
        match ep.ip {
            Some(ip) if is_host_ip(ip) => Some(HostKey::Ip(ip)),
            Some(_) => None,
            None => ep.mac.filter(|m| m.is_unicast()).map(HostKey::Mac),
        }
    }

    /// Parses an IP or a MAC address.
    pub fn parse(text: &str) -> Option<HostKey> {
        match text.parse::<IpAddr>() {
            Ok(ip) => Some(HostKey::Ip(ip)),
            Err(_) => MacAddr::parse(text).map(HostKey::Mac),
        }
    }

    /// The IP address, if the key is one.
    pub fn ip(self) -> Option<IpAddr> {
        match self {
            HostKey::Ip(ip) => Some(ip),
            HostKey::Mac(_) => None,
        }
    }

    /// True for an internet (public) address.
    pub fn is_public(self) -> bool {
        self.ip().is_some_and(|ip| !is_local_ip(ip))
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKey::Ip(ip) => write!(f, "{ip}"),
            HostKey::Mac(mac) => write!(f, "{mac}"),
        }
    }
}

/// True for addresses that can be a host: not multicast, broadcast or unspecified.
pub fn is_host_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified() || v4.octets()[3] == 255),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

/// The subnet an address is counted in when generalising over neighbours:
/// its /24 (IPv4) or /64 (IPv6).
pub fn subnet_of(ip: IpAddr) -> (IpAddr, u8) {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (IpAddr::from([o[0], o[1], o[2], 0]), 24)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0]), 64)
        }
    }
}

/// An address block (`10.0.0.0/8`, `fd00::/8`, or a single address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let addr = text.parse::<IpAddr>().ok()?;
                (addr, if addr.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// True if `ip` is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_contains() {
        let net = Cidr::parse("10.20.0.0/16").unwrap();
        assert!(net.contains("10.20.3.4".parse().unwrap()));
        assert!(!net.contains("10.21.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("fd00::/8").unwrap().contains("fd12::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.1").unwrap().contains("10.0.0.1".parse().unwrap()));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn host_keys() {
        let ep = Endpoint { ip: Some("10.0.0.5".parse().unwrap()), mac: None, port: 0 };
        assert_eq!(HostKey::of(&ep).map(|k| k.to_string()), Some("10.0.0.5".into()));
        let bcast = Endpoint { ip: Some("10.0.0.255".parse().unwrap()), mac: None, port: 0 };
        assert_eq!(HostKey::of(&bcast), None);
        let l2 = Endpoint { ip: None, mac: MacAddr::parse("00:1b:1b:00:00:01"), port: 0 };
        assert_eq!(HostKey::parse("00:1b:1b:00:00:01"), HostKey::of(&l2));
    }
}
