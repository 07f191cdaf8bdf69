//! Link-layer and network addresses.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;

/// A 48-bit IEEE MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The Ethernet broadcast address.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Reads a MAC from the first six bytes of `b`, if there are six.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        let a: [u8; 6] = b.get(..6)?.try_into().ok()?;
        Some(MacAddr(a))
    }

    /// True for an individual (unicast) address that is not all zeros.
    pub fn is_unicast(self) -> bool {
        self.0[0] & 1 == 0 && self.0 != [0; 6]
    }

    /// True for a group (multicast or broadcast) address.
    pub fn is_group(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True for the locally administered bit (randomised or virtual MACs).
    pub fn is_locally_administered(self) -> bool {
        self.0[0] & 2 == 2
    }

    /// True for well-known virtual router MACs (VRRP, HSRP v1/v2), which a
    /// router answers for on behalf of a group of IPs.
    pub fn is_virtual_router(self) -> bool {
        let m = self.0;
        (m[..5] == [0x00, 0x00, 0x5e, 0x00, 0x01])
            || (m[..5] == [0x00, 0x00, 0x5e, 0x00, 0x02])
            || (m[..5] == [0x00, 0x00, 0x0c, 0x07, 0xac])
            || (m[..4] == [0x00, 0x00, 0x0c, 0x9f] && m[4] & 0xf0 == 0xf0)
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (also with `-` separators).
    pub fn parse(text: &str) -> Option<Self> {
        let mut out = [0u8; 6];
        let mut parts = text.split([':', '-']);
        for byte in &mut out {
            *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
        }
        parts.next().is_none().then_some(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        MacAddr::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a MAC address: {text:?}")))
    }
}

/// True for addresses that belong to the site rather than the internet:
/// private, loopback, link-local, shared, documentation and benchmark ranges
/// (IPv4), and loopback, unique-local, link-local and documentation ranges
/// (IPv6). Public addresses are external endpoints, not site devices.
pub fn is_local_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            matches!(o[0], 0 | 10 | 127)
                || (o[0] == 169 && o[1] == 254)
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                || (o[0] == 203 && o[1] == 0 && o[2] == 113)
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || v6.to_ipv4_mapped().is_some_and(|v4| is_local_ip(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parse_and_display() {
        let m = MacAddr::parse("00:1B:1b:17:f8:82").unwrap();
        assert_eq!(m.to_string(), "00:1b:1b:17:f8:82");
        assert!(m.is_unicast());
        assert!(!MacAddr::BROADCAST.is_unicast());
        assert!(MacAddr::parse("00:00:0c:07:ac:01").unwrap().is_virtual_router());
        assert!(MacAddr::parse("00:1b:1b").is_none());
    }

    #[test]
    fn local_ranges() {
        for ip in ["10.1.2.3", "192.168.0.1", "172.31.0.1", "169.254.1.1", "fe80::1", "fd52::1", "127.0.0.1"] {
            assert!(is_local_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2a00:1450::1"] {
            assert!(!is_local_ip(ip.parse().unwrap()), "{ip}");
        }
    }
}
