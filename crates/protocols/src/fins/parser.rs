//! Omron FINS frames: the FINS/TCP envelope, the FINS header, command codes
//! and the parameters of the commands worth naming in an operation.

use palisade_model::OperationKind;
use std::fmt;

/// Bytes of a FINS header up to and including the command code (MRC/SRC).
pub(crate) const HEADER_LEN: usize = 12;
/// Bytes of a FINS/TCP envelope ("FINS", length, command, error code).
pub(crate) const TCP_HEADER_LEN: usize = 16;
/// Largest FINS/TCP length field accepted (a FINS frame is at most ~2 KB).
pub(crate) const MAX_TCP_LENGTH: u32 = 8 + 4096;
/// FINS/TCP command carrying a FINS frame.
pub(crate) const TCP_FRAME: u32 = 2;
/// ICF bit: the frame is a response.
const ICF_RESPONSE: u8 = 0x40;
/// ICF bits that must be zero.
const ICF_RESERVED: u8 = 0x3e;
/// Highest gateway count allowed.
const MAX_GCT: u8 = 7;

/// A FINS node address: network, node, unit.
pub(crate) type Node = [u8; 3];

/// The FINS header of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Information control field.
    pub icf: u8,
    /// Destination network, node and unit.
    pub dst: Node,
    /// Source network, node and unit.
    pub src: Node,
    /// Service id chosen by the commander, echoed in the response.
    pub sid: u8,
    /// Main and sub request code (MRC << 8 | SRC).
    pub command: u16,
}

impl Header {
    /// True for a response frame.
    pub fn is_response(&self) -> bool {
        self.icf & ICF_RESPONSE != 0
    }
}

/// Parses a FINS frame; returns the header and what follows the command
/// code (parameters of a command, end code and data of a response).
pub(crate) fn frame(data: &[u8]) -> Option<(Header, &[u8])> {
    let h = data.get(..HEADER_LEN)?;
    let [icf, rsv, gct, dna, da1, da2, sna, sa1, sa2, sid, mrc, src] = <[u8; HEADER_LEN]>::try_from(h).ok()?;
    if icf & ICF_RESERVED != 0 || rsv != 0 || gct > MAX_GCT {
        return None;
    }
    let header = Header { icf, dst: [dna, da1, da2], src: [sna, sa1, sa2], sid, command: u16::from_be_bytes([mrc, src]) };
    Some((header, data.get(HEADER_LEN..).unwrap_or_default()))
}

/// True if `data` is a FINS frame with a known command code (and, for a
/// response, room for the end code).
pub(crate) fn plausible(data: &[u8]) -> bool {
    frame(data).is_some_and(|(h, rest)| command_kind(h.command).is_some() && (!h.is_response() || rest.len() >= 2))
}

/// The end code of a response with the network relay, fatal and
/// non-fatal error flags masked: zero means normal completion.
pub(crate) fn end_code(rest: &[u8]) -> Option<u16> {
    let (&main, &sub) = (rest.first()?, rest.get(1)?);
    Some(u16::from_be_bytes([main & 0x7f, sub & 0x3f]))
}

/// The FINS/TCP envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TcpHeader {
    /// Bytes after the length field (command, error code and data).
    pub length: u32,
    /// FINS/TCP command (0 node address request, 1 node address reply,
    /// 2 FINS frame, 3 error notification, 6 connection confirmation).
    pub command: u32,
    /// Error code (0 = normal).
    pub error: u32,
}

impl TcpHeader {
    /// Total bytes of the message, envelope included.
    pub fn message_len(&self) -> usize {
        usize::try_from(self.length).unwrap_or(usize::MAX).saturating_add(8)
    }

    /// True for a length and command that a FINS/TCP peer would send.
    pub fn plausible(&self) -> bool {
        (8..=MAX_TCP_LENGTH).contains(&self.length) && matches!(self.command, 0..=3 | 6)
    }
}

/// Parses a FINS/TCP envelope at the start of `data` (magic checked).
pub(crate) fn tcp_header(data: &[u8]) -> Option<TcpHeader> {
    if data.get(..4)? != b"FINS" {
        return None;
    }
    let word = |at: usize| data.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_be_bytes);
    Some(TcpHeader { length: word(4)?, command: word(8)?, error: word(12)? })
}

/// What a command does, or `None` for a code outside the FINS command set.
pub(crate) fn command_kind(command: u16) -> Option<OperationKind> {
    use OperationKind::*;
    Some(match command {
        0x0101
        | 0x0104
        | 0x0201
        | 0x0220
        | 0x0601..=0x0603
        | 0x0701
        | 0x0920
        | 0x2102
        | 0x2140
        | 0x2201
        | 0x2209
        | 0x220f
        | 0x230a
        | 0x2603 => Read,
        0x0102 | 0x0103 | 0x0105 | 0x0202 | 0x0203 | 0x2207 | 0x2208 | 0x2301 | 0x2302 => Write,
        0x0221 | 0x0304 | 0x0305 | 0x2206 | 0x2215 | 0x2601 | 0x2602 => ConfigurationChange,
        0x0306 | 0x2202 | 0x2210 => ProgramUpload,
        0x0307 | 0x2203 | 0x2211 => ProgramDownload,
        0x0308 | 0x2204 | 0x2205 => ProgramDelete,
        0x0501 | 0x0502 => Identify,
        0x0401 => ControllerStart,
        0x0402 => ControllerStop,
        0x0403 => DeviceReset,
        0x0620 | 0x0801..=0x0803 | 0x2101 | 0x2103 | 0x2141 => Diagnostics,
        0x0702 => TimeSet,
        0x0c01 | 0x0c02 => Login,
        0x0c03 => Session,
        0x220a..=0x220c => Other,
        _ => return None,
    })
}

/// The parameters of a command, as far as they name its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Memory area read, write or fill.
    Memory { area: u8, word: u16, bit: u8, count: u16 },
    /// Memory area transfer from one area to another.
    Transfer { from: (u8, u16), to: (u8, u16), count: u16 },
    /// Multiple memory area read of `items` elements.
    Multiple { items: u16 },
    /// Parameter area read, write or clear.
    Parameter { area: u16, word: u16, count: u16 },
    /// Program area read or write.
    Program { number: u16, word: u32, count: u16 },
    /// Program area clear, protect or protect clear.
    ProgramNumber { number: u16 },
    /// RUN with an operating mode.
    Run { mode: u8 },
    /// Clock write: year, month, day, hour, minute (BCD) and maybe second.
    Clock { bcd: [u8; 6], second: bool },
    /// A file command naming its (first) file.
    File { name: [u8; 12] },
    /// Area/file transfer: 0 area to file, 1 file to area, 2 compare.
    FileTransfer { direction: u16 },
    /// Nothing worth naming.
    Plain,
}

/// A command too short for its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Short {
    /// The command code.
    pub command: u16,
    /// Parameter bytes found.
    pub found: usize,
    /// Parameter bytes needed.
    pub needed: usize,
}

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FINS command {:04x} has {} parameter bytes, {} needed", self.command, self.found, self.needed)
    }
}

fn u16_at(p: &[u8], at: usize) -> Option<u16> {
    p.get(at..at + 2).and_then(|b| <[u8; 2]>::try_from(b).ok()).map(u16::from_be_bytes)
}

fn u32_at(p: &[u8], at: usize) -> Option<u32> {
    p.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_be_bytes)
}

fn name_at(p: &[u8], at: usize) -> Option<[u8; 12]> {
    p.get(at..at + 12).and_then(|b| <[u8; 12]>::try_from(b).ok())
}

/// Parses the parameters of a command; `params` follows the command code.
pub(crate) fn request(command: u16, params: &[u8]) -> Result<Request, Short> {
    let needed = match command {
        0x0101..=0x0103 => 6,
        0x0104 => 4,
        0x0105 => 10,
        0x0201..=0x0203 => 6,
        0x0306 | 0x0307 => 8,
        0x0304 | 0x0305 | 0x0308 => 2,
        0x0702 => 5,
        0x2202 | 0x2209 => 14,
        0x2203 => 16,
        0x2205 => 16,
        0x220a..=0x220c => 2,
        _ => 0,
    };
    let short = Short { command, found: params.len(), needed };
    let parsed = match command {
        0x0101..=0x0103 => params
            .get(..6)
            .and_then(|p| Some(Request::Memory { area: *p.first()?, word: u16_at(p, 1)?, bit: *p.get(3)?, count: u16_at(p, 4)? })),
        0x0104 => (params.len() >= 4).then(|| Request::Multiple { items: u16::try_from(params.len() / 4).unwrap_or(u16::MAX) }),
        0x0105 => (|| {
            Some(Request::Transfer {
                from: (*params.first()?, u16_at(params, 1)?),
                to: (*params.get(4)?, u16_at(params, 5)?),
                count: u16_at(params, 8)?,
            })
        })(),
        0x0201..=0x0203 => {
            (|| Some(Request::Parameter { area: u16_at(params, 0)?, word: u16_at(params, 2)?, count: u16_at(params, 4)? & 0x7fff }))()
        }
        0x0306 | 0x0307 => {
            (|| Some(Request::Program { number: u16_at(params, 0)?, word: u32_at(params, 2)?, count: u16_at(params, 6)? }))()
        }
        0x0304 | 0x0305 | 0x0308 => u16_at(params, 0).map(|number| Request::ProgramNumber { number }),
        0x0401 => Some(params.get(2).map_or(Request::Plain, |&mode| Request::Run { mode })),
        0x0702 => params.get(..5).map(|p| {
            let mut bcd = [0u8; 6];
            let second = params.get(5).copied();
            for (d, s) in bcd.iter_mut().zip(p.iter().chain(second.as_ref())) {
                *d = *s;
            }
            Request::Clock { bcd, second: second.is_some() }
        }),
        0x2202 | 0x2209 => name_at(params, 2).map(|name| Request::File { name }),
        0x2203 | 0x2205 => name_at(params, 4).map(|name| Request::File { name }),
        0x220a..=0x220c => u16_at(params, 0).map(|direction| Request::FileTransfer { direction }),
        _ => Some(Request::Plain),
    };
    parsed.ok_or(short)
}

/// The operation kind of a command with its parameters (transfers between
/// program area and file memory go up or down with their direction).
pub(crate) fn kind(command: u16, request: &Request) -> OperationKind {
    match (command, request) {
        (0x220a | 0x220b, Request::FileTransfer { direction: 1 }) => OperationKind::Write,
        (0x220a | 0x220b, Request::FileTransfer { .. }) => OperationKind::Read,
        (0x220c, Request::FileTransfer { direction: 0 }) => OperationKind::ProgramUpload,
        (0x220c, Request::FileTransfer { direction: 1 }) => OperationKind::ProgramDownload,
        (0x220c, Request::FileTransfer { .. }) => OperationKind::Read,
        _ => command_kind(command).unwrap_or(OperationKind::Other),
    }
}

/// True if the request names an object (so the operation has a target).
pub(crate) fn has_target(request: &Request) -> bool {
    !matches!(request, Request::Plain | Request::FileTransfer { .. })
}

/// A file name of 12 bytes, shown up to its padding, other bytes as '?'.
struct FileName<'a>(&'a [u8; 12]);

impl fmt::Display for FileName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        let end = self.0.iter().rposition(|&b| b != 0 && b != b' ').map_or(0, |i| i + 1);
        for &b in self.0.iter().take(end) {
            f.write_char(if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '?' })?;
        }
        Ok(())
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Request::Memory { area, word, bit, count } => {
                write!(f, "area 0x{area:02x} addr {word}")?;
                if bit != 0 {
                    write!(f, ".{bit}")?;
                }
                write!(f, " count {count}")
            }
            Request::Transfer { from, to, count } => {
                write!(f, "area 0x{:02x} addr {} to area 0x{:02x} addr {} count {count}", from.0, from.1, to.0, to.1)
            }
            Request::Multiple { items } => write!(f, "items {items}"),
            Request::Parameter { area, word, count } => write!(f, "parameter area 0x{area:04x} addr {word} count {count}"),
            Request::Program { number, word, count } => write!(f, "program 0x{number:04x} addr 0x{word:08x} count {count}"),
            Request::ProgramNumber { number } => write!(f, "program 0x{number:04x}"),
            Request::Run { mode } => match mode {
                1 => f.write_str("mode debug"),
                2 => f.write_str("mode monitor"),
                4 => f.write_str("mode run"),
                m => write!(f, "mode 0x{m:02x}"),
            },
            Request::Clock { bcd: [yy, mo, dd, hh, mi, ss], second } => {
                let century = if yy >= 0x70 { 19 } else { 20 };
                write!(f, "{century}{yy:02x}-{mo:02x}-{dd:02x} {hh:02x}:{mi:02x}")?;
                if second {
                    write!(f, ":{ss:02x}")?;
                }
                Ok(())
            }
            Request::File { ref name } => write!(f, "file {}", FileName(name)),
            Request::FileTransfer { .. } | Request::Plain => Ok(()),
        }
    }
}

/// Model and version strings of a Controller Data Read response (the data
/// after the end code): two 20-byte space-padded ASCII fields.
pub(crate) fn controller_data(data: &[u8]) -> Option<(&[u8], &[u8])> {
    Some((data.get(..20)?, data.get(20..40)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(command: u16, params: &[u8]) -> Vec<u8> {
        let mut v = vec![0x80, 0, 2, 0, 1, 0, 0, 2, 0, 0x11];
        v.extend_from_slice(&command.to_be_bytes());
        v.extend_from_slice(params);
        v
    }

    #[test]
    fn header_and_rest() {
        let f = cmd(0x0101, &[0x82, 0, 100, 0, 0, 10]);
        let (h, rest) = frame(&f).expect("frame");
        assert_eq!(h, Header { icf: 0x80, dst: [0, 1, 0], src: [0, 2, 0], sid: 0x11, command: 0x0101 });
        assert!(!h.is_response());
        assert_eq!(rest, &[0x82, 0, 100, 0, 0, 10]);
        assert!(plausible(&f));
    }

    #[test]
    fn rejects_reserved_bits_rsv_gct_and_unknown_commands() {
        let mut f = cmd(0x0101, &[]);
        f[0] = 0x82;
        assert!(frame(&f).is_none());
        let mut f = cmd(0x0101, &[]);
        f[1] = 1;
        assert!(frame(&f).is_none());
        let mut f = cmd(0x0101, &[]);
        f[2] = 8;
        assert!(frame(&f).is_none());
        assert!(!plausible(&cmd(0x1234, &[])));
        assert!(!plausible(&[0x80, 0, 2]));
        // A response needs its end code.
        let mut f = cmd(0x0101, &[]);
        f[0] = 0xc0;
        assert!(!plausible(&f));
        f.extend_from_slice(&[0, 0]);
        assert!(plausible(&f));
    }

    #[test]
    fn end_codes_mask_flags() {
        assert_eq!(end_code(&[0, 0]), Some(0));
        assert_eq!(end_code(&[0x80, 0x40]), Some(0));
        assert_eq!(end_code(&[0x11, 0x01]), Some(0x1101));
        assert_eq!(end_code(&[0x11]), None);
    }

    #[test]
    fn tcp_envelope() {
        let mut m = b"FINS".to_vec();
        m.extend_from_slice(&[0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 0]);
        let h = tcp_header(&m).expect("header");
        assert_eq!(h, TcpHeader { length: 20, command: 2, error: 0 });
        assert_eq!(h.message_len(), 28);
        assert!(h.plausible());
        assert!(tcp_header(b"FINZ\0\0\0\x14\0\0\0\x02\0\0\0\0").is_none());
        assert!(!TcpHeader { length: 1 << 20, command: 2, error: 0 }.plausible());
        assert!(!TcpHeader { length: 20, command: 9, error: 0 }.plausible());
    }

    #[test]
    fn request_targets() {
        let show = |c: u16, p: &[u8]| request(c, p).map(|r| r.to_string());
        assert_eq!(show(0x0101, &[0x82, 0, 100, 0, 0, 10]).as_deref(), Ok("area 0x82 addr 100 count 10"));
        assert_eq!(show(0x0102, &[0x30, 0, 5, 3, 0, 1, 0xab]).as_deref(), Ok("area 0x30 addr 5.3 count 1"));
        assert_eq!(show(0x0105, &[0x80, 0, 1, 0, 0x81, 0, 2, 0, 0, 16]).as_deref(), Ok("area 0x80 addr 1 to area 0x81 addr 2 count 16"));
        assert_eq!(show(0x0104, &[0x80, 0, 1, 0, 0x82, 0, 2, 0]).as_deref(), Ok("items 2"));
        assert_eq!(show(0x0201, &[0x80, 0x10, 0, 0, 0x80, 0xff]).as_deref(), Ok("parameter area 0x8010 addr 0 count 255"));
        assert_eq!(show(0x0306, &[0xff, 0xff, 0, 0, 0, 0, 1, 0]).as_deref(), Ok("program 0xffff addr 0x00000000 count 256"));
        assert_eq!(show(0x0308, &[0xff, 0xff, 0]).as_deref(), Ok("program 0xffff"));
        assert_eq!(show(0x0401, &[0xff, 0xff, 2]).as_deref(), Ok("mode monitor"));
        assert_eq!(show(0x0702, &[0x09, 0x01, 0x20, 0x01, 0x02, 0x01, 0x03]).as_deref(), Ok("2009-01-20 01:02:01"));
        assert_eq!(show(0x0702, &[0x99, 0x12, 0x31, 0x23, 0x59]).as_deref(), Ok("1999-12-31 23:59"));
        assert_eq!(show(0x2202, b"\0\0filename.exe\0\0\0\0\0\x20").as_deref(), Ok("file filename.exe"));
        assert_eq!(show(0x2205, b"\0\0\0\x01prog\x01.obj\0\0\0\0").as_deref(), Ok("file prog?.obj"));
        assert_eq!(request(0x0101, &[0x82, 0]), Err(Short { command: 0x0101, found: 2, needed: 6 }));
        assert_eq!(request(0x0401, &[]), Ok(Request::Plain));
        assert!(!has_target(&Request::Plain));
    }

    #[test]
    fn kinds() {
        assert_eq!(command_kind(0x0101), Some(OperationKind::Read));
        assert_eq!(command_kind(0x0307), Some(OperationKind::ProgramDownload));
        assert_eq!(command_kind(0x0402), Some(OperationKind::ControllerStop));
        assert_eq!(command_kind(0x0c01), Some(OperationKind::Login));
        assert_eq!(command_kind(0x0702), Some(OperationKind::TimeSet));
        assert_eq!(command_kind(0x9999), None);
        assert_eq!(kind(0x220c, &Request::FileTransfer { direction: 0 }), OperationKind::ProgramUpload);
        assert_eq!(kind(0x220c, &Request::FileTransfer { direction: 1 }), OperationKind::ProgramDownload);
        assert_eq!(kind(0x220a, &Request::FileTransfer { direction: 1 }), OperationKind::Write);
        assert_eq!(kind(0x2301, &Request::Plain), OperationKind::Write);
    }

    #[test]
    fn controller_data_fields() {
        let mut d = vec![b'A'; 20];
        d.extend_from_slice(&[b'B'; 20]);
        assert_eq!(controller_data(&d), Some((&d[..20], &d[20..40])));
        assert_eq!(controller_data(&d[..30]), None);
    }
}
