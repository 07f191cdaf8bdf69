//! HART-IP messages and the HART frames (token-passing PDUs) they carry:
//! header, delimiter, address, command, byte count, status, data and
//! checksum; the identity in command 0, 13 and 20 responses; packed ASCII.

use palisade_model::{OperationKind, ViolationKind};
use std::fmt;

/// Bytes of a HART-IP header.
pub(crate) const HEADER_LEN: usize = 8;
/// Largest HART-IP message accepted.
const MAX_MESSAGE: u16 = 8192;
/// Message types.
pub(crate) const TYPE_REQUEST: u8 = 0;
pub(crate) const TYPE_RESPONSE: u8 = 1;
pub(crate) const TYPE_PUBLISH: u8 = 2;
const TYPE_ERROR: u8 = 3;
const TYPE_NAK: u8 = 15;
/// Message ids.
pub(crate) const ID_SESSION_INITIATE: u8 = 0;
pub(crate) const ID_TOKEN_PASSING: u8 = 3;
pub(crate) const ID_DIRECT: u8 = 4;
const ID_AUDIT_LOG: u8 = 5;
/// Command 31: the real (16-bit) command number follows in the data.
const EXTENDED_COMMAND: u8 = 31;
/// Preamble bytes skipped before a delimiter at most.
const MAX_PREAMBLES: usize = 20;

/// A HART-IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Protocol version (1 or 2).
    pub version: u8,
    /// Request, response, publish, error or NAK.
    pub message_type: u8,
    /// Session initiate, close, keep alive, token-passing PDU, direct PDU, audit log.
    pub message_id: u8,
    /// Status (0 in requests; a response code in responses).
    pub status: u8,
    /// Sequence number, echoed in the response.
    pub sequence: u16,
    /// Bytes of the whole message, header included.
    pub length: u16,
}

impl Header {
    /// True for version, type, id and length that a HART-IP peer would send.
    pub fn plausible(&self) -> bool {
        matches!(self.version, 1 | 2)
            && matches!(self.message_type, TYPE_REQUEST | TYPE_RESPONSE | TYPE_PUBLISH | TYPE_ERROR | TYPE_NAK)
            && self.message_id <= ID_AUDIT_LOG
            && (HEADER_LEN as u16..=MAX_MESSAGE).contains(&self.length)
            && (self.message_type != TYPE_REQUEST || self.status == 0)
    }

    /// Total bytes of the message.
    pub fn message_len(&self) -> usize {
        usize::from(self.length)
    }

    /// True for an error or NAK message.
    pub fn is_error(&self) -> bool {
        matches!(self.message_type, TYPE_ERROR | TYPE_NAK)
    }
}

/// Parses a HART-IP header at the start of `data`.
pub(crate) fn header(data: &[u8]) -> Option<Header> {
    let h: [u8; HEADER_LEN] = data.get(..HEADER_LEN)?.try_into().ok()?;
    let [version, message_type, message_id, status, s0, s1, l0, l1] = h;
    Some(Header { version, message_type, message_id, status, sequence: u16::from_be_bytes([s0, s1]), length: u16::from_be_bytes([l0, l1]) })
}

/// The operation kind of a message without a readable HART command.
pub(crate) fn message_kind(message_id: u8) -> OperationKind {
    match message_id {
        0..=2 => OperationKind::Session,
        ID_AUDIT_LOG => OperationKind::Read,
        _ => OperationKind::Other,
    }
}

/// The address of a HART frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Address {
    /// Short frame: polling address 0-63.
    Polling(u8),
    /// Long frame: the 38-bit unique id (master and burst bits cleared).
    Unique([u8; 5]),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Address::Polling(a) => write!(f, "polling address {a}"),
            Address::Unique([t0, t1, i0, i1, i2]) => write!(f, "type 0x{t0:02x}{t1:02x} id 0x{i0:02x}{i1:02x}{i2:02x}"),
        }
    }
}

/// One HART frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// Frame type: STX (request) or ACK/BACK (response, burst).
    pub is_request: bool,
    /// The field device addressed or answering (none in a direct PDU,
    /// which is for the HART-IP device itself).
    pub address: Option<Address>,
    /// Command number (commands above 255 resolved through command 31).
    pub command: u16,
    /// Response code and field device status (responses only).
    pub status: Option<(u8, u8)>,
    /// Data after the status bytes and the extended command number.
    pub data: &'a [u8],
}

/// What is wrong with a HART frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Nothing but preambles, or no room for the fixed fields.
    Truncated,
    /// A delimiter with an unknown frame type.
    Delimiter(u8),
    /// The byte count runs past the PDU.
    ByteCount { count: u8, available: usize },
    /// The longitudinal parity byte does not match.
    Checksum { expected: u8, found: u8 },
}

impl Problem {
    /// The violation kind to report.
    pub fn kind(self) -> ViolationKind {
        match self {
            Problem::Truncated | Problem::Delimiter(_) => ViolationKind::Malformed,
            Problem::ByteCount { .. } => ViolationKind::LengthMismatch,
            Problem::Checksum { .. } => ViolationKind::ChecksumError,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::Truncated => f.write_str("HART frame too short"),
            Problem::Delimiter(d) => write!(f, "HART delimiter 0x{d:02x} has an unknown frame type"),
            Problem::ByteCount { count, available } => write!(f, "HART byte count {count} but {available} bytes follow"),
            Problem::Checksum { expected, found } => write!(f, "HART check byte 0x{found:02x}, computed 0x{expected:02x}"),
        }
    }
}

/// Parses a HART frame (a token-passing PDU), checking its check byte.
pub(crate) fn frame(pdu: &[u8]) -> Result<Frame<'_>, Problem> {
    let start = pdu.iter().take(MAX_PREAMBLES).position(|&b| b != 0xff).ok_or(Problem::Truncated)?;
    let f = pdu.get(start..).ok_or(Problem::Truncated)?;
    let delimiter = *f.first().ok_or(Problem::Truncated)?;
    let is_request = match delimiter & 0x07 {
        2 => true,
        1 | 6 => false,
        _ => return Err(Problem::Delimiter(delimiter)),
    };
    let long = delimiter & 0x80 != 0;
    let expansion = usize::from((delimiter >> 5) & 0x03);
    let (address, after) = if long {
        let a = f.get(1..6).ok_or(Problem::Truncated)?;
        let mut u = [0u8; 5];
        u.copy_from_slice(a);
        u[0] &= 0x3f;
        (Address::Unique(u), 6)
    } else {
        (Address::Polling(f.get(1).ok_or(Problem::Truncated)? & 0x3f), 2)
    };
    let at = after + expansion;
    let (&command, &count) = (f.get(at).ok_or(Problem::Truncated)?, f.get(at + 1).ok_or(Problem::Truncated)?);
    let data_start = at + 2;
    let data_end = data_start + usize::from(count);
    let data = f.get(data_start..data_end).ok_or(Problem::ByteCount { count, available: f.len().saturating_sub(data_start + 1) })?;
    let found = *f.get(data_end).ok_or(Problem::ByteCount { count, available: f.len().saturating_sub(data_start + 1) })?;
    let expected = f.iter().take(data_end).fold(0u8, |x, b| x ^ b);
    if expected != found {
        return Err(Problem::Checksum { expected, found });
    }
    let (status, data) = match (is_request, data) {
        (true, d) => (None, d),
        (false, [code, device, rest @ ..]) => (Some((*code, *device)), rest),
        (false, d) => (None, d),
    };
    let (command, data) = match data {
        [hi, lo, rest @ ..] if command == EXTENDED_COMMAND => (u16::from_be_bytes([*hi, *lo]), rest),
        d => (u16::from(command), d),
    };
    Ok(Frame { is_request, address: Some(address), command, status, data })
}

/// The first command of a direct PDU (HART-IP message 4): device status,
/// extended device status, then command number (2 bytes), byte count and
/// data, which starts with the response code in a response.
pub(crate) fn direct(body: &[u8], is_request: bool) -> Option<Frame<'_>> {
    let device = *body.first()?;
    let command = u16::from_be_bytes([*body.get(2)?, *body.get(3)?]);
    let count = usize::from(*body.get(4)?);
    let data = body.get(5..5 + count)?;
    let (status, data) = if is_request {
        (None, data)
    } else {
        let (&code, rest) = data.split_first()?;
        (Some((code, device)), rest)
    };
    Some(Frame { is_request, address: None, command, status, data })
}

/// The operation kind of a HART command.
pub(crate) fn command_kind(command: u16) -> OperationKind {
    use OperationKind::*;
    match command {
        0 | 11 | 21 => Identify,
        6 | 17 | 18 | 19 | 22 => ConfigurationChange,
        0..=30 => Read,
        35..=38 | 79 => Write,
        40 | 41 => Diagnostics,
        42 => DeviceReset,
        89 => TimeSet,
        33 | 48 | 50 | 54 | 57 | 61 | 74 | 76 | 78 | 80 | 81 | 84..=86 | 90 | 101 | 105 | 114 | 115 => Read,
        _ => Other,
    }
}

/// The identity in a Read Unique Identifier (command 0, 11 or 21) response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UniqueId {
    /// Expanded device type (manufacturer id and device type before HART 7).
    pub device_type: u16,
    /// Manufacturer identification code.
    pub manufacturer: u16,
    /// Device id (24 bits).
    pub device_id: u32,
    /// Software revision.
    pub software: u8,
    /// Hardware revision.
    pub hardware: u8,
}

impl UniqueId {
    /// The long-frame address this device answers to.
    pub fn address(&self) -> Address {
        let [t0, t1] = self.device_type.to_be_bytes();
        let [_, i0, i1, i2] = self.device_id.to_be_bytes();
        Address::Unique([t0 & 0x3f, t1, i0, i1, i2])
    }
}

/// Parses the data (after the status bytes) of a command 0 response.
pub(crate) fn unique_id(data: &[u8]) -> Option<UniqueId> {
    if *data.first()? != 254 {
        return None;
    }
    let device_type = u16::from_be_bytes([*data.get(1)?, *data.get(2)?]);
    let major = *data.get(4)?;
    let software = *data.get(6)?;
    let hw = *data.get(7)?;
    let device_id = u32::from_be_bytes([0, *data.get(9)?, *data.get(10)?, *data.get(11)?]);
    let (manufacturer, hardware) = if major >= 7 {
        (u16::from_be_bytes([*data.get(17)?, *data.get(18)?]), hw >> 3)
    } else if major == 6 {
        (u16::from(*data.get(1)?), hw >> 3)
    } else {
        (u16::from(*data.get(1)?), hw)
    };
    Some(UniqueId { device_type, manufacturer, device_id, software, hardware })
}

/// The manufacturer name of a HART manufacturer identification code (a
/// few codes checked against vendor manuals).
pub(crate) fn manufacturer(id: u16) -> Option<&'static str> {
    Some(match id {
        0x11 => "Endress+Hauser",
        0x26 => "Rosemount",
        0x2a => "Siemens",
        0x3f => "Eckardt",
        0xa6 => "Fluid Components International",
        _ => return None,
    })
}

/// Decodes packed ASCII (four 6-bit characters in three bytes) into `buf`
/// (at most 32 characters), without trailing spaces.
pub(crate) fn packed_ascii<'b>(packed: &[u8], buf: &'b mut [u8; 32]) -> &'b str {
    let mut n = 0;
    for group in packed.chunks_exact(3) {
        let bits = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        for shift in [18u32, 12, 6, 0] {
            let c = ((bits >> shift) & 0x3f) as u8;
            if let Some(slot) = buf.get_mut(n) {
                *slot = if c < 0x20 { c + 0x40 } else { c };
                n += 1;
            }
        }
    }
    let text = buf.get(..n).unwrap_or_default();
    std::str::from_utf8(text).unwrap_or_default().trim_end_matches(' ')
}

/// Decodes a Latin-1 field (a long tag) into `buf`, without trailing NULs
/// and spaces; control characters give `None`.
pub(crate) fn latin1<'b>(field: &[u8], buf: &'b mut [u8; 64]) -> Option<&'b str> {
    let end = field.iter().rposition(|&b| b != 0 && b != b' ').map_or(0, |i| i + 1);
    let mut n = 0;
    for &b in field.get(..end)? {
        let c = char::from(b);
        if c.is_control() {
            return None;
        }
        let len = c.len_utf8();
        c.encode_utf8(buf.get_mut(n..n + len)?);
        n += len;
    }
    std::str::from_utf8(buf.get(..n)?).ok()
}

/// True for a tag that says nothing: empty, or all '@' (packed zeros).
pub(crate) fn blank(tag: &str) -> bool {
    tag.bytes().all(|b| b == b'@' || b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    }

    #[test]
    fn header_fields() {
        let m = hex("010000000002000d0100007530");
        let h = header(&m).expect("header");
        assert_eq!(h, Header { version: 1, message_type: 0, message_id: 0, status: 0, sequence: 2, length: 13 });
        assert!(h.plausible());
        assert!(!Header { version: 3, ..h }.plausible());
        assert!(!Header { message_id: 9, ..h }.plausible());
        assert!(!Header { length: 7, ..h }.plausible());
        assert!(!Header { status: 1, ..h }.plausible());
        assert!(Header { message_type: 15, status: 1, ..h }.is_error());
        assert!(header(&m[..7]).is_none());
    }

    #[test]
    fn long_frame_request_and_response() {
        let req = hex("82264e0000d2000038");
        let f = frame(&req).expect("request");
        assert_eq!(
            f,
            Frame { is_request: true, address: Some(Address::Unique([0x26, 0x4e, 0, 0, 0xd2])), command: 0, status: None, data: &[] }
        );
        assert_eq!(f.address.map(|a| a.to_string()).as_deref(), Some("type 0x264e id 0x0000d2"));
        let rsp = hex("86264e0000d2001800d0fe264e050704010e0c0000d205020002d00026002684e4");
        let f = frame(&rsp).expect("response");
        assert!(!f.is_request);
        assert_eq!(f.status, Some((0, 0xd0)));
        let id = unique_id(f.data).expect("unique id");
        assert_eq!(id, UniqueId { device_type: 0x264e, manufacturer: 38, device_id: 0xd2, software: 1, hardware: 1 });
        assert_eq!(Some(id.address()), f.address);
        assert_eq!(manufacturer(id.manufacturer), Some("Rosemount"));
    }

    #[test]
    fn short_frame_with_preambles() {
        let bytes = hex("ffff0200000002");
        let f = frame(&bytes).expect("short");
        assert_eq!(f.address, Some(Address::Polling(0)));
        assert_eq!(Address::Polling(0).to_string(), "polling address 0");
        // Master bit set in the short address.
        assert_eq!(frame(&hex("0281000083")).expect("short").address, Some(Address::Polling(1)));
    }

    #[test]
    fn extended_command_number() {
        // STX short, address 0, command 31, 2 bytes: 0x0400.
        let mut v = vec![0x02, 0x00, 31, 2, 0x04, 0x00];
        v.push(v.iter().fold(0, |x, b| x ^ b));
        assert_eq!(frame(&v).expect("frame").command, 1024);
    }

    #[test]
    fn problems() {
        assert_eq!(frame(&[0xff; 5]), Err(Problem::Truncated));
        assert_eq!(frame(&hex("0300000003")), Err(Problem::Delimiter(3)));
        assert_eq!(frame(&hex("02000005")), Err(Problem::ByteCount { count: 5, available: 0 }));
        assert_eq!(frame(&hex("0200000099")), Err(Problem::Checksum { expected: 2, found: 0x99 }));
        assert_eq!(Problem::Checksum { expected: 2, found: 0x99 }.kind(), ViolationKind::ChecksumError);
    }

    #[test]
    fn identity_of_older_revisions() {
        // HART 5: manufacturer in byte 1, hardware revision as is.
        let data = hex("fe3f0408050110" /* rev 5 */).into_iter().chain(hex("1b001b97e8")).collect::<Vec<_>>();
        let id = unique_id(&data).expect("id");
        assert_eq!((id.manufacturer, id.device_type, id.device_id, id.software, id.hardware), (0x3f, 0x3f04, 0x1b97e8, 0x10, 0x1b));
        assert_eq!(unique_id(&hex("fd26")), None);
    }

    #[test]
    fn packed_and_latin1_text() {
        let mut buf = [0u8; 32];
        // "TT-101  " packed.
        assert_eq!(packed_ascii(&hex("514b71c31820"), &mut buf), "TT-101");
        assert_eq!(packed_ascii(&[0; 6], &mut buf), "@@@@@@@@");
        assert!(blank("@@@@@@@@"));
        assert!(!blank("TT-101"));
        let mut buf = [0u8; 64];
        assert_eq!(latin1(b"wihartgw\0\0\0\0", &mut buf), Some("wihartgw"));
        assert_eq!(latin1(b"Stra\xdfe 1", &mut buf), Some("Stra\u{df}e 1"));
        assert_eq!(latin1(b"a\x01b", &mut buf), None);
        assert_eq!(latin1(&[0; 32], &mut buf), Some(""));
    }

    #[test]
    fn direct_pdu_first_command() {
        let req = Frame { is_request: true, address: None, command: 0, status: None, data: &[] };
        assert_eq!(direct(&hex("0000000000"), true), Some(req));
        let rsp = Frame { is_request: false, address: None, command: 20, status: Some((0, 0x40)), data: &[0x77, 0] };
        assert_eq!(direct(&hex("4000001403007700"), false), Some(rsp));
        assert_eq!(direct(&hex("00000014"), false), None);
        assert_eq!(direct(&hex("0000001400"), false), None);
    }

    #[test]
    fn kinds() {
        assert_eq!(command_kind(0), OperationKind::Identify);
        assert_eq!(command_kind(3), OperationKind::Read);
        assert_eq!(command_kind(18), OperationKind::ConfigurationChange);
        assert_eq!(command_kind(35), OperationKind::Write);
        assert_eq!(command_kind(41), OperationKind::Diagnostics);
        assert_eq!(command_kind(42), OperationKind::DeviceReset);
        assert_eq!(command_kind(48), OperationKind::Read);
        assert_eq!(command_kind(130), OperationKind::Other);
        assert_eq!(message_kind(0), OperationKind::Session);
        assert_eq!(message_kind(3), OperationKind::Other);
    }
}
