//! BOOTP header and DHCP options (RFC 951, RFC 2131, RFC 2132), pure and
//! zero-copy: every function reads a borrowed slice and returns small values
//! or sub-slices.

use crate::text::Text;
use palisade_decode::be32;
use palisade_model::MacAddr;
use std::fmt;
use std::net::Ipv4Addr;

/// The DHCP magic cookie that starts the options area.
pub(crate) const MAGIC_COOKIE: u32 = 0x6382_5363;
/// Length of the fixed BOOTP header (up to the magic cookie).
const HEADER_LEN: usize = 236;
/// Offset of the server host name field.
const SNAME_AT: usize = 44;
/// Offset of the boot file name field.
const FILE_AT: usize = 108;

/// BOOTP op: a request from a client.
pub(crate) const BOOTREQUEST: u8 = 1;
/// BOOTP op: a reply from a server.
pub(crate) const BOOTREPLY: u8 = 2;

/// DHCP message type (option 53): DHCPOFFER.
pub(crate) const OFFER: u8 = 2;
/// DHCP message type: DHCPREQUEST.
pub(crate) const REQUEST: u8 = 3;
/// DHCP message type: DHCPACK.
pub(crate) const ACK: u8 = 5;
/// DHCP message type: DHCPNAK.
pub(crate) const NAK: u8 = 6;

/// The fixed part of a BOOTP/DHCP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    /// [`BOOTREQUEST`] or [`BOOTREPLY`].
    pub op: u8,
    /// Client IP address (set by a client that already has one).
    pub ciaddr: Ipv4Addr,
    /// "Your" IP address: what the server assigns.
    pub yiaddr: Ipv4Addr,
    /// Client hardware address, when it is an Ethernet MAC.
    pub chaddr: Option<MacAddr>,
    /// The server host name field (may carry options, see option 52).
    sname: &'a [u8],
    /// The boot file name field (may carry options, see option 52).
    file: &'a [u8],
    /// The options after the magic cookie; `None` for plain BOOTP.
    options: Option<&'a [u8]>,
}

/// What is wrong with a BOOTP/DHCP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Shorter than the fixed header.
    Truncated(usize),
    /// An op code other than request or reply.
    BadOp(u8),
    /// The options area does not start with the magic cookie.
    BadCookie(u32),
    /// An option's length runs past the end of its area.
    OptionOverrun(u8),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated(len) => write!(f, "BOOTP message of {len} bytes is shorter than its {HEADER_LEN}-byte header"),
            Problem::BadOp(op) => write!(f, "BOOTP op code {op} is neither request nor reply"),
            Problem::BadCookie(c) => write!(f, "bad DHCP magic cookie 0x{c:08x}"),
            Problem::OptionOverrun(code) => write!(f, "DHCP option {code} runs past the end of the message"),
        }
    }
}

/// True if `payload` starts like a DHCP message on Ethernet: op 1 or 2,
/// hardware type 1 with 6-byte addresses, and the magic cookie at 236.
pub(crate) fn looks_like_dhcp(payload: &[u8]) -> bool {
    matches!(payload.get(..3), Some([BOOTREQUEST | BOOTREPLY, 1, 6])) && be32(payload, HEADER_LEN) == Some(MAGIC_COOKIE)
}

/// Reads the fixed header. A message whose options area is all zeros (or
/// absent) is plain BOOTP and has no options.
pub(crate) fn message(data: &[u8]) -> Result<Message<'_>, Problem> {
    let (Some(&[op, htype, hlen]), Some(ciaddr), Some(yiaddr), Some(chaddr), Some(sname), Some(file)) = (
        data.get(..3).and_then(|b| <&[u8; 3]>::try_from(b).ok()),
        be32(data, 12),
        be32(data, 16),
        data.get(28..44),
        data.get(SNAME_AT..FILE_AT),
        data.get(FILE_AT..HEADER_LEN),
    ) else {
        return Err(Problem::Truncated(data.len()));
    };
    if op != BOOTREQUEST && op != BOOTREPLY {
        return Err(Problem::BadOp(op));
    }
    let options = match be32(data, HEADER_LEN) {
        Some(MAGIC_COOKIE) => data.get(HEADER_LEN + 4..),
        Some(0) | None => None,
        Some(other) => return Err(Problem::BadCookie(other)),
    };
    let chaddr = if htype == 1 && hlen == 6 { MacAddr::from_slice(chaddr).filter(|m| m.is_unicast()) } else { None };
    Ok(Message { op, ciaddr: Ipv4Addr::from(ciaddr), yiaddr: Ipv4Addr::from(yiaddr), chaddr, sname, file, options })
}

/// The options Palisade reads, each from its first occurrence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    /// Option 53: DHCP message type.
    pub message_type: Option<u8>,
    /// Option 12: host name.
    pub hostname: Option<&'a [u8]>,
    /// Option 81: client FQDN (flags, two rcodes, name).
    pub client_fqdn: Option<&'a [u8]>,
    /// Option 60: vendor class identifier.
    pub vendor_class: Option<&'a [u8]>,
    /// Option 55: parameter request list.
    pub parameter_list: Option<&'a [u8]>,
    /// Option 161: MUD URL.
    pub mud_url: Option<&'a [u8]>,
    /// Option 50: requested IP address.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54: server identifier.
    pub server_id: Option<Ipv4Addr>,
    /// Option 3: routers (a multiple of 4 bytes).
    pub routers: &'a [u8],
    /// Option 6: DNS servers (a multiple of 4 bytes).
    pub dns_servers: &'a [u8],
}

impl<'a> Fields<'a> {
    fn set(&mut self, code: u8, value: &'a [u8]) {
        let ip = || <[u8; 4]>::try_from(value).ok().map(Ipv4Addr::from);
        match code {
            53 => self.message_type = self.message_type.or(value.first().copied()),
            12 => self.hostname = self.hostname.or(Some(value)),
            81 => self.client_fqdn = self.client_fqdn.or(Some(value)),
            60 => self.vendor_class = self.vendor_class.or(Some(value)),
            55 => self.parameter_list = self.parameter_list.or(Some(value)),
            161 => self.mud_url = self.mud_url.or(Some(value)),
            50 => self.requested_ip = self.requested_ip.or_else(ip),
            54 => self.server_id = self.server_id.or_else(ip),
            3 if self.routers.is_empty() => self.routers = value,
            6 if self.dns_servers.is_empty() => self.dns_servers = value,
            _ => {}
        }
    }
}

/// Reads the options of `msg`, following option 52 (overload) into the
/// file and sname fields. Returns what was read before any problem, and
/// the problem.
pub(crate) fn fields<'a>(msg: &Message<'a>) -> (Fields<'a>, Option<Problem>) {
    let mut fields = Fields::default();
    let Some(main) = msg.options else { return (fields, None) };
    let mut overload = 0;
    let mut problem = read_area(main, |code, value| {
        if code == 52 {
            overload = value.first().copied().unwrap_or(0);
        }
        fields.set(code, value);
    })
    .err();
    for (bit, area) in [(1, msg.file), (2, msg.sname)] {
        if overload & bit != 0 && problem.is_none() {
            problem = read_area(area, |code, value| fields.set(code, value)).err();
        }
    }
    (fields, problem)
}

/// Calls `each(code, value)` for every option of one area up to the end
/// option; an option running past the area is an error.
fn read_area<'a>(mut area: &'a [u8], mut each: impl FnMut(u8, &'a [u8])) -> Result<(), Problem> {
    while let Some((&code, rest)) = area.split_first() {
        match code {
            0 => area = rest,
            255 => break,
            _ => {
                let (&len, rest) = rest.split_first().ok_or(Problem::OptionOverrun(code))?;
                let value = rest.get(..usize::from(len)).ok_or(Problem::OptionOverrun(code))?;
                each(code, value);
                area = rest.get(usize::from(len)..).unwrap_or_default();
            }
        }
    }
    Ok(())
}

/// Iterates over the IPv4 addresses of an address-list option, skipping 0.0.0.0.
pub(crate) fn addresses(list: &[u8]) -> impl Iterator<Item = Ipv4Addr> + '_ {
    list.chunks_exact(4).filter_map(|c| <[u8; 4]>::try_from(c).ok()).map(Ipv4Addr::from).filter(|ip| !ip.is_unspecified())
}

/// Option text: valid UTF-8 without control characters (trailing NULs dropped).
pub(crate) fn text(value: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(value).ok()?.trim_end_matches('\0');
    (!s.is_empty() && !s.chars().any(char::is_control)).then_some(s)
}

/// Writes the parameter request list as comma-separated decimal codes
/// ("1,121,3,6") into `buf` (255 codes need at most 1,019 bytes).
pub(crate) fn fingerprint<'b>(list: &[u8], buf: &'b mut Text<1024>) -> Option<&'b str> {
    code_list("", list.iter().map(|&code| u16::from(code)), buf)
}

/// Writes `prefix` and then `codes` as comma-separated decimals into
/// `buf`; `None` when there are no codes or they do not fit.
pub(crate) fn code_list<'b, const N: usize>(prefix: &str, codes: impl Iterator<Item = u16>, buf: &'b mut Text<N>) -> Option<&'b str> {
    buf.clear();
    let mut fits = prefix.chars().all(|c| buf.push(c));
    let mut any = false;
    for code in codes {
        let part = Text::<6>::format(format_args!("{}{code}", if any { "," } else { "" }));
        fits = fits && part.as_str().chars().all(|c| buf.push(c));
        any = true;
    }
    if fits && any {
        Some(buf.as_str())
    } else {
        None
    }
}

/// The client FQDN of option 81 as text, in ASCII or (flag E) in DNS wire
/// format, written to `buf` without the trailing dot.
pub(crate) fn client_fqdn<'b>(value: &[u8], buf: &'b mut [u8; 256]) -> Option<&'b str> {
    let flags = *value.first()?;
    let name = value.get(3..)?;
    if flags & 0x04 != 0 {
        return wire_name(name, buf);
    }
    let name = name.strip_suffix(b"\0").unwrap_or(name);
    buf.get_mut(..name.len())?.copy_from_slice(name);
    text(buf.get(..name.len())?).map(|s| s.trim_end_matches('.'))
}

/// A domain name in DNS wire format (length-prefixed labels, ending with
/// an empty one or not at all) as dotted text in `buf`, without the
/// trailing dot.
pub(crate) fn wire_name<'b>(name: &[u8], buf: &'b mut [u8; 256]) -> Option<&'b str> {
    let mut len = 0;
    let mut rest = name;
    while let Some((&label_len, tail)) = rest.split_first() {
        let label = tail.get(..usize::from(label_len))?;
        if label.is_empty() {
            break;
        }
        if len > 0 {
            *buf.get_mut(len)? = b'.';
            len += 1;
        }
        buf.get_mut(len..len + label.len())?.copy_from_slice(label);
        len += label.len();
        rest = tail.get(label.len()..)?;
    }
    text(buf.get(..len)?).map(|s| s.trim_end_matches('.'))
}

/// The operating system a well-known vendor class names: "MSFT 5.0" is
/// Windows, "dhcpcd-<version>:<system>-<release>:..." names its system
/// (Linux, NetBSD...), "android-dhcp-<version>" is Android, udhcp is Linux.
pub(crate) fn os_from_vendor_class(class: &str) -> Option<&str> {
    if class.starts_with("MSFT") {
        Some("Windows")
    } else if class.starts_with("android-dhcp") {
        Some("Android")
    } else if class.starts_with("udhcp") {
        Some("Linux")
    } else if class.starts_with("dhcpcd") {
        let system = class.split(':').nth(1)?;
        let name = system.split('-').next()?;
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())).then_some(name)
    } else {
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A message with the given op, chaddr, ciaddr/yiaddr and options (after the cookie).
    pub(crate) fn build(op: u8, mac: [u8; 6], ciaddr: [u8; 4], yiaddr: [u8; 4], options: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; HEADER_LEN];
        m[0] = op;
        m[1] = 1;
        m[2] = 6;
        m[12..16].copy_from_slice(&ciaddr);
        m[16..20].copy_from_slice(&yiaddr);
        m[28..34].copy_from_slice(&mac);
        m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(options);
        m
    }

    #[test]
    fn reads_header_and_options() {
        let opts = [53, 1, 3, 12, 4, b'h', b'o', b's', b't', 50, 4, 10, 0, 0, 7, 55, 3, 1, 121, 3, 0, 255, 99];
        let m = build(1, [2, 0, 0, 0, 0, 1], [0; 4], [0; 4], &opts);
        assert!(looks_like_dhcp(&m));
        let msg = message(&m).unwrap();
        assert_eq!(msg.op, BOOTREQUEST);
        assert_eq!(msg.chaddr, Some(MacAddr([2, 0, 0, 0, 0, 1])));
        let (f, problem) = fields(&msg);
        assert_eq!(problem, None);
        assert_eq!(f.message_type, Some(REQUEST));
        assert_eq!(f.hostname, Some(&b"host"[..]));
        assert_eq!(f.requested_ip, Some(Ipv4Addr::new(10, 0, 0, 7)));
        let mut buf = Text::default();
        assert_eq!(fingerprint(f.parameter_list.unwrap(), &mut buf), Some("1,121,3"));
    }

    #[test]
    fn fingerprint_of_every_code_fits() {
        let all: Vec<u8> = (0..=255).collect();
        let mut buf = Text::default();
        let s = fingerprint(&all[1..], &mut buf).unwrap();
        assert!(s.starts_with("1,2,3,") && s.ends_with(",254,255"));
        assert_eq!(fingerprint(&[], &mut buf), None);
        let mut small = Text::<8>::default();
        assert_eq!(code_list("v6:", [23, 24].into_iter(), &mut small), Some("v6:23,24"));
        assert_eq!(code_list("v6:", [23, 24, 39].into_iter(), &mut small), None);
        assert_eq!(code_list("v6:", std::iter::empty(), &mut small), None);
    }

    #[test]
    fn problems() {
        assert_eq!(message(&[1; 100]), Err(Problem::Truncated(100)));
        let mut m = build(3, [2, 0, 0, 0, 0, 1], [0; 4], [0; 4], &[]);
        assert_eq!(message(&m), Err(Problem::BadOp(3)));
        m[0] = 1;
        m[HEADER_LEN] = 0x12;
        assert!(matches!(message(&m), Err(Problem::BadCookie(_))));
        assert!(!looks_like_dhcp(&m));
        let m = build(1, [2, 0, 0, 0, 0, 1], [0; 4], [0; 4], &[12, 10, b'a']);
        let (_, problem) = fields(&message(&m).unwrap());
        assert_eq!(problem, Some(Problem::OptionOverrun(12)));
        let m = build(1, [2, 0, 0, 0, 0, 1], [0; 4], [0; 4], &[12]);
        assert_eq!(fields(&message(&m).unwrap()).1, Some(Problem::OptionOverrun(12)));
    }

    #[test]
    fn plain_bootp_has_no_options() {
        let mut m = build(2, [2, 0, 0, 0, 0, 1], [0; 4], [10, 0, 0, 9], &[]);
        m[HEADER_LEN..].fill(0);
        let msg = message(&m).unwrap();
        assert_eq!(msg.yiaddr, Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(fields(&msg), (Fields::default(), None));
    }

    #[test]
    fn overloaded_file_field() {
        let mut m = build(2, [2, 0, 0, 0, 0, 1], [0; 4], [0; 4], &[52, 1, 1, 255]);
        m[FILE_AT..FILE_AT + 6].copy_from_slice(&[12, 3, b'p', b'l', b'c', 255]);
        let (f, problem) = fields(&message(&m).unwrap());
        assert_eq!(problem, None);
        assert_eq!(f.hostname, Some(&b"plc"[..]));
    }

    #[test]
    fn fqdn_forms() {
        let mut buf = [0; 256];
        assert_eq!(client_fqdn(b"\x00\x00\x00pc1.corp.example", &mut buf), Some("pc1.corp.example"));
        assert_eq!(client_fqdn(b"\x04\x00\x00\x03pc1\x04corp\x00", &mut buf), Some("pc1.corp"));
        assert_eq!(client_fqdn(b"\x04\x00\x00\x09pc1", &mut buf), None);
        assert_eq!(client_fqdn(b"\x05", &mut buf), None);
        assert_eq!(wire_name(b"\x04host", &mut buf), Some("host"));
        assert_eq!(wire_name(b"", &mut buf), None);
    }

    #[test]
    fn vendor_class_os() {
        assert_eq!(os_from_vendor_class("MSFT 5.0"), Some("Windows"));
        assert_eq!(os_from_vendor_class("dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"), Some("Linux"));
        assert_eq!(os_from_vendor_class("dhcpcd-9.4.1:NetBSD-9.2:amd64:x86_64"), Some("NetBSD"));
        assert_eq!(os_from_vendor_class("android-dhcp-11"), Some("Android"));
        assert_eq!(os_from_vendor_class("udhcp 1.30.1"), Some("Linux"));
        assert_eq!(os_from_vendor_class("PXEClient:Arch:00000"), None);
        assert_eq!(os_from_vendor_class("dhcpcd"), None);
    }

    #[test]
    fn text_rules() {
        assert_eq!(text(b"name\0\0"), Some("name"));
        assert_eq!(text(b"a\x01b"), None);
        assert_eq!(text(b"\xff"), None);
        assert_eq!(text(b"\0"), None);
    }
}
