//! DNP3 (IEEE 1815) parsing: data link frames with their CRC-16/DNP checks,
//! the transport header, and the application header with its first object
//! header. Pure functions over byte slices.

use palisade_decode::{le16, le32};
use std::fmt;

/// The two start octets of every link frame.
pub(crate) const START: [u8; 2] = [0x05, 0x64];
/// Link header: start (2), length, control, destination (2), source (2), CRC (2).
pub(crate) const HEADER_LEN: usize = 10;
/// Largest user data of one link frame (length octet 255 minus 5).
pub(crate) const MAX_USER_DATA: usize = 250;
/// User data bytes covered by one block CRC.
const BLOCK: usize = 16;

/// CRC-16/DNP lookup table (reflected polynomial 0x3d65).
const CRC_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xa6bc } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-16/DNP of `data` (as transmitted, low octet first).
pub(crate) fn crc(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc = (crc >> 8) ^ CRC_TABLE[usize::from((crc ^ u16::from(b)) as u8)];
    }
    !crc
}

/// True if the last two bytes of `block` are the CRC of the rest.
fn crc_ok(block: &[u8]) -> bool {
    let Some(split) = block.len().checked_sub(2) else { return false };
    let (body, sum) = block.split_at(split);
    le16(sum, 0) == Some(crc(body))
}

/// A checked link header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LinkHeader {
    /// The length octet: control, addresses and user data.
    pub(crate) len: u8,
    /// The control octet.
    pub(crate) control: u8,
    /// Destination address.
    pub(crate) dst: u16,
    /// Source address.
    pub(crate) src: u16,
}

impl LinkHeader {
    /// True for a primary (initiating) frame (PRM bit).
    pub(crate) fn primary(self) -> bool {
        self.control & 0x40 != 0
    }

    /// The link function code.
    pub(crate) fn function(self) -> u8 {
        self.control & 0x0f
    }

    /// True if the link function code is defined for the frame's PRM bit.
    pub(crate) fn function_defined(self) -> bool {
        if self.primary() {
            matches!(self.function(), 0 | 1 | 2 | 3 | 4 | 9)
        } else {
            matches!(self.function(), 0 | 1 | 11 | 14 | 15)
        }
    }

    /// Number of user data octets.
    pub(crate) fn user_len(self) -> usize {
        usize::from(self.len).saturating_sub(5)
    }

    /// Bytes the whole frame occupies on the wire.
    pub(crate) fn frame_len(self) -> usize {
        let n = self.user_len();
        HEADER_LEN + n + 2 * n.div_ceil(BLOCK)
    }
}

/// Result of looking for a link frame at the start of some bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// A header with a good CRC; `frame` is the whole frame (header and blocks).
    Whole { header: LinkHeader, frame_len: usize },
    /// More bytes are needed.
    Incomplete,
    /// No start octets here.
    NoStart,
    /// The length octet is below 5.
    BadLength,
    /// The header CRC does not match.
    BadCrc,
}

/// Reads the link header at the start of `data` and checks its CRC.
pub(crate) fn link(data: &[u8]) -> Link {
    match data.get(..2) {
        Some(s) if s == START => {}
        Some(_) => return Link::NoStart,
        None if data.first().is_some_and(|&b| b != START[0]) => return Link::NoStart,
        None => return Link::Incomplete,
    }
    let Some(head) = data.get(..HEADER_LEN) else { return Link::Incomplete };
    if !crc_ok(head) {
        return Link::BadCrc;
    }
    let (Some(&len), Some(&control), Some(dst), Some(src)) = (head.get(2), head.get(3), le16(head, 4), le16(head, 6)) else {
        return Link::Incomplete;
    };
    if len < 5 {
        return Link::BadLength;
    }
    let header = LinkHeader { len, control, dst, src };
    let frame_len = header.frame_len();
    if data.len() < frame_len {
        return Link::Incomplete;
    }
    Link::Whole { header, frame_len }
}

/// Copies the user data of a whole `frame` into `out`, checking every block
/// CRC; returns the user data length, or `None` on a CRC error.
pub(crate) fn user_data(frame: &[u8], out: &mut [u8; MAX_USER_DATA]) -> Option<usize> {
    let blocks = frame.get(HEADER_LEN..)?;
    let mut len = 0;
    for block in blocks.chunks(BLOCK + 2) {
        if !crc_ok(block) {
            return None;
        }
        let body = block.get(..block.len().checked_sub(2)?)?;
        out.get_mut(len..len + body.len())?.copy_from_slice(body);
        len += body.len();
    }
    Some(len)
}

/// The transport header octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transport(pub(crate) u8);

impl Transport {
    /// Final segment of a fragment.
    pub(crate) fn fin(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// First segment of a fragment.
    pub(crate) fn fir(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// Segment sequence number (0..=63).
    pub(crate) fn seq(self) -> u8 {
        self.0 & 0x3f
    }
}

/// Application function codes of responses.
pub(crate) const RESPONSE: u8 = 129;
/// Unsolicited response.
pub(crate) const UNSOLICITED: u8 = 130;
/// Secure authentication response.
pub(crate) const AUTH_RESPONSE: u8 = 131;

/// The application header of a fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AppHeader {
    /// Application control octet.
    pub(crate) control: u8,
    /// Function code.
    pub(crate) function: u8,
    /// Internal indications (responses only): IIN1 in the high octet.
    pub(crate) iin: Option<u16>,
}

impl AppHeader {
    /// First fragment of a message.
    pub(crate) fn fir(self) -> bool {
        self.control & 0x80 != 0
    }

    /// Application sequence number (0..=15).
    pub(crate) fn seq(self) -> u8 {
        self.control & 0x0f
    }

    /// True for responses (solicited, unsolicited, authentication).
    pub(crate) fn is_response(self) -> bool {
        self.function >= RESPONSE
    }
}

/// IIN2 bits that report a refused request: function code not supported,
/// object unknown, parameter error.
pub(crate) const IIN_REFUSED: u16 = 0x0007;

/// Splits a fragment into its application header and object bytes.
pub(crate) fn app_header(fragment: &[u8]) -> Option<(AppHeader, &[u8])> {
    let (&control, &function) = (fragment.first()?, fragment.get(1)?);
    if function >= RESPONSE {
        let iin = u16::from_be_bytes([*fragment.get(2)?, *fragment.get(3)?]);
        Some((AppHeader { control, function, iin: Some(iin) }, fragment.get(4..)?))
    } else {
        Some((AppHeader { control, function, iin: None }, fragment.get(2..)?))
    }
}

/// The range part of an object header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Range {
    /// Start and stop indexes.
    Span(u32, u32),
    /// Index-prefixed objects: the first index and how many objects.
    Indexed(u32, u32),
    /// A count of objects without indexes.
    Count(u32),
    /// Every object of the type (qualifier 0x06).
    All,
}

/// The group, variation and range of an object header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ObjectRef {
    /// Object group.
    pub(crate) group: u8,
    /// Object variation.
    pub(crate) variation: u8,
    /// Qualifier octet.
    pub(crate) qualifier: u8,
    /// Range.
    pub(crate) range: Range,
}

/// Reads an unsigned little-endian number of `size` (1, 2 or 4) octets.
fn uint(b: &[u8], at: usize, size: usize) -> Option<u32> {
    match size {
        1 => b.get(at).map(|&v| u32::from(v)),
        2 => le16(b, at).map(u32::from),
        4 => le32(b, at),
        _ => None,
    }
}

/// Size of an index or object-size prefix for a qualifier's prefix code.
fn prefix_size(qualifier: u8) -> usize {
    match (qualifier >> 4) & 0x07 {
        1 | 4 => 1,
        2 | 5 => 2,
        3 | 6 => 4,
        _ => 0,
    }
}

/// Reads the first object header of `objects`; also returns the bytes that
/// follow its range field (the first object's prefix and data).
pub(crate) fn first_object(objects: &[u8]) -> Option<(ObjectRef, &[u8])> {
    let (&group, &variation, &qualifier) = (objects.first()?, objects.get(1)?, objects.get(2)?);
    let (range, used) = match qualifier & 0x0f {
        code @ 0..=2 => {
            let size = 1 << code;
            (Range::Span(uint(objects, 3, size)?, uint(objects, 3 + size, size)?), 2 * size)
        }
        6 => (Range::All, 0),
        code @ (7..=9 | 0x0b) => {
            let size = if code == 0x0b { 1 } else { 1 << (code - 7) };
            let count = uint(objects, 3, size)?;
            let prefixed = matches!((qualifier >> 4) & 0x07, 1..=3);
            let range = match prefixed {
                true => Range::Indexed(uint(objects, 3 + size, prefix_size(qualifier))?, count),
                false => Range::Count(count),
            };
            (range, size)
        }
        _ => return None,
    };
    Some((ObjectRef { group, variation, qualifier, range }, objects.get(3 + used..)?))
}

/// Operational mode of a file-open request (group 70 variation 3), if the
/// first object is one: 1 read, 2 write, 3 append.
pub(crate) fn file_open_mode(object: ObjectRef, after_range: &[u8]) -> Option<u16> {
    if object.group != 70 || object.variation != 3 {
        return None;
    }
    // Prefix (object size), then: name offset 2, name size 2, time 6,
    // permissions 2, authentication key 4, file size 4, mode 2.
    le16(after_range, prefix_size(object.qualifier) + 20)
}

/// A short name of an object group (and variation where it matters).
fn object_name(group: u8, variation: u8) -> Option<&'static str> {
    Some(match (group, variation) {
        (1, _) => "binary input",
        (2, _) => "binary input event",
        (3, _) => "double-bit input",
        (4, _) => "double-bit input event",
        (10, _) => "binary output",
        (11, _) => "binary output event",
        (12, 1) => "CROB",
        (12, 2) => "PCB",
        (12, 3) => "pattern mask",
        (13, _) => "binary command event",
        (20, _) => "counter",
        (21, _) => "frozen counter",
        (22, _) => "counter event",
        (23, _) => "frozen counter event",
        (30, _) => "analog input",
        (32, _) => "analog input event",
        (34, _) => "analog deadband",
        (40, _) => "analog output status",
        (41, _) => "analog output",
        (42, _) => "analog output event",
        (50, _) => "time",
        (51, _) => "CTO",
        (52, _) => "time delay",
        (60, 1) => "class 0",
        (60, 2) => "class 1",
        (60, 3) => "class 2",
        (60, 4) => "class 3",
        (70, _) => "file",
        (80, _) => "IIN",
        (110, _) => "octet string",
        (120, _) => "authentication",
        _ => return None,
    })
}

impl fmt::Display for ObjectRef {
    /// E.g. `g12v1 CROB index 3`, `g1v2 binary input index 0-9`, `g60v2 class 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "g{}v{}", self.group, self.variation)?;
        if let Some(name) = object_name(self.group, self.variation) {
            write!(f, " {name}")?;
        }
        match self.range {
            Range::Span(a, b) if a == b => write!(f, " index {a}"),
            Range::Span(a, b) => write!(f, " index {a}-{b}"),
            Range::Indexed(i, n) if n > 1 => write!(f, " index {i} and {} more", n - 1),
            Range::Indexed(i, _) => write!(f, " index {i}"),
            Range::Count(_) | Range::All => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a link frame around `user` with correct CRCs.
    pub(crate) fn frame(control: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
        let mut f = vec![0x05, 0x64, (user.len() + 5) as u8, control];
        f.extend_from_slice(&dst.to_le_bytes());
        f.extend_from_slice(&src.to_le_bytes());
        f.extend_from_slice(&crc(&f).to_le_bytes());
        for block in user.chunks(16) {
            f.extend_from_slice(block);
            f.extend_from_slice(&crc(block).to_le_bytes());
        }
        f
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc(b"123456789"), 0xea82);
    }

    #[test]
    fn link_frame_and_blocks() {
        let user: Vec<u8> = (0..20).collect();
        let f = frame(0xc4, 10, 1, &user);
        assert_eq!(f.len(), 10 + 20 + 4);
        let Link::Whole { header, frame_len } = link(&f) else { panic!("whole") };
        assert_eq!(frame_len, f.len());
        assert_eq!((header.dst, header.src, header.function()), (10, 1, 4));
        assert!(header.primary() && header.function_defined());
        let mut out = [0; MAX_USER_DATA];
        assert_eq!(user_data(&f, &mut out), Some(20));
        assert_eq!(&out[..20], &user[..]);
        let mut bad = f.clone();
        bad[12] ^= 1;
        assert_eq!(user_data(&bad, &mut out), None);
        bad[4] ^= 1;
        assert_eq!(link(&bad), Link::BadCrc);
        assert_eq!(link(&f[..12]), Link::Incomplete);
        assert_eq!(link(&[0x05]), Link::Incomplete);
        assert_eq!(link(&[0x06]), Link::NoStart);
    }

    #[test]
    fn object_headers() {
        // Direct operate: g12v1, qualifier 0x17, count 1, index 3, then the CROB.
        let (obj, rest) = first_object(&[12, 1, 0x17, 1, 3, 0x41, 1]).expect("object");
        assert_eq!(obj.range, Range::Indexed(3, 1));
        assert_eq!(obj.to_string(), "g12v1 CROB index 3");
        assert_eq!(rest, &[3, 0x41, 1]);
        let (obj, _) = first_object(&[60, 2, 0x06]).expect("class");
        assert_eq!(obj.to_string(), "g60v2 class 1");
        let (obj, _) = first_object(&[1, 2, 0x01, 0, 0, 9, 0]).expect("range");
        assert_eq!(obj.to_string(), "g1v2 binary input index 0-9");
        let (obj, _) = first_object(&[41, 2, 0x28, 2, 0, 7, 0]).expect("indexed");
        assert_eq!(obj.to_string(), "g41v2 analog output index 7 and 1 more");
        assert_eq!(first_object(&[1, 2, 0x0c]), None);
        assert_eq!(first_object(&[1, 2, 0x01, 0]), None);
    }

    #[test]
    fn file_open_modes() {
        let mut objects = vec![70, 3, 0x5b, 1, 30, 0];
        objects.extend_from_slice(&[26, 0, 4, 0]); // name offset, size
        objects.extend_from_slice(&[0; 6 + 2 + 4 + 4]);
        objects.extend_from_slice(&2u16.to_le_bytes());
        let (obj, rest) = first_object(&objects).expect("object");
        assert_eq!(file_open_mode(obj, rest), Some(2));
    }

    #[test]
    fn application_headers() {
        let (h, objects) = app_header(&[0xc3, 129, 0x80, 0x02, 1]).expect("response");
        assert!(h.is_response() && h.fir());
        assert_eq!((h.seq(), h.iin), (3, Some(0x8002)));
        assert_eq!(objects, &[1]);
        let (h, _) = app_header(&[0xc5, 1, 60, 2, 6]).expect("request");
        assert_eq!((h.function, h.iin), (1, None));
        assert_eq!(app_header(&[0xc0, 129, 0]), None);
    }
}
