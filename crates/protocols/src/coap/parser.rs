//! CoAP messages over UDP (RFC 7252) and CoRE link format (RFC 6690), pure
//! and zero-copy.

use palisade_decode::be16;
use std::fmt;

/// Message type: confirmable.
pub(crate) const CON: u8 = 0;
/// Message type: non-confirmable.
pub(crate) const NON: u8 = 1;
/// Message type: acknowledgement.
pub(crate) const ACK: u8 = 2;
/// Message type: reset.
pub(crate) const RST: u8 = 3;

/// Option: Uri-Path (one path segment).
pub(crate) const URI_PATH: u16 = 11;
/// Option: Content-Format.
pub(crate) const CONTENT_FORMAT: u16 = 12;
/// Content-Format of CoRE link format (`application/link-format`).
pub(crate) const LINK_FORMAT: u16 = 40;

/// Longest token.
const MAX_TOKEN: usize = 8;
/// Options whose value is text (Uri-Host, Location-Path, Uri-Path,
/// Uri-Query, Location-Query, Proxy-Uri, Proxy-Scheme).
const TEXT_OPTIONS: [u16; 7] = [3, 8, 11, 15, 20, 35, 39];
/// Options registered with IANA that the probe accepts.
const KNOWN_OPTIONS: [u16; 27] = [1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 19, 20, 21, 23, 27, 28, 31, 35, 39, 60, 252, 258, 292];

/// One CoAP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    /// [`CON`], [`NON`], [`ACK`] or [`RST`].
    pub kind: u8,
    /// Code: class in the top three bits, detail in the low five.
    pub code: u8,
    /// Message id (matches an ACK or RST to its message).
    pub message_id: u16,
    /// Token (matches a response to its request).
    pub token: &'a [u8],
    /// The options, checked to be well formed (see [`Message::options`]).
    options: &'a [u8],
    /// The payload after the 0xFF marker.
    pub payload: &'a [u8],
}

/// What is wrong with a CoAP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Shorter than the four-byte header.
    Truncated,
    /// A version other than 1.
    Version(u8),
    /// A token length of 9 to 15.
    TokenLength(u8),
    /// An option's extended delta or length, or its value, runs past the end.
    OptionOverrun,
    /// An option nibble of 15 that is not the payload marker.
    ReservedNibble,
    /// A payload marker with no payload after it.
    EmptyPayload,
    /// An empty message (code 0.00) with a token, options or payload.
    EmptyNotEmpty,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated => f.write_str("CoAP message shorter than its 4-byte header"),
            Problem::Version(v) => write!(f, "CoAP version {v} instead of 1"),
            Problem::TokenLength(n) => write!(f, "CoAP token length {n} is reserved"),
            Problem::OptionOverrun => f.write_str("CoAP option runs past the end of the message"),
            Problem::ReservedNibble => f.write_str("CoAP option delta or length nibble 15"),
            Problem::EmptyPayload => f.write_str("CoAP payload marker without a payload"),
            Problem::EmptyNotEmpty => f.write_str("CoAP empty message with a token, options or payload"),
        }
    }
}

impl<'a> Message<'a> {
    /// The code's class: 0 request, 2 success, 4 client error, 5 server error.
    pub(crate) fn class(&self) -> u8 {
        self.code >> 5
    }

    /// The code's detail (the method of a request).
    pub(crate) fn detail(&self) -> u8 {
        self.code & 0x1f
    }

    /// True for a request (GET, POST, PUT, DELETE, FETCH, PATCH, iPATCH).
    pub(crate) fn is_request(&self) -> bool {
        self.class() == 0 && (1..=7).contains(&self.detail())
    }

    /// True for a response (class 2, 4 or 5).
    pub(crate) fn is_response(&self) -> bool {
        matches!(self.class(), 2 | 4 | 5)
    }

    /// The options, as (number, value), in order.
    pub(crate) fn options(&self) -> impl Iterator<Item = (u16, &'a [u8])> {
        let mut rest = self.options;
        let mut number = 0u16;
        std::iter::from_fn(move || {
            let option = next_option(rest).ok()??;
            number = number.checked_add(option.delta)?;
            rest = option.rest;
            Some((number, option.value))
        })
    }

    /// The value of the first option `number`.
    pub(crate) fn option(&self, number: u16) -> Option<&'a [u8]> {
        self.options().find(|(n, _)| *n == number).map(|(_, v)| v)
    }

    /// The Content-Format, if the option is present.
    pub(crate) fn content_format(&self) -> Option<u16> {
        self.option(CONTENT_FORMAT).map(|v| v.iter().fold(0u16, |n, &b| n.wrapping_shl(8) | u16::from(b)))
    }
}

/// One encoded option.
struct RawOption<'a> {
    /// The difference from the previous option's number.
    delta: u16,
    value: &'a [u8],
    /// The bytes after it.
    rest: &'a [u8],
}

/// Reads one option, or `None` at the end of the options (the end of the
/// message or the payload marker).
fn next_option(data: &[u8]) -> Result<Option<RawOption<'_>>, Problem> {
    let Some((&first, mut rest)) = data.split_first() else { return Ok(None) };
    if first == 0xff {
        return Ok(None);
    }
    let mut extended = |nibble: u8| -> Result<u16, Problem> {
        let (value, used) = match nibble {
            13 => (rest.first().map(|&b| 13 + u16::from(b)), 1),
            14 => (be16(rest, 0).and_then(|v| v.checked_add(269)), 2),
            15 => return Err(Problem::ReservedNibble),
            n => return Ok(u16::from(n)),
        };
        rest = rest.get(used..).ok_or(Problem::OptionOverrun)?;
        value.ok_or(Problem::OptionOverrun)
    };
    let delta = extended(first >> 4)?;
    let len = extended(first & 0x0f)?;
    let value = rest.get(..usize::from(len)).ok_or(Problem::OptionOverrun)?;
    Ok(Some(RawOption { delta, value, rest: rest.get(usize::from(len)..).unwrap_or_default() }))
}

/// Reads a message, checking its options and payload marker.
pub(crate) fn parse(data: &[u8]) -> Result<Message<'_>, Problem> {
    let (Some(&first), Some(&code), Some(message_id)) = (data.first(), data.get(1), be16(data, 2)) else {
        return Err(Problem::Truncated);
    };
    if first >> 6 != 1 {
        return Err(Problem::Version(first >> 6));
    }
    let token_len = first & 0x0f;
    let token = data.get(4..4 + usize::from(token_len)).filter(|_| usize::from(token_len) <= MAX_TOKEN);
    let Some(token) = token else {
        return Err(if usize::from(token_len) > MAX_TOKEN { Problem::TokenLength(token_len) } else { Problem::Truncated });
    };
    let options = data.get(4 + token.len()..).unwrap_or_default();
    let mut rest = options;
    let mut number = 0u32;
    while let Some(option) = next_option(rest)? {
        number += u32::from(option.delta);
        if number > u32::from(u16::MAX) {
            return Err(Problem::OptionOverrun);
        }
        rest = option.rest;
    }
    let options = options.get(..options.len() - rest.len()).unwrap_or_default();
    let payload = match rest.split_first() {
        Some((0xff, [])) => return Err(Problem::EmptyPayload),
        Some((_, payload)) => payload,
        None => &[],
    };
    if code == 0 && data.len() > 4 {
        return Err(Problem::EmptyNotEmpty);
    }
    Ok(Message { kind: (first >> 4) & 0x03, code, message_id, token, options, payload })
}

/// True if `data` is a CoAP request or response beyond reasonable doubt:
/// well formed, a known method or response code, a type that fits it,
/// only registered options, and text options that are UTF-8.
pub(crate) fn looks_like_coap(data: &[u8]) -> bool {
    let Ok(m) = parse(data) else { return false };
    let fits = if m.is_request() { matches!(m.kind, CON | NON) } else { m.kind != RST && known_response(m.code) };
    fits && m.options().all(|(n, v)| KNOWN_OPTIONS.contains(&n) && (!TEXT_OPTIONS.contains(&n) || std::str::from_utf8(v).is_ok()))
}

/// True for the response codes registered with IANA.
fn known_response(code: u8) -> bool {
    let detail = code & 0x1f;
    match code >> 5 {
        2 => (1..=5).contains(&detail) || detail == 31,
        4 => detail <= 6 || matches!(detail, 8 | 9 | 12 | 13 | 15 | 22 | 29),
        5 => detail <= 5,
        _ => false,
    }
}

/// Calls `each` with every resource type (`rt=` parameter, each of a
/// quoted list) in a CoRE link-format document.
pub(crate) fn resource_types<'a>(document: &'a [u8], mut each: impl FnMut(&'a str)) {
    let mut rest = document;
    while let Some((&b, after)) = rest.split_first() {
        rest = match b {
            b'<' => after.iter().position(|&c| c == b'>').and_then(|end| after.get(end + 1..)).unwrap_or_default(),
            b';' => {
                let name_len = after.iter().position(|c| matches!(c, b'=' | b';' | b',')).unwrap_or(after.len());
                let (name, tail) = after.split_at(name_len);
                match tail.split_first() {
                    Some((b'=', value)) => {
                        let (value, tail) = parameter_value(value);
                        if name.trim_ascii() == b"rt" {
                            let text = value.split(|&c| c == b' ').filter_map(|t| std::str::from_utf8(t).ok());
                            text.filter(|t| !t.is_empty() && !t.chars().any(char::is_control)).for_each(&mut each);
                        }
                        tail
                    }
                    _ => tail,
                }
            }
            _ => after,
        };
    }
}

/// A parameter value (quoted string or token) and what follows it.
fn parameter_value(data: &[u8]) -> (&[u8], &[u8]) {
    if let Some(quoted) = data.strip_prefix(b"\"") {
        let end = quoted.iter().position(|&c| c == b'"').unwrap_or(quoted.len());
        let (value, tail) = quoted.split_at(end);
        (value, tail.get(1..).unwrap_or_default())
    } else {
        let end = data.iter().position(|c| matches!(c, b';' | b',')).unwrap_or(data.len());
        data.split_at(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GET /storage/myresource from the ndpi capture (CON, no token).
    const GET: &[u8] = b"\x40\x01\x95\x23\xb7storage\x0amyresource";

    #[test]
    fn request_with_path() {
        let m = parse(GET).unwrap();
        assert_eq!((m.kind, m.code, m.message_id, m.token), (CON, 1, 0x9523, &b""[..]));
        assert!(m.is_request() && !m.is_response());
        let opts: Vec<_> = m.options().collect();
        assert_eq!(opts, [(URI_PATH, &b"storage"[..]), (URI_PATH, &b"myresource"[..])]);
        assert!(looks_like_coap(GET));
    }

    #[test]
    fn extended_deltas_and_lengths() {
        // Token 0x07 0x90; Uri-Path "separate"; delta 1 length 0 (option 12);
        // delta 13+0x23 = 48 (option 60), length 1.
        let m = parse(b"\x42\x01\xe9\x1b\x07\x90\xb8separate\x10\xd1\x23\x11").unwrap();
        assert_eq!(m.token, b"\x07\x90");
        let numbers: Vec<_> = m.options().map(|(n, v)| (n, v.len())).collect();
        assert_eq!(numbers, [(11, 8), (12, 0), (60, 1)]);
        assert_eq!(m.content_format(), Some(0));
        // Delta 14: 269 + 0x0100 = 525; length 14: 269 + 1 bytes.
        let mut long = b"\x40\x01\x00\x01\xee\x01\x00\x00\x01".to_vec();
        long.extend_from_slice(&[b'a'; 270]);
        long.extend_from_slice(b"\xffdata");
        let m = parse(&long).unwrap();
        assert_eq!(m.options().map(|(n, v)| (n, v.len())).collect::<Vec<_>>(), [(525, 270)]);
        assert_eq!(m.payload, b"data");
        assert!(!looks_like_coap(&long));
    }

    #[test]
    fn responses() {
        // ACK 2.05 Content, link format, from a /.well-known/core answer.
        let m = parse(b"\x60\x45\x12\x34\xc1\x28\xff</a>").unwrap();
        assert!(m.is_response());
        assert_eq!((m.class(), m.detail(), m.content_format()), (2, 5, Some(LINK_FORMAT)));
        assert!(looks_like_coap(b"\x60\x45\x12\x34\xc1\x28\xff</a>"));
        assert!(looks_like_coap(b"\x60\x85\xce\xa1"));
        // An empty ACK is well formed but not enough for the probe.
        assert!(parse(b"\x60\x00\x12\x34").is_ok());
        assert!(!looks_like_coap(b"\x60\x00\x12\x34"));
    }

    #[test]
    fn problems() {
        assert_eq!(parse(b"\x40\x01\x00"), Err(Problem::Truncated));
        assert_eq!(parse(b"\x80\x01\x00\x00"), Err(Problem::Version(2)));
        assert_eq!(parse(b"\x49\x01\x00\x00012345678"), Err(Problem::TokenLength(9)));
        assert_eq!(parse(b"\x48\x01\x00\x00012"), Err(Problem::Truncated));
        assert_eq!(parse(b"\x40\x01\x00\x00\xb9abc"), Err(Problem::OptionOverrun));
        assert_eq!(parse(b"\x40\x01\x00\x00\xd1"), Err(Problem::OptionOverrun));
        assert_eq!(parse(b"\x40\x01\x00\x00\xf1a"), Err(Problem::ReservedNibble));
        assert_eq!(parse(b"\x40\x01\x00\x00\x1fa"), Err(Problem::ReservedNibble));
        assert_eq!(parse(b"\x40\x01\x00\x00\xff"), Err(Problem::EmptyPayload));
        assert_eq!(parse(b"\x60\x00\x00\x00\xff1"), Err(Problem::EmptyNotEmpty));
        // Option numbers beyond 65535.
        assert_eq!(parse(b"\x40\x01\x00\x00\xe0\xff\x00\xe0\xff\x00"), Err(Problem::OptionOverrun));
    }

    #[test]
    fn probe_is_strict() {
        assert!(!looks_like_coap(b"\x40\x00\x00\x00"));
        // GET as an ACK, a reserved class, option 2 (unregistered), a non-UTF-8 path.
        for bad in [&b"\x60\x01\x00\x00"[..], b"\x40\xe1\x00\x00", b"\x40\x01\x00\x00\x21a", b"\x40\x01\x00\x00\xb1\xff"] {
            assert!(!looks_like_coap(bad), "{bad:?}");
        }
        // A DNS query read as CoAP: option 0 does not exist.
        assert!(!looks_like_coap(b"\x41\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www"));
    }

    #[test]
    fn link_format_resource_types() {
        let doc = br#"</sensors/temp>;rt="temperature-c sensor";if="core.s",</rd>;rt=core.rd;ct=40,</x;y>;title="a;rt=no",<bad>;rt"#;
        let mut types = Vec::new();
        resource_types(doc, |t| types.push(t));
        assert_eq!(types, ["temperature-c", "sensor", "core.rd"]);
        let mut none = Vec::new();
        resource_types(b"<unterminated;rt=x", |t| none.push(t));
        resource_types(b";rt=\"open", |t| none.push(t));
        assert_eq!(none, ["open"]);
    }
}
