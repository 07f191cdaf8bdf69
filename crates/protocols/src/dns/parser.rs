//! The DNS wire format (RFC 1035), shared by DNS, mDNS and LLMNR: header,
//! questions, resource records and compressed names, read in place.
//!
//! Names are validated once when read (bounded length, compression pointers
//! that must point strictly backwards, so loops are impossible) and are then
//! views into the message that can be walked label by label or rendered into
//! a stack buffer.

use palisade_decode::{be16, be32};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Size of the fixed header.
pub(crate) const HEADER_LEN: usize = 12;
/// Largest encoded name (length bytes included), RFC 1035 section 2.3.4.
const MAX_NAME_WIRE: usize = 255;
/// Most compression pointers followed in one name.
const MAX_JUMPS: usize = 64;
/// Smallest question: root name, type, class.
const MIN_QUESTION: usize = 5;
/// Smallest resource record: root name, type, class, TTL, data length.
const MIN_RECORD: usize = 11;

/// Record type A (IPv4 address).
pub(crate) const TYPE_A: u16 = 1;
/// Record type CNAME.
pub(crate) const TYPE_CNAME: u16 = 5;
/// Record type PTR.
pub(crate) const TYPE_PTR: u16 = 12;
/// Record type TXT.
pub(crate) const TYPE_TXT: u16 = 16;
/// Record type AAAA (IPv6 address).
pub(crate) const TYPE_AAAA: u16 = 28;
/// Record type SRV.
pub(crate) const TYPE_SRV: u16 = 33;

/// Why a message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// The message ends inside the header, a name or a record.
    Truncated,
    /// The section counts need more bytes than the message has.
    Counts,
    /// A label uses a reserved type (0x40 or 0x80 prefix).
    Label,
    /// A compression pointer that does not point strictly backwards (a
    /// loop), points into the header, or too many pointers.
    Pointer,
    /// A name longer than 255 bytes.
    NameLength,
    /// Record data that does not fit its type.
    Rdata,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "message truncated",
            Error::Counts => "section counts exceed the message length",
            Error::Label => "reserved label type in a name",
            Error::Pointer => "bad name compression pointer (loop or forward pointer)",
            Error::NameLength => "name longer than 255 bytes",
            Error::Rdata => "record data does not match its type",
        })
    }
}

/// The fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    pub flags: u16,
    /// Questions, answers, authority and additional record counts.
    pub counts: [u16; 4],
}

impl Header {
    /// Reads the header at the start of `msg`.
    pub(crate) fn read(msg: &[u8]) -> Result<Header, Error> {
        let field = |at| be16(msg, at).ok_or(Error::Truncated);
        Ok(Header { flags: field(2)?, counts: [field(4)?, field(6)?, field(8)?, field(10)?] })
    }

    /// True for a response (QR set).
    pub(crate) fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The operation code (0 = standard query).
    pub(crate) fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }

    /// The response code (0 = no error).
    pub(crate) fn rcode(&self) -> u8 {
        (self.flags & 0x000f) as u8
    }

    /// The reserved Z bit, which must be zero.
    fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }

    /// The fewest bytes a message with these counts can have.
    fn min_len(&self) -> usize {
        let [qd, an, ns, ar] = self.counts.map(usize::from);
        HEADER_LEN + qd * MIN_QUESTION + (an + ns + ar) * MIN_RECORD
    }
}

/// A validated name: a view into its message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Name<'a> {
    msg: &'a [u8],
    start: usize,
}

/// Walks the labels of a name, following compression pointers.
struct Cursor<'a> {
    msg: &'a [u8],
    pos: usize,
    /// Where the current run of labels began: a pointer must point before it.
    run_start: usize,
    jumps: usize,
    wire_len: usize,
    /// Where the name ends in place (after its first pointer or its root label).
    end: Option<usize>,
    done: bool,
}

impl<'a> Cursor<'a> {
    fn new(msg: &'a [u8], start: usize) -> Self {
        Cursor { msg, pos: start, run_start: start, jumps: 0, wire_len: 0, end: None, done: false }
    }

    fn step(&mut self) -> Result<Option<&'a [u8]>, Error> {
        loop {
            let len = *self.msg.get(self.pos).ok_or(Error::Truncated)?;
            match len & 0xc0 {
                0x00 => {
                    let len = usize::from(len);
                    self.wire_len += 1 + len;
                    if self.wire_len > MAX_NAME_WIRE {
                        return Err(Error::NameLength);
                    }
                    if len == 0 {
                        self.end.get_or_insert(self.pos + 1);
                        return Ok(None);
                    }
                    let label = self.msg.get(self.pos + 1..self.pos + 1 + len).ok_or(Error::Truncated)?;
                    self.pos += 1 + len;
                    return Ok(Some(label));
                }
                0xc0 => {
                    let low = *self.msg.get(self.pos + 1).ok_or(Error::Truncated)?;
                    let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                    self.jumps += 1;
                    if target >= self.run_start || target < HEADER_LEN || self.jumps > MAX_JUMPS {
                        return Err(Error::Pointer);
                    }
                    self.end.get_or_insert(self.pos + 2);
                    self.pos = target;
                    self.run_start = target;
                }
                _ => return Err(Error::Label),
            }
        }
    }
}

impl<'a> Iterator for Cursor<'a> {
    type Item = Result<&'a [u8], Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(label)) => Some(Ok(label)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads the name at `start`; returns it and the offset just after it.
pub(crate) fn read_name(msg: &[u8], start: usize) -> Result<(Name<'_>, usize), Error> {
    let mut cursor = Cursor::new(msg, start);
    for label in cursor.by_ref() {
        label?;
    }
    let end = cursor.end.ok_or(Error::Truncated)?;
    Ok((Name { msg, start }, end))
}

impl<'a> Name<'a> {
    /// The labels, first (leftmost) to last, without the root.
    pub(crate) fn labels(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        Cursor::new(self.msg, self.start).map_while(Result::ok)
    }

    /// The name in dotted form without the trailing dot ("" for the root).
    pub(crate) fn text(&self) -> NameText {
        let mut out = NameText { buf: [0; MAX_NAME_WIRE], len: 0 };
        for label in self.labels() {
            if out.len > 0 {
                out.push(b".");
            }
            out.push(label);
        }
        out
    }

    /// The address a reverse-lookup name (`4.3.2.1.in-addr.arpa`,
    /// 32 nibbles + `ip6.arpa`) stands for.
    pub(crate) fn reverse_ip(&self) -> Option<IpAddr> {
        let mut parts: [&[u8]; 34] = [&[]; 34];
        let mut n = 0;
        for label in self.labels() {
            *parts.get_mut(n)? = label;
            n += 1;
        }
        let (body, [zone, arpa]) = parts.get(..n)?.split_last_chunk::<2>()?;
        if !arpa.eq_ignore_ascii_case(b"arpa") {
            return None;
        }
        if zone.eq_ignore_ascii_case(b"in-addr") && body.len() == 4 {
            // Decimal octets, last first.
            let mut v4 = [0u8; 4];
            for (slot, label) in v4.iter_mut().rev().zip(body) {
                let plain = !label.is_empty() && label.len() <= 3 && label.iter().all(u8::is_ascii_digit);
                *slot = std::str::from_utf8(label).ok().filter(|_| plain)?.parse().ok()?;
            }
            return Some(IpAddr::V4(Ipv4Addr::from(v4)));
        }
        if zone.eq_ignore_ascii_case(b"ip6") && body.len() == 32 {
            // Hex nibbles, last first.
            let mut v6 = [0u8; 16];
            for (i, label) in body.iter().enumerate() {
                let [digit] = label else { return None };
                let nibble = char::from(*digit).to_digit(16)? as u8;
                let index = 31 - i;
                *v6.get_mut(index / 2)? |= if index % 2 == 0 { nibble << 4 } else { nibble };
            }
            return Some(IpAddr::V6(Ipv6Addr::from(v6)));
        }
        None
    }
}

/// A name rendered in dotted form on the stack.
pub(crate) struct NameText {
    buf: [u8; MAX_NAME_WIRE],
    len: usize,
}

impl NameText {
    fn push(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(self.buf.len());
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..end), bytes.get(..end - self.len)) {
            dst.copy_from_slice(src);
        }
        self.len = end;
    }

    /// The text, if it is valid UTF-8.
    pub(crate) fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.buf.get(..self.len)?).ok()
    }
}

/// The message sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    /// Questions.
    Question,
    /// Answer records.
    Answer,
    /// Authority records.
    Authority,
    /// Additional records.
    Additional,
}

const SECTIONS: [Section; 4] = [Section::Question, Section::Answer, Section::Authority, Section::Additional];

/// One question or resource record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'a> {
    /// Which section it is in.
    pub section: Section,
    /// The owner name (the name asked for, for a question).
    pub name: Name<'a>,
    /// Record type.
    pub rtype: u16,
    /// The record data (empty for questions).
    pub rdata: &'a [u8],
    msg: &'a [u8],
    rdata_at: usize,
}

/// Decoded record data.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rdata<'a> {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A pointer to a name.
    Ptr(Name<'a>),
    /// An alias (its canonical name is checked, not kept).
    Cname,
    /// A service location: the host that offers the service (priority,
    /// weight and port are not kept).
    Srv(Name<'a>),
    /// Character strings.
    Txt(Txt<'a>),
    /// A question, or a type that is not decoded.
    Other,
}

/// The strings of a TXT record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Txt<'a>(&'a [u8]);

impl<'a> Txt<'a> {
    /// The character strings, in order.
    pub(crate) fn strings(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let s = tail.get(..usize::from(len))?;
            rest = tail.get(usize::from(len)..)?;
            Some(s)
        })
    }
}

impl<'a> Entry<'a> {
    /// Decodes the record data of the types that are understood.
    pub(crate) fn data(&self) -> Result<Rdata<'a>, Error> {
        if self.section == Section::Question {
            return Ok(Rdata::Other);
        }
        let end = self.rdata_at + self.rdata.len();
        // A name that must fill the rest of the record data.
        let name_at = |at: usize| -> Result<Name<'a>, Error> {
            let (name, after) = read_name(self.msg, at)?;
            if after != end {
                return Err(Error::Rdata);
            }
            Ok(name)
        };
        Ok(match self.rtype {
            TYPE_A => Rdata::A(Ipv4Addr::from(<[u8; 4]>::try_from(self.rdata).map_err(|_| Error::Rdata)?)),
            TYPE_AAAA => Rdata::Aaaa(Ipv6Addr::from(<[u8; 16]>::try_from(self.rdata).map_err(|_| Error::Rdata)?)),
            TYPE_PTR => Rdata::Ptr(name_at(self.rdata_at)?),
            TYPE_CNAME => {
                name_at(self.rdata_at)?;
                Rdata::Cname
            }
            TYPE_SRV if self.rdata.len() > 6 => Rdata::Srv(name_at(self.rdata_at + 6)?),
            TYPE_SRV => return Err(Error::Rdata),
            TYPE_TXT => {
                let txt = Txt(self.rdata);
                let used: usize = txt.strings().map(|s| s.len() + 1).sum();
                if used != self.rdata.len() {
                    return Err(Error::Rdata);
                }
                Rdata::Txt(txt)
            }
            _ => Rdata::Other,
        })
    }
}

/// A message whose header has been read and whose counts fit its length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Message<'a> {
    msg: &'a [u8],
    /// The header.
    pub header: Header,
}

impl<'a> Message<'a> {
    /// Reads the header of `msg` and checks the counts against its length.
    pub(crate) fn read(msg: &'a [u8]) -> Result<Self, Error> {
        let header = Header::read(msg)?;
        if header.min_len() > msg.len() {
            return Err(Error::Counts);
        }
        Ok(Message { msg, header })
    }

    /// Questions then records, in wire order; stops after the first error.
    pub(crate) fn entries(&self) -> Entries<'a> {
        Entries { msg: self.msg, pos: HEADER_LEN, counts: self.header.counts, section: 0, failed: false }
    }
}

/// Iterator over the entries of a [`Message`].
pub(crate) struct Entries<'a> {
    msg: &'a [u8],
    pos: usize,
    counts: [u16; 4],
    section: usize,
    failed: bool,
}

impl<'a> Entries<'a> {
    fn read(&mut self, section: Section) -> Result<Entry<'a>, Error> {
        let (name, at) = read_name(self.msg, self.pos)?;
        let field = |off: usize| be16(self.msg, at + off).ok_or(Error::Truncated);
        let rtype = field(0)?;
        field(2)?; // class
        if section == Section::Question {
            self.pos = at + 4;
            return Ok(Entry { section, name, rtype, rdata: &[], msg: self.msg, rdata_at: self.pos });
        }
        be32(self.msg, at + 4).ok_or(Error::Truncated)?;
        let rdata_at = at + 10;
        let rdata = self.msg.get(rdata_at..rdata_at + usize::from(field(8)?)).ok_or(Error::Truncated)?;
        self.pos = rdata_at + rdata.len();
        Ok(Entry { section, name, rtype, rdata, msg: self.msg, rdata_at })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while self.counts.get(self.section) == Some(&0) {
            self.section += 1;
        }
        let (section, left) = (*SECTIONS.get(self.section)?, self.counts.get_mut(self.section)?);
        *left -= 1;
        let entry = self.read(section);
        self.failed = entry.is_err();
        Some(entry)
    }
}

/// A DNS-over-TCP frame (2-byte length prefix, RFC 1035 section 4.2.2).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A whole message and the bytes it used, prefix included.
    Whole {
        /// The message.
        msg: &'a [u8],
        /// Prefix plus message length.
        used: usize,
    },
    /// More bytes are needed.
    Incomplete,
    /// The prefix and header do not look like a DNS message.
    Invalid,
}

/// Reads one length-prefixed message from the start of a TCP stream.
pub(crate) fn tcp_frame(data: &[u8]) -> Frame<'_> {
    let (Some(len), Ok(header)) = (be16(data, 0), Header::read(data.get(2..).unwrap_or_default())) else {
        return Frame::Incomplete;
    };
    let len = usize::from(len);
    if len < HEADER_LEN || header.min_len() > len {
        return Frame::Invalid;
    }
    match data.get(2..2 + len) {
        Some(msg) => Frame::Whole { msg, used: 2 + len },
        None => Frame::Incomplete,
    }
}

/// Strict check that `msg` starts like a standard DNS query or response
/// (for recognising DNS on any port): opcode 0, Z clear, small counts that
/// fit the length (`declared_len`, which may exceed the bytes present on a
/// stream), and a first question whose printable, uncompressed name is
/// followed exactly by its type and class.
pub(crate) fn looks_like_message(msg: &[u8], declared_len: usize) -> bool {
    let Ok(h) = Header::read(msg) else { return false };
    let [qd, an, ns, ar] = h.counts;
    let response = h.is_response();
    let counts_ok = (1..=4).contains(&qd) && an <= 64 && ns <= 32 && ar <= 32 && (response || (an == 0 && ns == 0 && ar <= 2));
    let flags_ok = h.opcode() == 0 && !h.z() && (if response { h.rcode() <= 10 } else { h.rcode() == 0 && h.flags & 0x0480 == 0 });
    if !counts_ok || !flags_ok || h.min_len() > declared_len {
        return false;
    }
    let mut pos = HEADER_LEN;
    loop {
        let Some(&len) = msg.get(pos) else { return false };
        if len == 0 {
            break;
        }
        // Plain labels only (nothing earlier to point to), of visible ASCII.
        let Some(label) = msg.get(pos + 1..pos + 1 + usize::from(len)) else { return false };
        if len > 63 || pos + 1 + usize::from(len) - HEADER_LEN > MAX_NAME_WIRE || !label.iter().all(|b| b.is_ascii_graphic()) {
            return false;
        }
        // A NetBIOS-encoded first label (32 letters A-P) is NBNS, not DNS.
        if pos == HEADER_LEN && len == 32 && label.iter().all(|b| (b'A'..=b'P').contains(b)) {
            return false;
        }
        pos += 1 + usize::from(len);
    }
    let (Some(qtype), Some(qclass)) = (be16(msg, pos + 1), be16(msg, pos + 3)) else { return false };
    let end = pos + 5;
    let rest_ok = if qd == 1 && an == 0 && ns == 0 && ar == 0 {
        end == declared_len
    } else {
        end + (h.min_len() - HEADER_LEN - MIN_QUESTION) <= declared_len
    };
    qtype != 0 && matches!(qclass, 1 | 3 | 4 | 254 | 255) && rest_ok
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::Flow;
    use crate::Dissector;
    use palisade_flow::Direction;

    /// Appends a name in uncompressed form.
    pub(crate) fn name(out: &mut Vec<u8>, dotted: &str) {
        for label in dotted.split('.').filter(|l| !l.is_empty()) {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
    }

    /// A header with the given flags and counts.
    pub(crate) fn header(flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut out = vec![0x12, 0x34];
        out.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            out.extend_from_slice(&c.to_be_bytes());
        }
        out
    }

    /// Appends a record with an uncompressed owner name.
    pub(crate) fn record(out: &mut Vec<u8>, owner: &str, rtype: u16, rdata: &[u8]) {
        name(out, owner);
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(rdata);
    }

    /// Encodes a name as record data.
    pub(crate) fn name_data(dotted: &str) -> Vec<u8> {
        let mut out = Vec::new();
        name(&mut out, dotted);
        out
    }

    /// Feeds DNS-style messages sent in `dir` to `flow`: over TCP each with
    /// its 2-byte length first (and consumed whole), else as UDP datagrams.
    pub(crate) fn feed_messages<D: Dissector>(flow: &mut Flow<D>, dir: Direction, msgs: &[&[u8]], tcp: bool) {
        for msg in msgs {
            if tcp {
                let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(msg);
                flow.whole_streams(&[(dir, framed)]);
            } else {
                flow.datagrams(&[(dir, msg)]);
            }
        }
    }

    fn query(qname: &str) -> Vec<u8> {
        let mut m = header(0x0100, [1, 0, 0, 0]);
        name(&mut m, qname);
        m.extend_from_slice(&[0, 1, 0, 1]);
        m
    }

    #[test]
    fn reads_query_and_compressed_answers() {
        let mut m = header(0x8180, [1, 2, 0, 0]);
        name(&mut m, "www.example.com");
        m.extend_from_slice(&[0, 1, 0, 1]);
        // Answer 1: owner is a pointer to the question name (offset 12).
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6]);
        m.extend_from_slice(&[3, b'w', b'e', b'b', 0xc0, 16]);
        // Answer 2: A record owned by the CNAME target (offset of "web").
        let web = m.len() - 6;
        m.extend_from_slice(&[0xc0, web as u8, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 168, 1, 7]);
        let msg = Message::read(&m).unwrap();
        assert!(msg.header.is_response());
        let entries: Vec<_> = msg.entries().collect::<Result<_, _>>().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].name.text().as_str(), Some("www.example.com"));
        assert!(matches!(entries[1].data().unwrap(), Rdata::Cname));
        assert_eq!(entries[2].name.text().as_str(), Some("web.example.com"));
        assert!(matches!(entries[2].data().unwrap(), Rdata::A(a) if a == Ipv4Addr::new(192, 168, 1, 7)));
    }

    #[test]
    fn pointer_loops_and_forward_pointers_fail() {
        // A pointer to itself.
        let mut m = header(0, [1, 0, 0, 0]);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(Message::read(&m).unwrap().entries().next().unwrap().unwrap_err(), Error::Pointer);
        // A label followed by a pointer back to its own start: a loop.
        let mut m = header(0, [2, 0, 0, 0]);
        m.extend_from_slice(&[1, b'a', 0, 0, 1, 0, 1]);
        m.extend_from_slice(&[1, b'b', 0xc0, 19, 0, 1, 0, 1]);
        assert_eq!(Message::read(&m).unwrap().entries().nth(1).unwrap().unwrap_err(), Error::Pointer);
        // A pointer into the header.
        let mut m = header(0, [1, 0, 0, 0]);
        m.extend_from_slice(&[0xc0, 2, 0, 1, 0, 1]);
        assert_eq!(read_name(&m, 12).unwrap_err(), Error::Pointer);
        // A reserved label type.
        let mut m = header(0, [1, 0, 0, 0]);
        m.extend_from_slice(&[0x41, 0, 0, 1, 0, 1]);
        assert_eq!(read_name(&m, 12).unwrap_err(), Error::Label);
    }

    #[test]
    fn names_are_bounded() {
        let mut m = header(0, [1, 0, 0, 0]);
        for _ in 0..5 {
            m.push(63);
            m.extend_from_slice(&[b'x'; 63]);
        }
        m.push(0);
        m.extend_from_slice(&[0, 1, 0, 1]);
        assert_eq!(read_name(&m, 12).unwrap_err(), Error::NameLength);
        let m = header(0, [1, 0, 0, 0]);
        assert_eq!(read_name(&m, 12).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn counts_and_truncation() {
        assert_eq!(Message::read(&header(0, [40, 0, 0, 0])).unwrap_err(), Error::Counts);
        assert_eq!(Message::read(&[0; 5]).unwrap_err(), Error::Truncated);
        let mut m = header(0x8000, [0, 1, 0, 0]);
        record(&mut m, "a.local", TYPE_A, &[10, 0, 0, 1]);
        m.truncate(m.len() - 2);
        let msg = Message::read(&m).unwrap();
        assert_eq!(msg.entries().next().unwrap().unwrap_err(), Error::Truncated);
        let mut m = header(0x8000, [0, 1, 0, 0]);
        record(&mut m, "a.local", TYPE_A, &[10, 0, 1]);
        let entry = Message::read(&m).unwrap().entries().next().unwrap().unwrap();
        assert_eq!(entry.data().unwrap_err(), Error::Rdata);
    }

    #[test]
    fn srv_txt_and_ptr_data() {
        let mut m = header(0x8400, [0, 3, 0, 0]);
        let mut srv = vec![0, 0, 0, 0, 0x02, 0x77];
        srv.extend(name_data("plc.local"));
        record(&mut m, "x._ipp._tcp.local", TYPE_SRV, &srv);
        record(&mut m, "x._ipp._tcp.local", TYPE_TXT, b"\x05ty=HP\x00\x03a=b");
        record(&mut m, "_ipp._tcp.local", TYPE_PTR, &name_data("x._ipp._tcp.local"));
        let entries: Vec<_> = Message::read(&m).unwrap().entries().map(|e| e.unwrap().data().unwrap()).collect();
        let Rdata::Srv(target) = entries[0] else { panic!() };
        assert_eq!(target.text().as_str(), Some("plc.local"));
        let Rdata::Txt(txt) = entries[1] else { panic!() };
        assert_eq!(txt.strings().collect::<Vec<_>>(), vec![&b"ty=HP"[..], b"", b"a=b"]);
        let Rdata::Ptr(target) = entries[2] else { panic!() };
        assert_eq!(target.text().as_str(), Some("x._ipp._tcp.local"));
        // A TXT whose strings overrun the record.
        let mut m = header(0x8400, [0, 1, 0, 0]);
        record(&mut m, "x.local", TYPE_TXT, b"\x09ab");
        assert_eq!(Message::read(&m).unwrap().entries().next().unwrap().unwrap().data().unwrap_err(), Error::Rdata);
    }

    #[test]
    fn reverse_names() {
        let ip = |dotted: &str| {
            let m = name_data(dotted);
            let mut full = header(0, [1, 0, 0, 0]);
            full.extend(m);
            read_name(&full, 12).unwrap().0.reverse_ip()
        };
        assert_eq!(ip("7.2.0.10.in-addr.arpa"), Some("10.0.2.7".parse().unwrap()));
        assert_eq!(ip("37.78.254.169.IN-ADDR.ARPA"), Some("169.254.78.37".parse().unwrap()));
        assert_eq!(
            ip("4.c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa"),
            Some("fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4".parse().unwrap())
        );
        assert_eq!(
            ip("5.2.E.4.4.4.D.5.1.5.5.5.3.4.9.8.0.0.0.0.0.0.0.0.0.0.0.0.0.8.E.F.ip6.arpa"),
            Some("fe80::8943:5551:5d44:4e25".parse().unwrap())
        );
        assert_eq!(ip("256.2.0.10.in-addr.arpa"), None);
        assert_eq!(ip("2.0.10.in-addr.arpa"), None);
        assert_eq!(ip("x.2.0.10.in-addr.arpa"), None);
        assert_eq!(ip("7.2.0.10.in-addr.arpa.evil"), None);
        assert_eq!(ip("www.example.com"), None);
    }

    #[test]
    fn probe_is_strict() {
        let q = query("www.example.com");
        assert!(looks_like_message(&q, q.len()));
        // Trailing garbage after a lone question.
        let mut longer = q.clone();
        longer.push(0);
        assert!(!looks_like_message(&longer, longer.len()));
        // Opcode 1, or Z set.
        let mut bad = q.clone();
        bad[2] = 0x08;
        assert!(!looks_like_message(&bad, bad.len()));
        let mut bad = q.clone();
        bad[3] = 0x40;
        assert!(!looks_like_message(&bad, bad.len()));
        // Class 9, type 0.
        let mut bad = q.clone();
        let n = bad.len();
        bad[n - 1] = 9;
        assert!(!looks_like_message(&bad, n));
        let mut bad = q.clone();
        bad[n - 3] = 0;
        assert!(!looks_like_message(&bad, n));
        // An NBNS name query (NetBIOS-encoded "WORKGROUP<1d>").
        let mut nbns = header(0x0110, [1, 0, 0, 0]);
        name(&mut nbns, "FHEPFCELEHFCEPFFFACACACACACACABN");
        nbns.extend_from_slice(&[0, 0x20, 0, 1]);
        assert!(!looks_like_message(&nbns, nbns.len()));
        // Random and text payloads.
        assert!(!looks_like_message(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27));
        assert!(!looks_like_message(&[0u8; 40], 40));
        assert!(!looks_like_message(&[0xffu8; 40], 40));
        // A response with an answer.
        let mut r = header(0x8180, [1, 1, 0, 0]);
        name(&mut r, "a.example");
        r.extend_from_slice(&[0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1]);
        assert!(looks_like_message(&r, r.len()));
        assert!(!looks_like_message(&r, r.len() - 12));
    }

    #[test]
    fn tcp_frames() {
        let q = query("example.org");
        let mut s = (q.len() as u16).to_be_bytes().to_vec();
        s.extend_from_slice(&q);
        assert_eq!(tcp_frame(&s), Frame::Whole { msg: &q[..], used: s.len() });
        assert_eq!(tcp_frame(&s[..s.len() - 1]), Frame::Incomplete);
        assert_eq!(tcp_frame(&s[..5]), Frame::Incomplete);
        assert_eq!(tcp_frame(&[0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Frame::Invalid);
        assert_eq!(tcp_frame(&[0, 20, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0]), Frame::Invalid);
    }
}
