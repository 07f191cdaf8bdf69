//! DHCPv6 messages and options (RFC 8415, client FQDN from RFC 4704, DNS
//! servers from RFC 3646), pure and zero-copy.

use palisade_decode::{be16, be32};
use palisade_model::MacAddr;
use std::fmt;
use std::net::Ipv6Addr;

/// Client message: SOLICIT.
pub(crate) const SOLICIT: u8 = 1;
/// Server message: ADVERTISE.
pub(crate) const ADVERTISE: u8 = 2;
/// Client message: RENEW (extend a lease with the server that gave it).
pub(crate) const RENEW: u8 = 5;
/// Client message: REBIND (extend a lease with any server).
pub(crate) const REBIND: u8 = 6;
/// Server message: REPLY.
pub(crate) const REPLY: u8 = 7;
/// Server message: RECONFIGURE.
pub(crate) const RECONFIGURE: u8 = 10;
/// Client message: INFORMATION-REQUEST.
pub(crate) const INFORMATION_REQUEST: u8 = 11;
/// Relay agent to server: RELAY-FORW.
pub(crate) const RELAY_FORW: u8 = 12;
/// Server to relay agent: RELAY-REPL.
pub(crate) const RELAY_REPL: u8 = 13;

/// Option: client identifier (a DUID).
const OPTION_CLIENTID: u16 = 1;
/// Option: server identifier (a DUID).
const OPTION_SERVERID: u16 = 2;
/// Option: identity association for non-temporary addresses.
const OPTION_IA_NA: u16 = 3;
/// Option: identity association for temporary addresses.
const OPTION_IA_TA: u16 = 4;
/// Option: an address inside an IA.
const OPTION_IAADDR: u16 = 5;
/// Option: option request option (the codes a client asks for).
const OPTION_ORO: u16 = 6;
/// Option: the relayed message inside a RELAY-FORW or RELAY-REPL.
const OPTION_RELAY_MSG: u16 = 9;
/// Option: status code.
const OPTION_STATUS_CODE: u16 = 13;
/// Option: vendor class.
const OPTION_VENDOR_CLASS: u16 = 16;
/// Option: DNS recursive name servers.
const OPTION_DNS_SERVERS: u16 = 23;
/// Option: identity association for prefix delegation.
const OPTION_IA_PD: u16 = 25;
/// Option: a prefix inside an IA_PD.
const OPTION_IAPREFIX: u16 = 26;
/// Option: client FQDN.
const OPTION_CLIENT_FQDN: u16 = 39;

/// Relays nested deeper than this are not followed.
const MAX_RELAY_DEPTH: usize = 8;
/// Length of a relay message's header (type, hop count, link and peer addresses).
const RELAY_HEADER: usize = 34;
/// Longest DUID (RFC 8415: 128 bytes after the type).
const MAX_DUID: usize = 130;

/// A client or server message, taken out of any relay messages around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    /// Message type (1 to 11).
    pub kind: u8,
    /// Transaction id (three bytes).
    pub transaction: u32,
    /// The options, checked to be well formed.
    options: &'a [u8],
    /// The client's address as the innermost relay agent saw it, when relayed.
    pub relayed_from: Option<Ipv6Addr>,
}

/// A lease a client holds: an address or a delegated prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lease {
    /// An address of an IA_NA or IA_TA.
    Address(Ipv6Addr),
    /// A prefix of an IA_PD, with its length.
    Prefix(Ipv6Addr, u8),
}

impl fmt::Display for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lease::Address(a) => write!(f, "{a}"),
            Lease::Prefix(p, len) => write!(f, "{p}/{len}"),
        }
    }
}

/// The options Palisade reads, each from its first occurrence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    /// Client DUID.
    pub client_id: Option<&'a [u8]>,
    /// Server DUID.
    pub server_id: Option<&'a [u8]>,
    /// Option request option: two-byte option codes.
    pub requested: Option<&'a [u8]>,
    /// Client FQDN (flags, then a name in DNS wire format).
    pub client_fqdn: Option<&'a [u8]>,
    /// Vendor class: enterprise number, then length-prefixed class data.
    pub vendor_class: Option<&'a [u8]>,
    /// DNS servers (a multiple of 16 bytes).
    pub dns_servers: &'a [u8],
    /// The first address or prefix of an IA.
    pub lease: Option<Lease>,
    /// The first non-zero status code, at the top level or inside an IA.
    pub status: Option<u16>,
}

/// What is wrong with a DHCPv6 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Shorter than its header.
    Truncated(usize),
    /// Message type 0 or above 13 (those of other protocols on the same ports).
    UnknownType(u8),
    /// An option's length runs past the end of its message.
    OptionOverrun(u16),
    /// A relay message without a relayed message inside.
    NoRelayedMessage,
    /// Relays nested too deep.
    TooManyRelays,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated(len) => write!(f, "DHCPv6 message of {len} bytes is shorter than its header"),
            Problem::UnknownType(t) => write!(f, "DHCPv6 message type {t} is not a client, server or relay message"),
            Problem::OptionOverrun(code) => write!(f, "DHCPv6 option {code} runs past the end of the message"),
            Problem::NoRelayedMessage => f.write_str("DHCPv6 relay message without a relayed message"),
            Problem::TooManyRelays => write!(f, "DHCPv6 relay messages nested more than {MAX_RELAY_DEPTH} deep"),
        }
    }
}

/// Iterates over the (code, value) options of an area already checked by [`check_options`].
fn options(mut area: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let (code, len) = (be16(area, 0)?, usize::from(be16(area, 2)?));
        let value = area.get(4..4 + len)?;
        area = area.get(4 + len..)?;
        Some((code, value))
    })
}

/// Checks that the options fill `area` exactly.
fn check_options(mut area: &[u8]) -> Result<(), Problem> {
    while !area.is_empty() {
        let code = be16(area, 0).unwrap_or(0);
        let len = be16(area, 2).ok_or(Problem::OptionOverrun(code))?;
        area = area.get(4 + usize::from(len)..).ok_or(Problem::OptionOverrun(code))?;
    }
    Ok(())
}

/// Reads a message, taking it out of the relay messages around it.
pub(crate) fn parse(data: &[u8]) -> Result<Message<'_>, Problem> {
    let mut data = data;
    let mut relayed_from = None;
    for _ in 0..=MAX_RELAY_DEPTH {
        let kind = *data.first().ok_or(Problem::Truncated(0))?;
        match kind {
            RELAY_FORW | RELAY_REPL => {
                let (Some(peer), Some(area)) = (data.get(18..RELAY_HEADER), data.get(RELAY_HEADER..)) else {
                    return Err(Problem::Truncated(data.len()));
                };
                check_options(area)?;
                relayed_from = <[u8; 16]>::try_from(peer).ok().map(Ipv6Addr::from);
                data = options(area).find(|(code, _)| *code == OPTION_RELAY_MSG).map(|(_, v)| v).ok_or(Problem::NoRelayedMessage)?;
            }
            SOLICIT..=INFORMATION_REQUEST => {
                let (Some(word), Some(area)) = (be32(data, 0), data.get(4..)) else { return Err(Problem::Truncated(data.len())) };
                check_options(area)?;
                return Ok(Message { kind, transaction: word & 0x00ff_ffff, options: area, relayed_from });
            }
            other => return Err(Problem::UnknownType(other)),
        }
    }
    Err(Problem::TooManyRelays)
}

impl<'a> Message<'a> {
    /// True for the messages clients send.
    pub(crate) fn sent_by_client(&self) -> bool {
        !matches!(self.kind, ADVERTISE | REPLY | RECONFIGURE)
    }

    /// The options Palisade reads.
    pub(crate) fn fields(&self) -> Fields<'a> {
        let mut f = Fields::default();
        for (code, value) in options(self.options) {
            match code {
                OPTION_CLIENTID => f.client_id = f.client_id.or(Some(value)),
                OPTION_SERVERID => f.server_id = f.server_id.or(Some(value)),
                OPTION_ORO => f.requested = f.requested.or(Some(value)),
                OPTION_CLIENT_FQDN => f.client_fqdn = f.client_fqdn.or(Some(value)),
                OPTION_VENDOR_CLASS => f.vendor_class = f.vendor_class.or(Some(value)),
                OPTION_DNS_SERVERS if f.dns_servers.is_empty() => f.dns_servers = value,
                OPTION_STATUS_CODE => f.status = f.status.or(status(value)),
                OPTION_IA_NA | OPTION_IA_TA | OPTION_IA_PD => {
                    let header = if code == OPTION_IA_TA { 4 } else { 12 };
                    identity_association(value.get(header..).unwrap_or_default(), &mut f);
                }
                _ => {}
            }
        }
        f
    }
}

/// Reads the addresses, prefixes and status inside an IA's options.
fn identity_association(area: &[u8], f: &mut Fields<'_>) {
    if check_options(area).is_err() {
        return;
    }
    for (code, value) in options(area) {
        let (lease, inner) = match code {
            OPTION_IAADDR => (address(value.get(..16)).map(Lease::Address), value.get(24..)),
            OPTION_IAPREFIX => {
                let prefix = address(value.get(9..25)).zip(value.get(8).copied());
                (prefix.map(|(p, len)| Lease::Prefix(p, len)), value.get(25..))
            }
            OPTION_STATUS_CODE => {
                f.status = f.status.or(status(value));
                continue;
            }
            _ => continue,
        };
        f.lease = f.lease.or(lease);
        if let Some(inner) = inner.filter(|i| check_options(i).is_ok()) {
            for (_, value) in options(inner).filter(|(code, _)| *code == OPTION_STATUS_CODE) {
                f.status = f.status.or(status(value));
            }
        }
    }
}

/// Sixteen bytes as an IPv6 address.
fn address(bytes: Option<&[u8]>) -> Option<Ipv6Addr> {
    bytes.and_then(|b| <[u8; 16]>::try_from(b).ok()).map(Ipv6Addr::from)
}

/// A status code option's code, unless it is 0 (success).
fn status(value: &[u8]) -> Option<u16> {
    be16(value, 0).filter(|&code| code != 0)
}

/// The addresses of a DNS servers option.
pub(crate) fn addresses(list: &[u8]) -> impl Iterator<Item = Ipv6Addr> + '_ {
    list.chunks_exact(16).filter_map(|c| address(Some(c))).filter(|a| !a.is_unspecified())
}

/// The option codes an option request option asks for.
pub(crate) fn requested_codes(list: &[u8]) -> impl Iterator<Item = u16> + '_ {
    list.chunks_exact(2).filter_map(|c| be16(c, 0))
}

/// The link-layer address of a DUID-LLT (type 1) or DUID-LL (type 3) on
/// Ethernet (hardware type 1), when it is a unicast MAC.
pub(crate) fn duid_mac(duid: &[u8]) -> Option<MacAddr> {
    let mac = match (be16(duid, 0)?, be16(duid, 2)?) {
        (1, 1) => duid.get(8..)?,
        (3, 1) => duid.get(4..)?,
        _ => return None,
    };
    MacAddr::from_slice(mac).filter(|m| m.is_unicast())
}

/// True for a DUID of a known type with a plausible length.
fn sound_duid(duid: &[u8]) -> bool {
    let ok = match be16(duid, 0) {
        Some(1) => duid.len() > 8,
        Some(2) => duid.len() > 6,
        Some(3) => duid.len() > 4,
        Some(4) => duid.len() == 18,
        _ => false,
    };
    ok && duid.len() <= MAX_DUID
}

/// The enterprise number and the first class data of a vendor class option.
pub(crate) fn vendor_class(value: &[u8]) -> Option<(u32, &[u8])> {
    let enterprise = be32(value, 0)?;
    let len = usize::from(be16(value, 4)?);
    Some((enterprise, value.get(6..6 + len)?))
}

/// The name of a client FQDN option (flags, then DNS wire format).
pub(crate) fn fqdn_name(value: &[u8]) -> Option<&[u8]> {
    value.get(1..)
}

/// True if `data` is a DHCPv6 message beyond reasonable doubt: a known
/// type whose options fill it exactly, with the identifiers its sender
/// must give (a client's DUID, a server's DUID) and sound DUIDs.
pub(crate) fn looks_like_dhcpv6(data: &[u8]) -> bool {
    let Ok(m) = parse(data) else { return false };
    let f = m.fields();
    let client_ok = f.client_id.map(sound_duid);
    let server_ok = f.server_id.map(sound_duid);
    if m.sent_by_client() {
        client_ok.unwrap_or(m.kind == INFORMATION_REQUEST) && server_ok.unwrap_or(true)
    } else {
        server_ok == Some(true) && client_ok.unwrap_or(m.kind == RECONFIGURE)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One option.
    pub(crate) fn opt(code: u16, value: &[u8]) -> Vec<u8> {
        let mut o = code.to_be_bytes().to_vec();
        o.extend_from_slice(&(value.len() as u16).to_be_bytes());
        o.extend_from_slice(value);
        o
    }

    /// A message of `kind` with transaction id 0x123456 and `options`.
    pub(crate) fn message(kind: u8, options: &[Vec<u8>]) -> Vec<u8> {
        let mut m = vec![kind, 0x12, 0x34, 0x56];
        for o in options {
            m.extend_from_slice(o);
        }
        m
    }

    /// A DUID-LLT of an Ethernet MAC.
    pub(crate) fn duid_llt(mac: [u8; 6]) -> Vec<u8> {
        let mut d = vec![0, 1, 0, 1, 0x2b, 0x1c, 0x2d, 0x3e];
        d.extend_from_slice(&mac);
        d
    }

    /// An IA_NA holding `addr`, with a status code inside the address when given.
    pub(crate) fn ia_na(addr: Ipv6Addr, status_code: Option<u16>) -> Vec<u8> {
        let mut iaaddr = addr.octets().to_vec();
        iaaddr.extend_from_slice(&[0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20]);
        if let Some(code) = status_code {
            iaaddr.extend(opt(OPTION_STATUS_CODE, &[&code.to_be_bytes()[..], b"no binding"].concat()));
        }
        let mut value = vec![0, 0, 0, 1, 0, 0, 0x07, 0x08, 0, 0, 0x0b, 0x40];
        value.extend(opt(OPTION_IAADDR, &iaaddr));
        opt(OPTION_IA_NA, &value)
    }

    #[test]
    fn solicit_fields() {
        let mac = [0x00, 0x0c, 0x29, 0x11, 0x22, 0x33];
        let vendor = [&311u32.to_be_bytes()[..], &[0, 8], b"MSFT 5.0"].concat();
        let m = message(
            1,
            &[
                opt(1, &duid_llt(mac)),
                opt(6, &[0, 17, 0, 23, 0, 24, 0, 39]),
                opt(39, b"\x00\x04pc42\x04corp\x00"),
                opt(16, &vendor),
                opt(8, &[0, 0]),
            ],
        );
        assert!(looks_like_dhcpv6(&m));
        let msg = parse(&m).unwrap();
        assert_eq!((msg.kind, msg.transaction, msg.relayed_from, msg.sent_by_client()), (SOLICIT, 0x123456, None, true));
        let f = msg.fields();
        assert_eq!(f.client_id.and_then(duid_mac), Some(MacAddr(mac)));
        assert_eq!(requested_codes(f.requested.unwrap()).collect::<Vec<_>>(), [17, 23, 24, 39]);
        assert_eq!(f.client_fqdn.and_then(fqdn_name), Some(&b"\x04pc42\x04corp\x00"[..]));
        assert_eq!(f.vendor_class.and_then(vendor_class), Some((311, &b"MSFT 5.0"[..])));
    }

    #[test]
    fn reply_leases_and_status() {
        let addr: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let server = opt(2, &[0, 3, 0, 1, 0, 0x50, 0x56, 1, 2, 3]);
        let dns = opt(23, &"2001:db8::53".parse::<Ipv6Addr>().unwrap().octets());
        let m = message(7, &[opt(1, &duid_llt([2, 0, 0, 0, 0, 1])), server.clone(), ia_na(addr, Some(3)), dns]);
        assert!(looks_like_dhcpv6(&m));
        let f = parse(&m).unwrap().fields();
        assert_eq!((f.lease, f.status), (Some(Lease::Address(addr)), Some(3)));
        assert_eq!(addresses(f.dns_servers).collect::<Vec<_>>(), ["2001:db8::53".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(f.server_id.and_then(duid_mac), Some(MacAddr([0, 0x50, 0x56, 1, 2, 3])));
        let ok = message(7, &[server, ia_na(addr, Some(0)), opt(13, &[0, 0])]);
        assert_eq!(parse(&ok).unwrap().fields().status, None);
        // A delegated prefix.
        let mut iaprefix = vec![0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20, 56];
        iaprefix.extend_from_slice(&"2001:db8:100::".parse::<Ipv6Addr>().unwrap().octets());
        let pd = opt(25, &[&[0u8; 12][..], &opt(26, &iaprefix)].concat());
        let rebind = message(6, &[pd]);
        let f = parse(&rebind).unwrap().fields();
        assert_eq!(f.lease.map(|l| l.to_string()), Some("2001:db8:100::/56".to_string()));
    }

    #[test]
    fn relayed_messages_are_unwrapped() {
        let inner = message(1, &[opt(1, &duid_llt([2, 0, 0, 0, 0, 1]))]);
        let peer: Ipv6Addr = "fe80::1".parse().unwrap();
        let relay = |inner: &[u8]| {
            let mut r = vec![RELAY_FORW, 0];
            r.extend_from_slice(&[0; 16]);
            r.extend_from_slice(&peer.octets());
            r.extend(opt(18, b"eth0"));
            r.extend(opt(9, inner));
            r
        };
        let once = relay(&inner);
        let m = parse(&once).unwrap();
        assert_eq!((m.kind, m.relayed_from), (SOLICIT, Some(peer)));
        assert!(looks_like_dhcpv6(&once));
        let mut deep = inner.clone();
        for _ in 0..=MAX_RELAY_DEPTH {
            deep = relay(&deep);
        }
        assert_eq!(parse(&deep), Err(Problem::TooManyRelays));
        assert_eq!(parse(&once[..once.len() - inner.len() - 4]), Err(Problem::NoRelayedMessage));
        assert_eq!(parse(&once[..20]), Err(Problem::Truncated(20)));
    }

    #[test]
    fn problems_and_probe() {
        assert_eq!(parse(&[]), Err(Problem::Truncated(0)));
        assert_eq!(parse(&[1, 0, 0]), Err(Problem::Truncated(3)));
        assert_eq!(parse(&[0, 0, 0, 0]), Err(Problem::UnknownType(0)));
        assert_eq!(parse(&[20, 0, 0, 0]), Err(Problem::UnknownType(20)));
        assert_eq!(parse(&[1, 0, 0, 0, 0, 1, 0, 9, 1]), Err(Problem::OptionOverrun(1)));
        assert_eq!(parse(&[1, 0, 0, 0, 0, 1, 0]), Err(Problem::OptionOverrun(1)));
        // No client id, a bad DUID type, an over-long DUID, a reply without a server id.
        assert!(!looks_like_dhcpv6(&message(1, &[opt(8, &[0, 0])])));
        assert!(!looks_like_dhcpv6(&message(1, &[opt(1, &[0, 9, 1, 2, 3, 4])])));
        assert!(!looks_like_dhcpv6(&message(1, &[opt(1, &[&[0u8, 2][..], &[7; 140]].concat())])));
        assert!(!looks_like_dhcpv6(&message(7, &[opt(1, &duid_llt([2, 0, 0, 0, 0, 1]))])));
        assert!(looks_like_dhcpv6(&message(11, &[opt(6, &[0, 23])])));
        assert!(!looks_like_dhcpv6(&[0x01; 40]));
        assert_eq!(duid_mac(&[0, 4, 0, 1, 2, 3]), None);
        assert_eq!(duid_mac(&[0, 3, 0, 1, 1, 0, 0, 0, 0, 1]), None);
    }
}
