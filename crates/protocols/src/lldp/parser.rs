//! LLDP data units (IEEE 802.1AB): a chain of TLVs with a 7-bit type and a
//! 9-bit length, ending with the End TLV (or the end of the frame).

use palisade_decode::be16;
use palisade_model::MacAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IEEE 802.1 organisationally specific TLVs.
const OUI_8021: [u8; 3] = [0x00, 0x80, 0xc2];
/// IEEE 802.3 organisationally specific TLVs.
const OUI_8023: [u8; 3] = [0x00, 0x12, 0x0f];
/// LLDP-MED (TIA-1057).
const OUI_MED: [u8; 3] = [0x00, 0x12, 0xbb];
/// PROFINET (IEC 61158-6-10).
const OUI_PROFINET: [u8; 3] = [0x00, 0x0e, 0xcf];
/// IANA, used by the MUD URL extension (RFC 8520).
const OUI_IANA: [u8; 3] = [0x00, 0x00, 0x5e];

/// A chassis or port identifier: its subtype and raw value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Id<'a> {
    /// The identifier subtype (chassis 4 / port 3: MAC address).
    pub(crate) subtype: u8,
    /// The identifier bytes after the subtype.
    pub(crate) value: &'a [u8],
}

impl<'a> Id<'a> {
    /// The identifier as a MAC address, for the MAC subtype.
    pub(crate) fn mac(&self, mac_subtype: u8) -> Option<MacAddr> {
        if self.subtype == mac_subtype && self.value.len() == 6 {
            MacAddr::from_slice(self.value)
        } else {
            None
        }
    }
}

/// LLDP-MED inventory strings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Inventory<'a> {
    /// Hardware revision.
    pub(crate) hardware: Option<&'a [u8]>,
    /// Firmware revision.
    pub(crate) firmware: Option<&'a [u8]>,
    /// Software revision.
    pub(crate) software: Option<&'a [u8]>,
    /// Serial number.
    pub(crate) serial: Option<&'a [u8]>,
    /// Manufacturer name.
    pub(crate) manufacturer: Option<&'a [u8]>,
    /// Model name.
    pub(crate) model: Option<&'a [u8]>,
}

/// The fields of one LLDPDU that the dissector uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lldpdu<'a> {
    /// Chassis ID.
    pub(crate) chassis: Id<'a>,
    /// Port ID.
    pub(crate) port: Id<'a>,
    /// Port description.
    pub(crate) port_description: Option<&'a [u8]>,
    /// System name.
    pub(crate) system_name: Option<&'a [u8]>,
    /// System description.
    pub(crate) system_description: Option<&'a [u8]>,
    /// Enabled system capabilities (bit 2 bridge, 3 WLAN AP, 4 router,
    /// 5 telephone, 7 station only).
    pub(crate) capabilities: Option<u16>,
    /// First IPv4 or IPv6 management address.
    pub(crate) management: Option<IpAddr>,
    /// IEEE 802.1 port VLAN ID.
    pub(crate) port_vlan: Option<u16>,
    /// IEEE 802.3 operational MAU type.
    pub(crate) mau_type: Option<u16>,
    /// LLDP-MED inventory.
    pub(crate) inventory: Inventory<'a>,
    /// PROFINET chassis MAC address.
    pub(crate) profinet_chassis: Option<MacAddr>,
    /// PROFINET port status (RTClass2, RTClass3).
    pub(crate) profinet_port_status: Option<(u16, u16)>,
    /// Manufacturer Usage Description URL.
    pub(crate) mud_url: Option<&'a [u8]>,
}

/// Why an LLDPDU could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// A TLV header or value runs past the frame.
    Truncated {
        /// The TLV type.
        tlv: u8,
    },
    /// A TLV has a length its type does not allow.
    BadLength {
        /// The TLV type.
        tlv: u8,
        /// Its length.
        len: usize,
    },
    /// The chassis ID, port ID and TTL TLVs do not open the LLDPDU.
    MissingMandatory,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Truncated { tlv } => write!(f, "LLDP TLV type {tlv} runs past the frame"),
            Error::BadLength { tlv, len } => write!(f, "LLDP TLV type {tlv} with invalid length {len}"),
            Error::MissingMandatory => f.write_str("LLDPDU does not start with chassis ID, port ID and TTL"),
        }
    }
}

/// Parses an LLDPDU (the ethertype payload; link padding may follow the End TLV).
pub(crate) fn parse(data: &[u8]) -> Result<Lldpdu<'_>, Error> {
    let mut out = Lldpdu::default();
    let mut rest = data;
    let mut index = 0usize;
    while let Some(header) = be16(rest, 0) {
        let tlv = (header >> 9) as u8;
        let len = usize::from(header & 0x1ff);
        let value = rest.get(2..2 + len).ok_or(Error::Truncated { tlv })?;
        rest = rest.get(2 + len..).unwrap_or(&[]);
        let expected = match index {
            0 => Some(1),
            1 => Some(2),
            2 => Some(3),
            _ => None,
        };
        if expected.is_some_and(|t| t != tlv) {
            return Err(Error::MissingMandatory);
        }
        index += 1;
        let bad = Error::BadLength { tlv, len };
        match tlv {
            0 => return Ok(out),
            1 | 2 => {
                let (&subtype, id) = value.split_first().ok_or(bad)?;
                if id.is_empty() || id.len() > 255 {
                    return Err(bad);
                }
                let id = Id { subtype, value: id };
                if tlv == 1 {
                    out.chassis = id;
                } else {
                    out.port = id;
                }
            }
            3 => {
                be16(value, 0).filter(|_| value.len() == 2).ok_or(bad)?;
            }
            4 => out.port_description = Some(value),
            5 => out.system_name = Some(value),
            6 => out.system_description = Some(value),
            7 => out.capabilities = Some(be16(value, 2).filter(|_| value.len() == 4).ok_or(bad)?),
            8 => {
                let address = management_address(value).ok_or(bad)?;
                out.management = out.management.or(address);
            }
            127 => organisational(&mut out, value).ok_or(bad)?,
            _ => {}
        }
    }
    if index < 3 {
        return Err(Error::MissingMandatory);
    }
    Ok(out)
}

/// The IPv4 or IPv6 address of a management address TLV (`Some(None)` for
/// another address family); `None` if the TLV is malformed.
fn management_address(value: &[u8]) -> Option<Option<IpAddr>> {
    let len = usize::from(*value.first()?);
    let family = *value.get(1)?;
    let address = value.get(2..1 + len)?;
    // Interface numbering subtype and number, then the OID length and OID.
    let oid_len = usize::from(*value.get(1 + len + 5)?);
    value.get(1 + len + 6..1 + len + 6 + oid_len)?;
    Some(match (family, address.len()) {
        (1, 4) => <[u8; 4]>::try_from(address).ok().map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        (2, 16) => <[u8; 16]>::try_from(address).ok().map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        _ => None,
    })
}

/// Reads an organisationally specific TLV into `out`; `None` if malformed.
fn organisational<'a>(out: &mut Lldpdu<'a>, value: &'a [u8]) -> Option<()> {
    let oui: [u8; 3] = value.get(..3)?.try_into().ok()?;
    let subtype = *value.get(3)?;
    let info = value.get(4..)?;
    match (oui, subtype) {
        (OUI_8021, 1) => out.port_vlan = Some(be16(info, 0)?),
        (OUI_8023, 1) => out.mau_type = Some(be16(info, 3)?),
        (OUI_MED, 5) => out.inventory.hardware = Some(info),
        (OUI_MED, 6) => out.inventory.firmware = Some(info),
        (OUI_MED, 7) => out.inventory.software = Some(info),
        (OUI_MED, 8) => out.inventory.serial = Some(info),
        (OUI_MED, 9) => out.inventory.manufacturer = Some(info),
        (OUI_MED, 10) => out.inventory.model = Some(info),
        (OUI_PROFINET, 2) => out.profinet_port_status = Some((be16(info, 0)?, be16(info, 2)?)),
        (OUI_PROFINET, 5) => out.profinet_chassis = Some(MacAddr::from_slice(info)?),
        (OUI_IANA, 1) => out.mud_url = Some(info),
        _ => {}
    }
    Some(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One TLV with its header.
    pub(crate) fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
        let header = (u16::from(kind) << 9) | value.len() as u16;
        let mut out = header.to_be_bytes().to_vec();
        out.extend_from_slice(value);
        out
    }

    /// A switch's LLDPDU with the mandatory TLVs and `extra` before the End TLV.
    pub(crate) fn frame(extra: &[Vec<u8>]) -> Vec<u8> {
        let mut out = tlv(1, &[4, 0x00, 0x22, 0x2d, 0x81, 0xdb, 0x10]);
        out.extend(tlv(2, &[7, b'1']));
        out.extend(tlv(3, &[0, 120]));
        for t in extra {
            out.extend_from_slice(t);
        }
        out.extend(tlv(0, &[]));
        out.extend_from_slice(&[0; 6]);
        out
    }

    /// A management address TLV for an IPv4 address.
    pub(crate) fn mgmt_v4(ip: [u8; 4]) -> Vec<u8> {
        let mut v = vec![5, 1];
        v.extend_from_slice(&ip);
        v.extend_from_slice(&[2, 0, 0, 0, 1, 0]);
        tlv(8, &v)
    }

    #[test]
    fn mandatory_and_optional_tlvs() {
        let mut med = vec![0x00, 0x12, 0xbb, 8];
        med.extend_from_slice(b"SN123");
        let f = frame(&[
            tlv(5, b"SMCGS8P-Smart"),
            tlv(7, &[0, 0x14, 0, 0x04]),
            mgmt_v4([192, 168, 2, 10]),
            tlv(127, &med),
            tlv(127, &[0, 0x80, 0xc2, 1, 0, 10]),
        ]);
        let p = parse(&f).expect("parses");
        assert_eq!(p.chassis.mac(4), MacAddr::parse("00:22:2d:81:db:10"));
        assert_eq!(p.port.value, b"1");
        assert_eq!(p.system_name, Some(&b"SMCGS8P-Smart"[..]));
        assert_eq!(p.capabilities, Some(0x0004));
        assert_eq!(p.management, Some("192.168.2.10".parse().expect("ip")));
        assert_eq!(p.inventory.serial, Some(&b"SN123"[..]));
        assert_eq!(p.port_vlan, Some(10));
    }

    #[test]
    fn malformed_frames() {
        assert_eq!(parse(&tlv(5, b"x")), Err(Error::MissingMandatory));
        assert_eq!(parse(&[]), Err(Error::MissingMandatory));
        let mut f = frame(&[]);
        f.truncate(f.len() - 8);
        f.extend_from_slice(&[0x0a, 0x20, b'a']);
        assert_eq!(parse(&f), Err(Error::Truncated { tlv: 5 }));
        assert_eq!(parse(&frame(&[tlv(7, &[0, 4])])), Err(Error::BadLength { tlv: 7, len: 2 }));
        let mut short_ttl = tlv(1, &[4, 0, 1, 2, 3, 4, 5]);
        short_ttl.extend(tlv(2, &[7, b'1']));
        short_ttl.extend(tlv(3, &[0]));
        assert_eq!(parse(&short_ttl), Err(Error::BadLength { tlv: 3, len: 1 }));
        assert_eq!(parse(&frame(&[tlv(8, &[5, 1, 10])])), Err(Error::BadLength { tlv: 8, len: 3 }));
        assert_eq!(parse(&frame(&[tlv(127, &[0, 0x0e])])), Err(Error::BadLength { tlv: 127, len: 2 }));
    }
}
