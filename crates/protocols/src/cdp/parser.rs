//! CDP (Cisco Discovery Protocol) frames, after the LLC/SNAP header: a
//! 4-byte header (version, TTL, checksum) and TLVs with 16-bit type and a
//! 16-bit length that includes the TLV header.

use palisade_decode::{be16, be32};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bytes of the CDP header.
const HEADER_LEN: usize = 4;
/// Most addresses read from one address TLV.
const MAX_ADDRESSES: u32 = 16;
/// The 802.2 protocol field of an IPv6 address entry.
const IPV6_PROTOCOL: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd];

/// The fields of one CDP frame that the dissector uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cdp<'a> {
    /// Device ID (usually the host name).
    pub(crate) device_id: Option<&'a [u8]>,
    /// The first address of the Addresses TLV, else of the Management Addresses TLV.
    pub(crate) address: Option<IpAddr>,
    /// Port ID (the sending interface).
    pub(crate) port_id: Option<&'a [u8]>,
    /// Capabilities bitmap (0x01 router, 0x02 bridge, 0x08 switch, 0x10 host, 0x80 phone).
    pub(crate) capabilities: Option<u32>,
    /// Software version text.
    pub(crate) software: Option<&'a [u8]>,
    /// Platform ("cisco WS-C3560-24TS").
    pub(crate) platform: Option<&'a [u8]>,
    /// VTP management domain.
    pub(crate) vtp_domain: Option<&'a [u8]>,
    /// Native VLAN of the port.
    pub(crate) native_vlan: Option<u16>,
    /// Duplex of the port (true: full).
    pub(crate) full_duplex: Option<bool>,
}

/// Why a CDP frame could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// Shorter than the header.
    Short,
    /// A version other than 1 or 2.
    Version(u8),
    /// A TLV runs past the frame or has an invalid length.
    Tlv {
        /// The TLV type.
        tlv: u16,
        /// Its length field.
        len: u16,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Short => f.write_str("CDP frame shorter than its header"),
            Error::Version(v) => write!(f, "CDP version {v}"),
            Error::Tlv { tlv, len } => write!(f, "CDP TLV 0x{tlv:04x} with invalid length {len}"),
        }
    }
}

/// Parses a CDP frame (the SNAP payload).
pub(crate) fn parse(data: &[u8]) -> Result<Cdp<'_>, Error> {
    let version = *data.first().ok_or(Error::Short)?;
    if data.len() < HEADER_LEN {
        return Err(Error::Short);
    }
    if !(1..=2).contains(&version) {
        return Err(Error::Version(version));
    }
    let mut out = Cdp::default();
    let mut rest = data.get(HEADER_LEN..).unwrap_or_default();
    let mut management = None;
    while let (Some(tlv), Some(len)) = (be16(rest, 0), be16(rest, 2)) {
        if tlv == 0 && len == 0 {
            break; // link padding
        }
        let bad = Error::Tlv { tlv, len };
        let value = usize::from(len).checked_sub(4).and_then(|n| rest.get(4..4 + n)).ok_or(bad)?;
        rest = rest.get(usize::from(len)..).unwrap_or_default();
        match tlv {
            0x0001 => out.device_id = Some(value),
            0x0002 => out.address = first_address(value).ok_or(bad)?,
            0x0003 => out.port_id = Some(value),
            0x0004 => out.capabilities = Some(be32(value, 0).filter(|_| value.len() == 4).ok_or(bad)?),
            0x0005 => out.software = Some(value),
            0x0006 => out.platform = Some(value),
            0x0009 => out.vtp_domain = Some(value),
            0x000a => out.native_vlan = Some(be16(value, 0).filter(|_| value.len() == 2).ok_or(bad)?),
            0x000b => out.full_duplex = Some(*value.first().filter(|_| value.len() == 1).ok_or(bad)? != 0),
            0x0016 => management = first_address(value).ok_or(bad)?,
            _ => {}
        }
    }
    out.address = out.address.or(management);
    Ok(out)
}

/// The first IPv4 or IPv6 address of an address list (`Some(None)` when it
/// has neither); `None` if the list is malformed.
fn first_address(value: &[u8]) -> Option<Option<IpAddr>> {
    let count = be32(value, 0)?;
    let mut at = 4usize;
    let mut found = None;
    for _ in 0..count.min(MAX_ADDRESSES) {
        let kind = *value.get(at)?;
        let proto_len = usize::from(*value.get(at + 1)?);
        let proto = value.get(at + 2..at + 2 + proto_len)?;
        let addr_len = usize::from(be16(value, at + 2 + proto_len)?);
        let start = at + 4 + proto_len;
        let addr = value.get(start..start + addr_len)?;
        at = start + addr_len;
        let ip = match (kind, proto, addr.len()) {
            (1, [0xcc], 4) => <[u8; 4]>::try_from(addr).ok().map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            (2, p, 16) if p == IPV6_PROTOCOL => <[u8; 16]>::try_from(addr).ok().map(|a| IpAddr::V6(Ipv6Addr::from(a))),
            _ => None,
        };
        found = found.or(ip);
    }
    Some(found)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One TLV with its header.
    pub(crate) fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = kind.to_be_bytes().to_vec();
        out.extend_from_slice(&(value.len() as u16 + 4).to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    /// An address TLV value with one IPv4 address.
    pub(crate) fn addresses(ip: [u8; 4]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1, 1, 1, 0xcc, 0, 4];
        v.extend_from_slice(&ip);
        v
    }

    /// A CDPv2 frame of `tlvs`.
    pub(crate) fn frame(tlvs: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![2, 180, 0x12, 0x34];
        for t in tlvs {
            out.extend_from_slice(t);
        }
        out
    }

    #[test]
    fn fields() {
        let f = frame(&[
            tlv(1, b"S1"),
            tlv(2, &addresses([10, 0, 0, 1])),
            tlv(3, b"FastEthernet0/13"),
            tlv(4, &[0, 0, 0, 0x28]),
            tlv(6, b"cisco WS-C3560-24TS"),
            tlv(9, b"lab"),
            tlv(10, &[0, 1]),
            tlv(11, &[1]),
        ]);
        let c = parse(&f).expect("parses");
        assert_eq!(c.device_id, Some(&b"S1"[..]));
        assert_eq!(c.address, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        assert_eq!(c.capabilities, Some(0x28));
        assert_eq!(c.platform, Some(&b"cisco WS-C3560-24TS"[..]));
        assert_eq!(c.vtp_domain, Some(&b"lab"[..]));
        assert_eq!(c.native_vlan, Some(1));
        assert_eq!(c.full_duplex, Some(true));
    }

    #[test]
    fn malformed() {
        assert_eq!(parse(&[2, 180]), Err(Error::Short));
        assert_eq!(parse(&[9, 180, 0, 0]), Err(Error::Version(9)));
        assert_eq!(parse(&frame(&[vec![0, 1, 0, 2]])), Err(Error::Tlv { tlv: 1, len: 2 }));
        assert_eq!(parse(&frame(&[vec![0, 1, 0, 9, b'a']])), Err(Error::Tlv { tlv: 1, len: 9 }));
        assert_eq!(parse(&frame(&[tlv(2, &[0, 0, 0, 1, 1, 1])])), Err(Error::Tlv { tlv: 2, len: 10 }));
        assert_eq!(parse(&frame(&[tlv(4, &[0])])), Err(Error::Tlv { tlv: 4, len: 5 }));
    }
}
