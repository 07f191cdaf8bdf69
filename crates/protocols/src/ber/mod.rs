//! A small reader for ASN.1 BER (X.690) TLVs, shared by the dissectors of
//! BER-encoded protocols (MMS, GOOSE, SNMP...). Zero-copy: every element is
//! a view into the input. Only definite lengths are accepted (indefinite
//! lengths are rejected), lengths are bounded by the input, and tag numbers
//! by [`MAX_TAG_BYTES`].

use std::fmt;

/// Most subsequent bytes of a high tag number (28 bits of tag number).
const MAX_TAG_BYTES: usize = 4;
/// Most bytes of a long-form length (lengths up to 4 GiB).
const MAX_LENGTH_BYTES: usize = 4;

/// The class of a tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Universal (INTEGER, SEQUENCE, OID...).
    Universal,
    /// Application-wide.
    Application,
    /// Context-specific (`[n]`).
    Context,
    /// Private.
    Private,
}

/// A decoded identifier: class, primitive/constructed and tag number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    /// The tag's class.
    pub(crate) class: Class,
    /// True for a constructed encoding (the value holds TLVs).
    pub(crate) constructed: bool,
    /// The tag number.
    pub(crate) number: u32,
}

/// Why a TLV could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// The input ends inside the TLV.
    Truncated,
    /// An indefinite length (0x80), which this reader does not accept.
    Indefinite,
    /// A tag number or length field longer than this reader accepts.
    TooLong,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "BER element truncated",
            Error::Indefinite => "BER indefinite length",
            Error::TooLong => "BER tag or length field too long",
        })
    }
}

/// One TLV: its tag and a view of its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    /// The identifier.
    pub(crate) tag: Tag,
    /// The value (contents) octets.
    pub(crate) value: &'a [u8],
}

/// Reads one TLV from the start of `data`; returns it and the bytes after it.
pub(crate) fn read(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), Error> {
    let first = *data.first().ok_or(Error::Truncated)?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut at = 1;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        number = 0;
        loop {
            let b = *data.get(at).ok_or(Error::Truncated)?;
            at += 1;
            if at > 1 + MAX_TAG_BYTES {
                return Err(Error::TooLong);
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let len_byte = *data.get(at).ok_or(Error::Truncated)?;
    at += 1;
    let len = match len_byte {
        0x80 => return Err(Error::Indefinite),
        0..=0x7f => usize::from(len_byte),
        _ => {
            let n = usize::from(len_byte & 0x7f);
            if n > MAX_LENGTH_BYTES {
                return Err(Error::TooLong);
            }
            let bytes = data.get(at..at + n).ok_or(Error::Truncated)?;
            at += n;
            bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        }
    };
    let end = at.checked_add(len).ok_or(Error::Truncated)?;
    let value = data.get(at..end).ok_or(Error::Truncated)?;
    let rest = data.get(end..).ok_or(Error::Truncated)?;
    Ok((Tlv { tag: Tag { class, constructed, number }, value }, rest))
}

/// Reads the TLV at the start of `data`, ignoring any bytes after it (link
/// padding, trailing data).
pub(crate) fn first(data: &[u8]) -> Result<Tlv<'_>, Error> {
    read(data).map(|(t, _)| t)
}

impl<'a> Tlv<'a> {
    /// True if the tag is context-specific `[number]`.
    pub(crate) fn is_context(&self, number: u32) -> bool {
        self.tag.class == Class::Context && self.tag.number == number
    }

    /// True if the tag is universal `number` (2 INTEGER, 6 OID, 16 SEQUENCE...).
    pub(crate) fn is_universal(&self, number: u32) -> bool {
        self.tag.class == Class::Universal && self.tag.number == number
    }

    /// True if the tag is `[APPLICATION number]`.
    pub(crate) fn is_application(&self, number: u32) -> bool {
        self.tag.class == Class::Application && self.tag.number == number
    }

    /// The TLVs inside a constructed value.
    pub(crate) fn children(&self) -> Children<'a> {
        Children { rest: self.value }
    }

    /// The first child TLV with context tag `[number]`, skipping others.
    pub(crate) fn context_child(&self, number: u32) -> Option<Tlv<'a>> {
        self.children().map_while(Result::ok).find(|t| t.is_context(number))
    }

    /// The first child TLV (e.g. the alternative inside an explicit tag).
    pub(crate) fn inner(&self) -> Option<Tlv<'a>> {
        first(self.value).ok()
    }

    /// The value as a non-negative integer (up to 64 bits, two's complement
    /// sign bit must be clear; a leading zero octet is allowed).
    pub(crate) fn uint(&self) -> Option<u64> {
        match self.value {
            [] => None,
            [b, ..] if b & 0x80 != 0 => None,
            [0, rest @ ..] if rest.len() == 8 => Some(rest.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))),
            v if v.len() <= 8 => Some(v.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))),
            _ => None,
        }
    }

    /// The value as a BOOLEAN (any non-zero octet is true).
    pub(crate) fn boolean(&self) -> Option<bool> {
        match self.value {
            [b] => Some(*b != 0),
            _ => None,
        }
    }

    /// The value as text, if it is valid UTF-8 (VisibleString, UTF8String...).
    pub(crate) fn text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.value).ok()
    }
}

/// Iterates over consecutive TLVs; stops after the first error.
#[derive(Clone, Debug)]
pub(crate) struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Children<'a> {
    /// The TLVs in `data`, one after the other.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Children { rest: data }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Displays the contents of an OBJECT IDENTIFIER in dotted form
/// (`1.0.9506.2.1`); arcs too large for 64 bits or a truncated last arc
/// are shown as `?`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Oid<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Oid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut arc: u64 = 0;
        let mut first = true;
        let mut pending = false;
        let mut overflow = false;
        for &b in self.0 {
            pending = true;
            match arc.checked_mul(128) {
                Some(v) if !overflow => arc = v | u64::from(b & 0x7f),
                _ => overflow = true,
            }
            if b & 0x80 != 0 {
                continue;
            }
            if overflow {
                f.write_str(if first { "?" } else { ".?" })?;
            } else if first {
                let (x, y) = match arc {
                    0..=39 => (0, arc),
                    40..=79 => (1, arc - 40),
                    _ => (2, arc - 80),
                };
                write!(f, "{x}.{y}")?;
            } else {
                write!(f, ".{arc}")?;
            }
            first = false;
            pending = false;
            overflow = false;
            arc = 0;
        }
        if pending {
            f.write_str(if first { "?" } else { ".?" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        let (t, rest) = read(&[0x02, 0x01, 0x05, 0xff]).expect("integer");
        assert_eq!(t.tag, Tag { class: Class::Universal, constructed: false, number: 2 });
        assert_eq!(t.uint(), Some(5));
        assert_eq!(rest, &[0xff]);

        let mut long = vec![0x04, 0x81, 0x80];
        long.extend_from_slice(&[7; 0x80]);
        let (t, rest) = read(&long).expect("octet string");
        assert_eq!(t.value.len(), 0x80);
        assert!(rest.is_empty());

        let (t, _) = read(&[0x30, 0x82, 0x00, 0x03, 0x01, 0x01, 0xff]).expect("sequence");
        assert!(t.tag.constructed && t.is_universal(16));
        assert_eq!(t.inner().and_then(|b| b.boolean()), Some(true));
    }

    #[test]
    fn high_tag_numbers() {
        // [72] constructed context tag (MMS fileOpen): 0xbf 0x48.
        let (t, _) = read(&[0xbf, 0x48, 0x00]).expect("fileOpen");
        assert_eq!(t.tag, Tag { class: Class::Context, constructed: true, number: 72 });
        // Two subsequent bytes: 0x81 0x00 = 128.
        let (t, _) = read(&[0x5f, 0x81, 0x00, 0x00]).expect("application 128");
        assert!(t.is_application(128));
        assert_eq!(read(&[0x1f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00]), Err(Error::TooLong));
        assert_eq!(read(&[0x1f, 0x81]), Err(Error::Truncated));
    }

    #[test]
    fn bad_lengths_are_rejected() {
        assert_eq!(read(&[0x30, 0x80, 0x00, 0x00]), Err(Error::Indefinite));
        assert_eq!(read(&[0x04, 0x85, 1, 0, 0, 0, 0]), Err(Error::TooLong));
        assert_eq!(read(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]), Err(Error::Truncated));
        assert_eq!(read(&[0x04, 0x03, 1, 2]), Err(Error::Truncated));
        assert_eq!(read(&[0x04]), Err(Error::Truncated));
        assert_eq!(read(&[]), Err(Error::Truncated));
    }

    #[test]
    fn children_stop_at_errors() {
        // A sequence whose last child announces more bytes than it has.
        let seq = [0x30, 0x08, 0x80, 0x01, 0x01, 0x81, 0x01, 0x02, 0x82, 0x05];
        let t = first(&seq).expect("sequence");
        let items: Vec<_> = t.children().collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[2], Err(Error::Truncated));
        assert_eq!(t.context_child(1).and_then(|c| c.uint()), Some(2));
        assert_eq!(Children::new(&[]).count(), 0);
    }

    #[test]
    fn integers() {
        let int = |v: &'static [u8]| Tlv { tag: Tag { class: Class::Universal, constructed: false, number: 2 }, value: v };
        assert_eq!(int(&[0xff]).uint(), None);
        assert_eq!(int(&[0x00, 0xff]).uint(), Some(255));
        assert_eq!(int(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).uint(), Some(u64::MAX));
        assert_eq!(int(&[0x7f]).uint(), Some(127));
        assert_eq!(int(&[]).uint(), None);
    }

    #[test]
    fn object_identifiers() {
        assert_eq!(Oid(&[0x28, 0xca, 0x22, 0x02, 0x01]).to_string(), "1.0.9506.2.1");
        assert_eq!(Oid(&[0x52, 0x01, 0x00, 0x01]).to_string(), "2.2.1.0.1");
        assert_eq!(Oid(&[0x29, 0x02]).to_string(), "1.1.2");
        assert_eq!(Oid(&[0x29, 0x82]).to_string(), "1.1.?");
        assert_eq!(Oid(&[]).to_string(), "");
    }
}
