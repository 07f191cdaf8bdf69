//! Pure BACnet/IP parsing: the BVLC header (ANSI/ASHRAE 135 Annex J), the
//! NPDU (clause 6) and the APDU (clause 20), plus a reader for the tagged
//! encoding of service parameters (clause 20.2) and the few services whose
//! parameters Palisade reads. Everything borrows from the datagram.

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

/// BVLC type of BACnet/IP (IPv4).
pub const BVLC_IPV4: u8 = 0x81;
/// BVLC type of BACnet/IPv6 (Annex U), recognised but not decoded.
pub const BVLC_IPV6: u8 = 0x82;
/// Forwarded-NPDU: a BBMD passes on a broadcast with its original source.
pub const BVLC_FORWARDED: u8 = 0x04;
/// The highest BVLC function defined for BACnet/IP (Secure-BVLL).
const BVLC_LAST: u8 = 0x0c;
/// Object type of the Device object.
pub const OBJECT_DEVICE: u16 = 8;

/// Something wrong with a BACnet message, reported as a violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Fewer bytes than a header or field needs.
    Truncated(&'static str),
    /// The BVLC type is not BACnet/IP.
    BvlcType(u8),
    /// A BVLC function that Annex J does not define.
    BvlcFunction(u8),
    /// The BVLC length disagrees with the datagram.
    BvlcLength { declared: u16, actual: usize },
    /// A fixed-size BVLC message of the wrong size.
    BvlcSize { function: u8, length: u16 },
    /// The NPDU protocol version is not 1.
    NpduVersion(u8),
    /// Reserved NPDU control bits are set.
    NpduReserved(u8),
    /// A source address of length zero.
    SourceLength,
    /// A network layer message type in the reserved range.
    NetworkMessage(u8),
    /// An NPDU that should carry an APDU carries nothing.
    EmptyApdu,
    /// An APDU type from the reserved range.
    ApduType(u8),
    /// Service parameters that do not follow the tagged encoding.
    Encoding(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::Truncated(what) => write!(f, "truncated {what}"),
            Problem::BvlcType(t) => write!(f, "BVLC type 0x{t:02x} is not BACnet/IP"),
            Problem::BvlcFunction(x) => write!(f, "undefined BVLC function 0x{x:02x}"),
            Problem::BvlcLength { declared, actual } => write!(f, "BVLC length {declared} but datagram has {actual} bytes"),
            Problem::BvlcSize { function, length } => write!(f, "BVLC function 0x{function:02x} with length {length}"),
            Problem::NpduVersion(v) => write!(f, "NPDU version {v} instead of 1"),
            Problem::NpduReserved(c) => write!(f, "reserved NPDU control bits set (0x{c:02x})"),
            Problem::SourceLength => f.write_str("NPDU source address of length 0"),
            Problem::NetworkMessage(t) => write!(f, "reserved network layer message type 0x{t:02x}"),
            Problem::EmptyApdu => f.write_str("NPDU without APDU"),
            Problem::ApduType(t) => write!(f, "reserved APDU type {t}"),
            Problem::Encoding(what) => write!(f, "malformed {what}"),
        }
    }
}

/// A BVLC header and what follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bvlc<'a> {
    /// The BVLC function.
    pub function: u8,
    /// The original source of a Forwarded-NPDU.
    pub origin: Option<(Ipv4Addr, u16)>,
    /// The NPDU, for functions that carry one.
    pub npdu: Option<&'a [u8]>,
}

/// Fixed BVLC length of functions without an NPDU (`None`: variable).
fn fixed_length(function: u8) -> Option<u16> {
    match function {
        0x00 | 0x05 => Some(6),
        0x02 | 0x06 => Some(4),
        0x08 => Some(10),
        _ => None,
    }
}

/// True for functions that carry an NPDU after the header.
fn carries_npdu(function: u8) -> bool {
    matches!(function, 0x04 | 0x09 | 0x0a | 0x0b)
}

/// Parses the BVLC of a datagram. A length mismatch is returned beside the
/// header (the message is still read within the smaller of both lengths).
pub fn bvlc(data: &[u8]) -> Result<(Bvlc<'_>, Option<Problem>), Problem> {
    let head = data.get(..4).ok_or(Problem::Truncated("BVLC header"))?;
    let (kind, function, length) = (head[0], head[1], u16::from_be_bytes([head[2], head[3]]));
    if kind != BVLC_IPV4 {
        return Err(Problem::BvlcType(kind));
    }
    if function > BVLC_LAST {
        return Err(Problem::BvlcFunction(function));
    }
    let mismatch = (usize::from(length) != data.len()).then_some(Problem::BvlcLength { declared: length, actual: data.len() });
    if length < 4 {
        return Err(Problem::BvlcLength { declared: length, actual: data.len() });
    }
    let body = data.get(4..usize::from(length).min(data.len())).unwrap_or_default();
    if fixed_length(function).is_some_and(|l| l != length) {
        return Err(Problem::BvlcSize { function, length });
    }
    let (origin, npdu) = if function == BVLC_FORWARDED {
        let a = body.get(..6).ok_or(Problem::Truncated("Forwarded-NPDU source address"))?;
        (Some((Ipv4Addr::new(a[0], a[1], a[2], a[3]), u16::from_be_bytes([a[4], a[5]]))), body.get(6..))
    } else if carries_npdu(function) {
        (None, Some(body))
    } else {
        (None, None)
    };
    Ok((Bvlc { function, origin, npdu }, mismatch))
}

/// Recognises BACnet/IP from a datagram: BVLC type 0x81, a defined function,
/// a length equal to the datagram's and, where an NPDU follows, version 1
/// with the reserved control bits clear.
pub fn looks_like_bvlc(data: &[u8]) -> bool {
    match bvlc(data) {
        Ok((b, None)) => match b.npdu {
            Some(n) => matches!(n, [1, control, ..] if control & 0x50 == 0),
            None => true,
        },
        _ => false,
    }
}

/// An NPDU's header fields and its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Npdu<'a> {
    /// Control octet.
    pub control: u8,
    /// Destination network, when present.
    pub dnet: Option<u16>,
    /// Source network, when present (the message was routed to this link).
    pub snet: Option<u16>,
    /// Hop count, present with a destination.
    pub hop_count: Option<u8>,
    /// Network layer message type, for network layer messages.
    pub message: Option<u8>,
    /// The APDU, or the network message's parameters.
    pub payload: &'a [u8],
}

/// Reads one byte at `*pos` and advances.
fn byte(data: &[u8], pos: &mut usize, what: &'static str) -> Result<u8, Problem> {
    let b = *data.get(*pos).ok_or(Problem::Truncated(what))?;
    *pos += 1;
    Ok(b)
}

/// Reads a big-endian u16 at `*pos` and advances.
fn word(data: &[u8], pos: &mut usize, what: &'static str) -> Result<u16, Problem> {
    let hi = byte(data, pos, what)?;
    let lo = byte(data, pos, what)?;
    Ok(u16::from_be_bytes([hi, lo]))
}

/// Parses an NPDU.
pub fn npdu(data: &[u8]) -> Result<Npdu<'_>, Problem> {
    let mut pos = 0;
    let version = byte(data, &mut pos, "NPDU")?;
    if version != 1 {
        return Err(Problem::NpduVersion(version));
    }
    let control = byte(data, &mut pos, "NPDU")?;
    if control & 0x50 != 0 {
        return Err(Problem::NpduReserved(control));
    }
    let mut dnet = None;
    if control & 0x20 != 0 {
        dnet = Some(word(data, &mut pos, "NPDU destination")?);
        let dlen = byte(data, &mut pos, "NPDU destination")?;
        pos = pos.checked_add(usize::from(dlen)).filter(|&p| p <= data.len()).ok_or(Problem::Truncated("NPDU destination"))?;
    }
    let mut snet = None;
    if control & 0x08 != 0 {
        snet = Some(word(data, &mut pos, "NPDU source")?);
        let slen = byte(data, &mut pos, "NPDU source")?;
        if slen == 0 {
            return Err(Problem::SourceLength);
        }
        pos = pos.checked_add(usize::from(slen)).filter(|&p| p <= data.len()).ok_or(Problem::Truncated("NPDU source"))?;
    }
    let hop_count = if dnet.is_some() { Some(byte(data, &mut pos, "NPDU hop count")?) } else { None };
    let mut message = None;
    if control & 0x80 != 0 {
        let t = byte(data, &mut pos, "network layer message")?;
        if (0x14..0x80).contains(&t) {
            return Err(Problem::NetworkMessage(t));
        }
        if t >= 0x80 {
            word(data, &mut pos, "network layer message vendor")?;
        }
        message = Some(t);
    }
    let payload = data.get(pos..).unwrap_or_default();
    if message.is_none() && payload.is_empty() {
        return Err(Problem::EmptyApdu);
    }
    Ok(Npdu { control, dnet, snet, hop_count, message, payload })
}

/// The APDU types (clause 20.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apdu<'a> {
    /// BACnet-Confirmed-Request-PDU.
    Confirmed {
        /// Invoke id.
        invoke: u8,
        /// Service choice.
        service: u8,
        /// Sequence number of a segment (0 when unsegmented).
        sequence: u8,
        /// More segments follow.
        more: bool,
        /// Service parameters (of this segment).
        data: &'a [u8],
    },
    /// BACnet-Unconfirmed-Request-PDU.
    Unconfirmed {
        /// Service choice.
        service: u8,
        /// Service parameters.
        data: &'a [u8],
    },
    /// BACnet-SimpleACK-PDU.
    SimpleAck {
        /// Invoke id.
        invoke: u8,
        /// Service choice.
        service: u8,
    },
    /// BACnet-ComplexACK-PDU.
    ComplexAck {
        /// Invoke id.
        invoke: u8,
        /// Service choice.
        service: u8,
        /// Sequence number of a segment (0 when unsegmented).
        sequence: u8,
        /// More segments follow.
        more: bool,
        /// Service results (of this segment).
        data: &'a [u8],
    },
    /// BACnet-SegmentACK-PDU.
    SegmentAck {
        /// Invoke id.
        invoke: u8,
    },
    /// BACnet-Error-PDU.
    Error {
        /// Invoke id.
        invoke: u8,
        /// Service choice.
        service: u8,
        /// Error class and code, when they could be read.
        error: Option<(u32, u32)>,
    },
    /// BACnet-Reject-PDU.
    Reject {
        /// Invoke id.
        invoke: u8,
        /// Reject reason.
        reason: u8,
    },
    /// BACnet-Abort-PDU.
    Abort {
        /// Invoke id.
        invoke: u8,
        /// Abort reason.
        reason: u8,
    },
}

/// Parses an APDU header.
pub fn apdu(data: &[u8]) -> Result<Apdu<'_>, Problem> {
    let mut pos = 0;
    let first = byte(data, &mut pos, "APDU")?;
    let segmented = first & 0x08 != 0;
    let more = first & 0x04 != 0;
    let rest = |pos: usize| data.get(pos..).unwrap_or_default();
    Ok(match first >> 4 {
        0 => {
            byte(data, &mut pos, "confirmed request")?;
            let invoke = byte(data, &mut pos, "confirmed request")?;
            let sequence = if segmented {
                let s = byte(data, &mut pos, "confirmed request segment")?;
                byte(data, &mut pos, "confirmed request segment")?;
                s
            } else {
                0
            };
            let service = byte(data, &mut pos, "confirmed request")?;
            Apdu::Confirmed { invoke, service, sequence, more: segmented && more, data: rest(pos) }
        }
        1 => {
            let service = byte(data, &mut pos, "unconfirmed request")?;
            Apdu::Unconfirmed { service, data: rest(pos) }
        }
        2 => {
            let invoke = byte(data, &mut pos, "simple ACK")?;
            Apdu::SimpleAck { invoke, service: byte(data, &mut pos, "simple ACK")? }
        }
        3 => {
            let invoke = byte(data, &mut pos, "complex ACK")?;
            let sequence = if segmented {
                let s = byte(data, &mut pos, "complex ACK segment")?;
                byte(data, &mut pos, "complex ACK segment")?;
                s
            } else {
                0
            };
            let service = byte(data, &mut pos, "complex ACK")?;
            Apdu::ComplexAck { invoke, service, sequence, more: segmented && more, data: rest(pos) }
        }
        4 => {
            let invoke = byte(data, &mut pos, "segment ACK")?;
            data.get(pos..pos + 2).ok_or(Problem::Truncated("segment ACK"))?;
            Apdu::SegmentAck { invoke }
        }
        5 => {
            let invoke = byte(data, &mut pos, "error")?;
            let service = byte(data, &mut pos, "error")?;
            Apdu::Error { invoke, service, error: error_pair(rest(pos)) }
        }
        6 => {
            let invoke = byte(data, &mut pos, "reject")?;
            Apdu::Reject { invoke, reason: byte(data, &mut pos, "reject")? }
        }
        7 => {
            let invoke = byte(data, &mut pos, "abort")?;
            Apdu::Abort { invoke, reason: byte(data, &mut pos, "abort")? }
        }
        t => return Err(Problem::ApduType(t)),
    })
}

/// The first two enumerated values of an error: class and code (plain
/// errors and errors nested in a service's error type alike).
fn error_pair(data: &[u8]) -> Option<(u32, u32)> {
    let mut found = Reader::new(data).filter_map(Result::ok).filter_map(|e| match e.value() {
        Some(Value::Enumerated(v)) => Some(v),
        _ => None,
    });
    Some((found.next()?, found.next()?))
}

/// A BACnet object identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectId {
    /// Object type.
    pub kind: u16,
    /// Instance number.
    pub instance: u32,
}

impl ObjectId {
    /// Decodes the 4-byte encoding (10 bits type, 22 bits instance).
    fn decode(bytes: &[u8]) -> Option<ObjectId> {
        let v = u32::from_be_bytes(bytes.try_into().ok()?);
        Some(ObjectId { kind: u16::try_from(v >> 22).ok()?, instance: v & 0x3F_FFFF })
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match super::names::object_type(self.kind) {
            Some(name) => write!(f, "{name},{}", self.instance),
            None => write!(f, "object-type-{},{}", self.kind, self.instance),
        }
    }
}

/// One tagged element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element<'a> {
    /// Tag number.
    pub number: u8,
    /// Context-specific (true) or application tag.
    pub context: bool,
    /// What the element is.
    pub body: Body<'a>,
}

/// The content of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// An opening tag.
    Open,
    /// A closing tag.
    Close,
    /// A primitive value; `lvt` holds the value of an application boolean.
    Data {
        /// Content octets.
        bytes: &'a [u8],
        /// The length/value/type field.
        lvt: u8,
    },
}

/// A decoded application-tagged value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// Null.
    Null,
    /// Boolean.
    Boolean(bool),
    /// Unsigned integer (up to 32 bits).
    Unsigned(u32),
    /// Signed integer (up to 32 bits).
    Signed(i32),
    /// Single-precision real.
    Real(f32),
    /// Character string.
    Text(Text<'a>),
    /// Enumerated.
    Enumerated(u32),
    /// Object identifier.
    Object(ObjectId),
    /// Any other type (tag number).
    Other(u8),
}

/// A character string with its character set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text<'a> {
    /// Character set (0 UTF-8, 4 UCS-2, 5 ISO 8859-1...).
    pub charset: u8,
    /// Encoded characters.
    pub bytes: &'a [u8],
}

impl<'a> Text<'a> {
    /// The string, decoded from UTF-8, UCS-2 or ISO 8859-1 (other
    /// character sets are returned only when they are plain ASCII).
    pub fn decode(&self) -> Option<Cow<'a, str>> {
        match self.charset {
            0 => std::str::from_utf8(self.bytes).ok().map(Cow::Borrowed),
            4 => {
                let units = self.bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                char::decode_utf16(units).collect::<Result<String, _>>().ok().map(Cow::Owned)
            }
            3 => self
                .bytes
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect::<Option<String>>()
                .map(Cow::Owned),
            5 => Some(match std::str::from_utf8(self.bytes) {
                Ok(s) if s.is_ascii() => Cow::Borrowed(s),
                _ => Cow::Owned(self.bytes.iter().map(|&b| char::from(b)).collect()),
            }),
            _ => std::str::from_utf8(self.bytes).ok().filter(|s| s.is_ascii()).map(Cow::Borrowed),
        }
    }
}

/// Big-endian unsigned of 1 to 4 octets.
fn unsigned(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some(bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// Big-endian two's complement of 1 to 4 octets.
fn signed(bytes: &[u8]) -> Option<i32> {
    let v = unsigned(bytes)?;
    let shift = 32 - 8 * u32::try_from(bytes.len()).ok()?;
    Some(((v << shift) as i32) >> shift)
}

impl<'a> Element<'a> {
    /// The content octets of a primitive element.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self.body {
            Body::Data { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    /// The element's content as an unsigned (context tags included).
    pub fn unsigned(&self) -> Option<u32> {
        unsigned(self.bytes()?)
    }

    /// The element's content as an object identifier.
    pub fn object(&self) -> Option<ObjectId> {
        ObjectId::decode(self.bytes()?)
    }

    /// True for an opening tag with this context number.
    fn opens(&self, number: u8) -> bool {
        self.context && self.number == number && self.body == Body::Open
    }

    /// True for a closing tag with this context number.
    fn closes(&self, number: u8) -> bool {
        self.context && self.number == number && self.body == Body::Close
    }

    /// True for a primitive context element with this number.
    fn is_context(&self, number: u8) -> bool {
        self.context && self.number == number && matches!(self.body, Body::Data { .. })
    }

    /// Decodes an application-tagged primitive value.
    pub fn value(&self) -> Option<Value<'a>> {
        let Body::Data { bytes, lvt } = self.body else { return None };
        if self.context {
            return None;
        }
        Some(match self.number {
            0 => Value::Null,
            1 => Value::Boolean(lvt != 0),
            2 => Value::Unsigned(unsigned(bytes)?),
            3 => Value::Signed(signed(bytes)?),
            4 => Value::Real(f32::from_be_bytes(bytes.try_into().ok()?)),
            7 => {
                let (&charset, rest) = bytes.split_first()?;
                Value::Text(Text { charset, bytes: rest })
            }
            9 => Value::Enumerated(unsigned(bytes)?),
            12 => Value::Object(ObjectId::decode(bytes)?),
            n => Value::Other(n),
        })
    }
}

/// Iterates over the tagged elements of service parameters; stops after the
/// first error.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0, failed: false }
    }

    fn element(&mut self) -> Result<Element<'a>, Problem> {
        const WHAT: &str = "tag";
        let d = self.data;
        let first = byte(d, &mut self.pos, WHAT)?;
        let mut number = first >> 4;
        if number == 0x0F {
            number = byte(d, &mut self.pos, WHAT)?;
        }
        let context = first & 0x08 != 0;
        let lvt = first & 0x07;
        if context && lvt == 6 {
            return Ok(Element { number, context, body: Body::Open });
        }
        if context && lvt == 7 {
            return Ok(Element { number, context, body: Body::Close });
        }
        let length = if !context && number == 1 {
            0
        } else if lvt == 5 {
            match byte(d, &mut self.pos, WHAT)? {
                254 => usize::from(word(d, &mut self.pos, WHAT)?),
                255 => {
                    let hi = word(d, &mut self.pos, WHAT)?;
                    let lo = word(d, &mut self.pos, WHAT)?;
                    usize::try_from((u32::from(hi) << 16) | u32::from(lo)).map_err(|_| Problem::Truncated(WHAT))?
                }
                n => usize::from(n),
            }
        } else {
            usize::from(lvt)
        };
        let end = self.pos.checked_add(length).ok_or(Problem::Truncated("tagged value"))?;
        let bytes = d.get(self.pos..end).ok_or(Problem::Truncated("tagged value"))?;
        self.pos = end;
        Ok(Element { number, context, body: Body::Data { bytes, lvt } })
    }

    /// The next element, which must exist.
    fn expect(&mut self, what: &'static str) -> Result<Element<'a>, Problem> {
        self.next().unwrap_or(Err(Problem::Truncated(what)))
    }

    /// The next element if it is a primitive context element `number`.
    fn optional(&mut self, number: u8) -> Option<Element<'a>> {
        let mut probe = Reader { data: self.data, pos: self.pos, failed: false };
        match probe.next() {
            Some(Ok(e)) if e.is_context(number) => {
                self.pos = probe.pos;
                Some(e)
            }
            _ => None,
        }
    }

    /// Skips elements up to and including the closing tag `number` that
    /// matches an opening tag just read; returns the first application
    /// value found at the outermost level.
    fn skip_to_close(&mut self, number: u8) -> Result<Option<Value<'a>>, Problem> {
        let mut depth = 0usize;
        let mut first = None;
        loop {
            let e = self.expect("constructed value")?;
            match e.body {
                Body::Open => depth += 1,
                Body::Close if depth == 0 => {
                    return if e.closes(number) { Ok(first) } else { Err(Problem::Encoding("closing tag")) };
                }
                Body::Close => depth -= 1,
                Body::Data { .. } => {
                    if depth == 0 && first.is_none() {
                        first = e.value();
                    }
                }
            }
        }
    }

    /// True when every byte was read.
    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Element<'a>, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let e = self.element();
        self.failed = e.is_err();
        Some(e)
    }
}

/// I-Am parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IAm {
    /// The device object.
    pub device: ObjectId,
    /// Maximum APDU length accepted.
    pub max_apdu: u32,
    /// Segmentation supported (0 both, 1 transmit, 2 receive, 3 none).
    pub segmentation: u32,
    /// Vendor identifier.
    pub vendor: u32,
}

/// Parses I-Am parameters.
pub fn i_am(data: &[u8]) -> Result<IAm, Problem> {
    const BAD: Problem = Problem::Encoding("I-Am");
    let mut r = Reader::new(data);
    let mut next = || r.expect("I-Am").map(|e| e.value());
    let Some(Value::Object(device)) = next()? else { return Err(BAD) };
    let Some(Value::Unsigned(max_apdu)) = next()? else { return Err(BAD) };
    let Some(Value::Enumerated(segmentation)) = next()? else { return Err(BAD) };
    let Some(Value::Unsigned(vendor)) = next()? else { return Err(BAD) };
    Ok(IAm { device, max_apdu, segmentation, vendor })
}

/// I-Have parameters: the device, the object and the object's name.
pub fn i_have(data: &[u8]) -> Result<(ObjectId, ObjectId, Text<'_>), Problem> {
    const BAD: Problem = Problem::Encoding("I-Have");
    let mut r = Reader::new(data);
    let mut next = || r.expect("I-Have").map(|e| e.value());
    let Some(Value::Object(device)) = next()? else { return Err(BAD) };
    let Some(Value::Object(object)) = next()? else { return Err(BAD) };
    let Some(Value::Text(name)) = next()? else { return Err(BAD) };
    Ok((device, object, name))
}

/// What a confirmed request is about, for its operation's target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The (first) object addressed.
    pub object: Option<ObjectId>,
    /// The (first) property addressed.
    pub property: Option<u32>,
    /// Further object/property references in the same request.
    pub more: u16,
    /// Service-specific detail.
    pub detail: Detail,
}

/// Service-specific parameters worth reporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// Nothing more.
    #[default]
    None,
    /// DeviceCommunicationControl: enable-disable and duration (minutes).
    Communication {
        /// 0 enable, 1 disable, 2 disable-initiation.
        state: u32,
        /// Time duration in minutes.
        minutes: Option<u32>,
    },
    /// ReinitializeDevice: the requested state.
    Reinitialize(u32),
    /// Private transfer: vendor id and service number.
    Private {
        /// Vendor id.
        vendor: u32,
        /// Vendor's service number.
        service: u32,
    },
    /// CreateObject by object type only.
    ObjectType(u32),
    /// Who-Is: the range of device instances asked for.
    Range {
        /// Lowest instance.
        low: u32,
        /// Highest instance.
        high: u32,
    },
}

/// Who-Is parameters: an optional device instance range.
pub fn who_is(data: &[u8]) -> Request {
    let mut r = Reader::new(data);
    match (r.optional(0).and_then(|e| e.unsigned()), r.optional(1).and_then(|e| e.unsigned())) {
        (Some(low), Some(high)) => Request { detail: Detail::Range { low, high }, ..Request::default() },
        _ => Request::default(),
    }
}

/// Confirmed service choices (clause 21).
pub mod confirmed {
    /// ReadProperty.
    pub const READ_PROPERTY: u8 = 12;
    /// ReadPropertyMultiple.
    pub const READ_PROPERTY_MULTIPLE: u8 = 14;
    /// DeviceCommunicationControl.
    pub const DEVICE_COMMUNICATION_CONTROL: u8 = 17;
    /// ReinitializeDevice.
    pub const REINITIALIZE_DEVICE: u8 = 20;
    /// The highest service choice defined.
    pub const LAST: u8 = 33;
}

/// Unconfirmed service choices (clause 21).
pub mod unconfirmed {
    /// I-Am.
    pub const I_AM: u8 = 0;
    /// I-Have.
    pub const I_HAVE: u8 = 1;
    /// The highest service choice defined.
    pub const LAST: u8 = 14;
}

/// Reads `[obj] [prop] ...` references where the object and property are
/// context tags `obj` and `prop`.
fn object_property(r: &mut Reader<'_>, obj: u8, prop: u8) -> Result<Request, Problem> {
    let object = context_object(r, obj)?;
    let property = r.optional(prop).and_then(|e| e.unsigned());
    Ok(Request { object: Some(object), property, ..Request::default() })
}

/// Reads a context-tagged object identifier.
fn context_object(r: &mut Reader<'_>, number: u8) -> Result<ObjectId, Problem> {
    let o = r.expect("object identifier")?;
    o.is_context(number).then(|| o.object()).flatten().ok_or(Problem::Encoding("object identifier"))
}

/// Reads an application-tagged object identifier first (file services,
/// DeleteObject).
fn application_object(r: &mut Reader<'_>) -> Result<Request, Problem> {
    match r.expect("object identifier")?.value() {
        Some(Value::Object(o)) => Ok(Request { object: Some(o), ..Request::default() }),
        _ => Err(Problem::Encoding("object identifier")),
    }
}

/// Reads a list of `[0] object [1] { property references }` entries (the
/// read-access / write-access specifications); `values` tells whether each
/// property is followed by a `[2]` value (WritePropertyMultiple).
fn access_specs(r: &mut Reader<'_>, values: bool) -> Result<Request, Problem> {
    let mut req = Request::default();
    let mut count = 0u32;
    while !r.at_end() {
        let object = context_object(r, 0)?;
        if !r.expect("property list")?.opens(1) {
            return Err(Problem::Encoding("property list"));
        }
        loop {
            let e = r.expect("property reference")?;
            if e.closes(1) {
                break;
            }
            if !e.is_context(0) {
                return Err(Problem::Encoding("property reference"));
            }
            r.optional(1);
            if values {
                if !r.expect("property value")?.opens(2) {
                    return Err(Problem::Encoding("property value"));
                }
                r.skip_to_close(2)?;
                r.optional(3);
            }
            if count == 0 {
                req.object = Some(object);
                req.property = e.unsigned();
            }
            count = count.saturating_add(1);
        }
    }
    if count == 0 {
        return Err(Problem::Encoding("empty access specification"));
    }
    req.more = u16::try_from(count - 1).unwrap_or(u16::MAX);
    Ok(req)
}

/// Parses the parameters of a confirmed request (or of its first segment,
/// when `complete` is false, where running out of bytes is no error).
pub fn request(service: u8, data: &[u8], complete: bool) -> Result<Request, Problem> {
    let mut r = Reader::new(data);
    let parsed = match service {
        // ReadProperty, WriteProperty, ReadRange.
        12 | 15 | 26 => object_property(&mut r, 0, 1),
        // SubscribeCOV, SubscribeCOVProperty: [0] process id, [1] object.
        5 | 28 => r.optional(0).ok_or(Problem::Encoding("subscriber process")).and_then(|_| {
            let object = Some(context_object(&mut r, 1)?);
            let property = if service == 28 {
                r.optional(2);
                r.optional(3);
                r.skip_open(4)?
            } else {
                None
            };
            Ok(Request { object, property, ..Request::default() })
        }),
        // AtomicReadFile, AtomicWriteFile, DeleteObject.
        6 | 7 | 11 => application_object(&mut r),
        14 => access_specs(&mut r, false),
        16 => access_specs(&mut r, true),
        10 => create_object(&mut r),
        confirmed::DEVICE_COMMUNICATION_CONTROL => {
            let minutes = r.optional(0).and_then(|e| e.unsigned());
            let state = r.optional(1).and_then(|e| e.unsigned()).ok_or(Problem::Encoding("DeviceCommunicationControl"));
            state.map(|state| Request { detail: Detail::Communication { state, minutes }, ..Request::default() })
        }
        confirmed::REINITIALIZE_DEVICE => r
            .optional(0)
            .and_then(|e| e.unsigned())
            .map(|s| Request { detail: Detail::Reinitialize(s), ..Request::default() })
            .ok_or(Problem::Encoding("ReinitializeDevice")),
        18 => private_transfer(&mut r),
        _ => Ok(Request::default()),
    };
    match parsed {
        Err(Problem::Truncated(_)) if !complete => Ok(Request::default()),
        other => other,
    }
}

impl Reader<'_> {
    /// Reads `[number] { [0] property ... }` and returns the property.
    fn skip_open(&mut self, number: u8) -> Result<Option<u32>, Problem> {
        if !self.expect("property reference")?.opens(number) {
            return Err(Problem::Encoding("property reference"));
        }
        Ok(self.optional(0).and_then(|e| e.unsigned()))
    }
}

/// CreateObject: `[0] { [0] object type | [1] object identifier }`.
fn create_object(r: &mut Reader<'_>) -> Result<Request, Problem> {
    if !r.expect("object specifier")?.opens(0) {
        return Err(Problem::Encoding("object specifier"));
    }
    let e = r.expect("object specifier")?;
    if e.is_context(0) {
        let kind = e.unsigned().ok_or(Problem::Encoding("object type"))?;
        Ok(Request { detail: Detail::ObjectType(kind), ..Request::default() })
    } else if e.is_context(1) {
        Ok(Request { object: Some(e.object().ok_or(Problem::Encoding("object identifier"))?), ..Request::default() })
    } else {
        Err(Problem::Encoding("object specifier"))
    }
}

/// Private transfer: `[0] vendor id [1] service number`.
fn private_transfer(r: &mut Reader<'_>) -> Result<Request, Problem> {
    let vendor = r.optional(0).and_then(|e| e.unsigned()).ok_or(Problem::Encoding("private transfer"))?;
    let service = r.optional(1).and_then(|e| e.unsigned()).ok_or(Problem::Encoding("private transfer"))?;
    Ok(Request { detail: Detail::Private { vendor, service }, ..Request::default() })
}

/// Parses a ReadProperty ACK: object, property and its (first) value.
pub fn read_property_ack(data: &[u8]) -> Result<(ObjectId, u32, Option<Value<'_>>), Problem> {
    let mut r = Reader::new(data);
    let req = object_property(&mut r, 0, 1)?;
    let (Some(object), Some(property)) = (req.object, req.property) else { return Err(Problem::Encoding("ReadProperty ACK")) };
    r.optional(2);
    if !r.expect("property value")?.opens(3) {
        return Err(Problem::Encoding("ReadProperty ACK"));
    }
    Ok((object, property, r.skip_to_close(3)?))
}

/// Walks the results of a ReadPropertyMultiple ACK, calling `f` with each
/// object, property and (first) value; errors for a property are skipped.
pub fn read_property_multiple_ack<'a>(data: &'a [u8], mut f: impl FnMut(ObjectId, u32, Option<Value<'a>>)) -> Result<(), Problem> {
    const BAD: Problem = Problem::Encoding("ReadPropertyMultiple ACK");
    let mut r = Reader::new(data);
    while !r.at_end() {
        let object = r.expect("ReadPropertyMultiple ACK")?.object().ok_or(BAD)?;
        if !r.expect("ReadPropertyMultiple ACK")?.opens(1) {
            return Err(BAD);
        }
        loop {
            let e = r.expect("ReadPropertyMultiple ACK")?;
            if e.closes(1) {
                break;
            }
            let property = e.is_context(2).then(|| e.unsigned()).flatten().ok_or(BAD)?;
            r.optional(3);
            let open = r.expect("ReadPropertyMultiple ACK")?;
            if open.opens(4) {
                f(object, property, r.skip_to_close(4)?);
            } else if open.opens(5) {
                r.skip_to_close(5)?;
            } else {
                return Err(BAD);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bvlc_and_npdu() {
        let d = [0x81, 0x0a, 0x00, 0x09, 0x01, 0x04, 0x00, 0x05, 0x01];
        let (b, mismatch) = bvlc(&d).unwrap();
        assert_eq!(mismatch, None);
        assert_eq!(b.function, 0x0a);
        let n = npdu(b.npdu.unwrap()).unwrap();
        assert_eq!(n.payload, &[0x00, 0x05, 0x01]);
        assert!(looks_like_bvlc(&d));
        // Length mismatch, wrong type, undefined function.
        assert!(matches!(bvlc(&[0x81, 0x0a, 0x00, 0x20, 0x01, 0x00, 0x10, 0x08]), Ok((_, Some(Problem::BvlcLength { .. })))));
        assert!(!looks_like_bvlc(&[0x81, 0x0a, 0x00, 0x20, 0x01, 0x00, 0x10, 0x08]));
        assert_eq!(bvlc(&[0x80, 0x0a, 0x00, 0x04]), Err(Problem::BvlcType(0x80)));
        assert_eq!(bvlc(&[0x81, 0x0d, 0x00, 0x04]), Err(Problem::BvlcFunction(0x0d)));
        // Register-Foreign-Device is 6 bytes.
        assert!(looks_like_bvlc(&[0x81, 0x05, 0x00, 0x06, 0x00, 0x3c]));
        assert!(!looks_like_bvlc(&[0x81, 0x05, 0x00, 0x05, 0x00]));
    }

    #[test]
    fn forwarded_npdu_origin() {
        let d = [0x81, 0x04, 0x00, 0x10, 10, 0, 0, 7, 0xba, 0xc0, 0x01, 0x00, 0x10, 0x08, 0x00, 0x00];
        let (b, _) = bvlc(&d).unwrap();
        assert_eq!(b.origin, Some((Ipv4Addr::new(10, 0, 0, 7), 47808)));
        assert_eq!(b.npdu, Some(&d[10..]));
    }

    #[test]
    fn npdu_addresses_and_problems() {
        // DNET 0xffff broadcast, SNET 13 SADR 61, hop count 254.
        let n = npdu(&[0x01, 0x28, 0xff, 0xff, 0x00, 0x00, 0x0d, 0x01, 0x3d, 0xfe, 0x10, 0x00]).unwrap();
        assert_eq!((n.dnet, n.snet, n.hop_count), (Some(0xffff), Some(13), Some(254)));
        assert_eq!(n.payload, &[0x10, 0x00]);
        assert_eq!(npdu(&[0x10, 0x00, 0x10]), Err(Problem::NpduVersion(0x10)));
        assert_eq!(npdu(&[0x01, 0x20, 0x00, 0x0d, 0x01, 0x3d, 0xff]), Err(Problem::EmptyApdu));
        assert_eq!(npdu(&[0x01, 0x08, 0x00, 0x0d, 0x00, 0x10]), Err(Problem::SourceLength));
        assert_eq!(npdu(&[0x01, 0x80, 0x20]), Err(Problem::NetworkMessage(0x20)));
        let m = npdu(&[0x01, 0x80, 0x01, 0x00, 0x02]).unwrap();
        assert_eq!(m.message, Some(1));
    }

    #[test]
    fn apdu_types() {
        // Segmented confirmed request, first segment.
        let a = apdu(&[0x0e, 0x05, 0x07, 0x00, 0x04, 0x0c, 0xaa]).unwrap();
        assert_eq!(a, Apdu::Confirmed { invoke: 7, service: 12, sequence: 0, more: true, data: &[0xaa] });
        assert_eq!(apdu(&[0x20, 0x01, 0x0f]).unwrap(), Apdu::SimpleAck { invoke: 1, service: 15 });
        assert_eq!(
            apdu(&[0x50, 0x01, 0x0c, 0x91, 0x02, 0x91, 0x20]).unwrap(),
            Apdu::Error { invoke: 1, service: 12, error: Some((2, 32)) }
        );
        assert_eq!(apdu(&[0x60, 0x3a, 0x09]).unwrap(), Apdu::Reject { invoke: 0x3a, reason: 9 });
        assert_eq!(apdu(&[0x71, 0x02, 0x04]).unwrap(), Apdu::Abort { invoke: 2, reason: 4 });
        assert_eq!(apdu(&[0x80]), Err(Problem::ApduType(8)));
        assert!(matches!(apdu(&[0x00, 0x05]), Err(Problem::Truncated(_))));
    }

    #[test]
    fn i_am_parameters() {
        let d = [0xc4, 0x02, 0x00, 0x00, 0x3d, 0x22, 0x01, 0xe0, 0x91, 0x00, 0x21, 0x2a];
        let i = i_am(&d).unwrap();
        assert_eq!(i.device, ObjectId { kind: OBJECT_DEVICE, instance: 61 });
        assert_eq!((i.max_apdu, i.segmentation, i.vendor), (480, 0, 42));
        assert!(i_am(&d[..8]).is_err());
    }

    #[test]
    fn read_property_request_and_ack() {
        // analog-value,3 present-value.
        let req = request(12, &[0x0c, 0x00, 0x80, 0x00, 0x03, 0x19, 0x55], true).unwrap();
        assert_eq!(req.object, Some(ObjectId { kind: 2, instance: 3 }));
        assert_eq!(req.property, Some(85));
        // device,29 vendor-name "Acme" (UTF-8).
        let ack = [0x0c, 0x02, 0x00, 0x00, 0x1d, 0x19, 0x79, 0x3e, 0x75, 0x05, 0x00, b'A', b'c', b'm', b'e', 0x3f];
        let (o, p, v) = read_property_ack(&ack).unwrap();
        assert_eq!((o.kind, o.instance, p), (8, 29, 121));
        let Some(Value::Text(t)) = v else { panic!("not text") };
        assert_eq!(t.decode().as_deref(), Some("Acme"));
        assert!(read_property_ack(&ack[..ack.len() - 1]).is_err());
    }

    #[test]
    fn read_property_multiple() {
        // device,5 { object-name, vendor-identifier }.
        let req = [0x0c, 0x02, 0x00, 0x00, 0x05, 0x1e, 0x09, 0x4d, 0x09, 0x78, 0x1f];
        let r = request(14, &req, true).unwrap();
        assert_eq!((r.property, r.more), (Some(77), 1));
        let ack = [
            0x0c, 0x02, 0x00, 0x00, 0x05, 0x1e, 0x29, 0x4d, 0x4e, 0x75, 0x03, 0x00, b'N', b'1', 0x4f, 0x29, 0x78, 0x4e, 0x21, 0x07, 0x4f,
            0x29, 0x1c, 0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, 0x1f,
        ];
        let mut seen = Vec::new();
        read_property_multiple_ack(&ack, |o, p, v| seen.push((o.instance, p, v))).unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1], (5, 120, Some(Value::Unsigned(7))));
    }

    #[test]
    fn control_services() {
        // DCC disable for 5 minutes with a password.
        let r = request(17, &[0x09, 0x05, 0x19, 0x01, 0x2d, 0x03, 0x00, b'p', b'w'], true).unwrap();
        assert_eq!(r.detail, Detail::Communication { state: 1, minutes: Some(5) });
        let r = request(20, &[0x09, 0x01], true).unwrap();
        assert_eq!(r.detail, Detail::Reinitialize(1));
        assert!(request(20, &[0x19, 0x01], true).is_err());
        // WriteProperty analog-value,3 present-value := 1.0 priority 8.
        let wp = [0x0c, 0x00, 0x80, 0x00, 0x03, 0x19, 0x55, 0x3e, 0x44, 0x3f, 0x80, 0x00, 0x00, 0x3f, 0x49, 0x08];
        let r = request(15, &wp, true).unwrap();
        assert_eq!(r.object.map(|o| o.to_string()).as_deref(), Some("analog-value,3"));
        // Truncated first segment is fine, truncated complete request is not.
        assert!(request(12, &[0x0c, 0x00], false).is_ok());
        assert!(request(12, &[0x0c, 0x00], true).is_err());
        // CreateObject by type, private transfer.
        assert_eq!(request(10, &[0x0e, 0x09, 0x02, 0x0f], true).unwrap().detail, Detail::ObjectType(2));
        assert_eq!(request(18, &[0x09, 0x2a, 0x19, 0x07], true).unwrap().detail, Detail::Private { vendor: 42, service: 7 });
    }

    #[test]
    fn text_charsets() {
        assert_eq!(Text { charset: 4, bytes: &[0x00, b'O', 0x00, b'K'] }.decode().as_deref(), Some("OK"));
        assert_eq!(Text { charset: 5, bytes: &[b'M', 0xfc] }.decode().as_deref(), Some("M\u{fc}"));
        assert_eq!(Text { charset: 1, bytes: &[0xff] }.decode(), None);
    }

    #[test]
    fn tags_with_extended_length_and_number() {
        // Context tag 20 (extended number), extended length 6.
        let d = [0xf9, 20, 0x01, 0x75, 6, 0x00, b'a', b'b', b'c', b'd', b'e'];
        let e: Vec<_> = Reader::new(&d).collect();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].unwrap().number, 20);
        let Some(Value::Text(t)) = e[1].unwrap().value() else { panic!("not text") };
        assert_eq!(t.decode().as_deref(), Some("abcde"));
        // Extended length beyond the data fails once, then stops.
        let e: Vec<_> = Reader::new(&[0x75, 0xff, 0xff, 0xff, 0xff, 0xff]).collect();
        assert_eq!(e.len(), 1);
        assert!(e[0].is_err());
    }
}
