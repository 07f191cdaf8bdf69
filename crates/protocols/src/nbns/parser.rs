//! NetBIOS names (RFC 1001/1002 first-level encoding) and the name service
//! message layout, pure and zero-copy.

use palisade_decode::be16;
use std::net::Ipv4Addr;

/// Length of the name service header.
const HEADER_LEN: usize = 12;
/// Resource record type NB (name to address).
pub(crate) const TYPE_NB: u16 = 0x20;
/// Resource record type NBSTAT (node status).
pub(crate) const TYPE_NBSTAT: u16 = 0x21;
/// Opcode: name query.
pub(crate) const OP_QUERY: u8 = 0;
/// Opcode: name registration.
pub(crate) const OP_REGISTRATION: u8 = 5;
/// Opcode: name refresh (8, and 9 as Windows sends it).
pub(crate) const OP_REFRESH: [u8; 2] = [8, 9];
/// Opcode: multi-homed name registration.
pub(crate) const OP_MULTIHOMED: u8 = 15;
/// Most compression pointers followed while reading one name.
const MAX_JUMPS: usize = 4;
/// Most scope labels read after the encoded name.
const MAX_LABELS: usize = 64;

/// A decoded NetBIOS name: 15 name bytes and the suffix (service) byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Name {
    bytes: [u8; 15],
    /// The 16th byte: what the name stands for (0x00 workstation, 0x20 server...).
    pub suffix: u8,
}

impl Name {
    /// Decodes the 32 characters 'A'..='P' of a first-level encoded name.
    pub(crate) fn decode(encoded: &[u8]) -> Option<Name> {
        let mut raw = [0u8; 16];
        if encoded.len() != 32 {
            return None;
        }
        for (out, pair) in raw.iter_mut().zip(encoded.chunks_exact(2)) {
            let [hi, lo] = <[u8; 2]>::try_from(pair).ok()?;
            if !(b'A'..=b'P').contains(&hi) || !(b'A'..=b'P').contains(&lo) {
                return None;
            }
            *out = ((hi - b'A') << 4) | (lo - b'A');
        }
        Name::from_raw(&raw)
    }

    /// A name from its 16 raw bytes (as a node status response lists them).
    pub(crate) fn from_raw(raw: &[u8]) -> Option<Name> {
        let (&suffix, name) = raw.get(..16)?.split_last()?;
        Some(Name { bytes: name.try_into().ok()?, suffix })
    }

    /// The name without its padding, if it is printable ASCII (not the
    /// "*" wildcard of node status queries).
    pub(crate) fn text(&self) -> Option<&str> {
        let end = self.bytes.iter().rposition(|&b| b != b' ' && b != 0).map_or(0, |i| i + 1);
        let name = self.bytes.get(..end)?;
        let ok = !name.is_empty() && name != b"*" && name.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
        if ok {
            std::str::from_utf8(name).ok()
        } else {
            None
        }
    }
}

/// The name service header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Flags word: R, opcode, NM flags and rcode.
    pub flags: u16,
    /// Question entries.
    pub qdcount: u16,
    /// Answer records.
    pub ancount: u16,
    /// Authority records.
    pub nscount: u16,
    /// Additional records.
    pub arcount: u16,
}

impl Header {
    /// True for a response.
    pub(crate) fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The operation code.
    pub(crate) fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }

    /// The response code (0 is success).
    pub(crate) fn rcode(&self) -> u8 {
        (self.flags & 0x0f) as u8
    }

    /// True if the header is one RFC 1002 allows: a known opcode, the two
    /// reserved flag bits clear, a known rcode, at most one entry per
    /// section and at least one name.
    pub(crate) fn is_sane(&self) -> bool {
        let known_op = matches!(self.opcode(), 0 | 5..=9 | 15);
        let counts = [self.qdcount, self.ancount, self.nscount, self.arcount];
        known_op
            && self.flags & 0x0060 == 0
            && self.rcode() <= 7
            && counts.iter().all(|&c| c <= 1)
            && self.qdcount + self.ancount + self.nscount >= 1
    }
}

/// Reads the header.
pub(crate) fn header(msg: &[u8]) -> Option<Header> {
    Some(Header { flags: be16(msg, 2)?, qdcount: be16(msg, 4)?, ancount: be16(msg, 6)?, nscount: be16(msg, 8)?, arcount: be16(msg, 10)? })
}

/// Reads the encoded name at `at` (a length-32 label, optional scope
/// labels, or a compression pointer to such a name); returns the name and
/// the offset after it.
pub(crate) fn read_name(msg: &[u8], at: usize) -> Option<(Name, usize)> {
    let mut pos = at;
    let mut after = None;
    for _ in 0..=MAX_JUMPS {
        let len = *msg.get(pos)?;
        if len & 0xc0 == 0xc0 {
            let target = usize::from(be16(msg, pos)? & 0x3fff);
            after = after.or(Some(pos + 2));
            pos = target;
            continue;
        }
        if len != 32 {
            return None;
        }
        let name = Name::decode(msg.get(pos + 1..pos + 33)?)?;
        let end = skip_scope(msg, pos + 33)?;
        return Some((name, after.unwrap_or(end)));
    }
    None
}

/// Skips the scope labels after an encoded name; returns the offset after
/// the terminating zero.
fn skip_scope(msg: &[u8], mut pos: usize) -> Option<usize> {
    for _ in 0..MAX_LABELS {
        let len = usize::from(*msg.get(pos)?);
        if len == 0 {
            return Some(pos + 1);
        }
        if len > 63 {
            return None;
        }
        pos += 1 + len;
    }
    None
}

/// True if `payload` is a plausible name service message: a sane header
/// and a valid encoded name of type NB or NBSTAT, class IN, right after it.
pub(crate) fn looks_like_nbns(payload: &[u8]) -> bool {
    header(payload).is_some_and(|h| h.is_sane())
        && read_name(payload, HEADER_LEN)
            .is_some_and(|(_, end)| matches!(be16(payload, end), Some(TYPE_NB | TYPE_NBSTAT)) && be16(payload, end + 2) == Some(1))
}

/// One resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    /// The owner name.
    pub name: Name,
    /// Record type (NB, NBSTAT...).
    pub rtype: u16,
    /// Record data.
    pub rdata: &'a [u8],
}

/// A message's entries in order: the question name, then the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    /// Header.
    pub header: Header,
    /// The question's name, if there is a question.
    pub question: Option<Name>,
    /// The first answer record.
    pub answer: Option<Record<'a>>,
    /// The first additional record.
    pub additional: Option<Record<'a>>,
}

/// Reads a whole name service message; `None` if the header is not sane or
/// an entry runs past the end.
pub(crate) fn message(msg: &[u8]) -> Option<Message<'_>> {
    let header = header(msg)?;
    if !header.is_sane() {
        return None;
    }
    let mut pos = HEADER_LEN;
    let mut question = None;
    if header.qdcount == 1 {
        let (name, end) = read_name(msg, pos)?;
        msg.get(end..end + 4)?;
        question = Some(name);
        pos = end + 4;
    }
    let mut records = [None, None, None];
    for (slot, count) in records.iter_mut().zip([header.ancount, header.nscount, header.arcount]) {
        if count == 1 {
            let (record, end) = read_record(msg, pos)?;
            *slot = Some(record);
            pos = end;
        }
    }
    let [answer, _, additional] = records;
    Some(Message { header, question, answer, additional })
}

fn read_record(msg: &[u8], at: usize) -> Option<(Record<'_>, usize)> {
    let (name, pos) = read_name(msg, at)?;
    let rtype = be16(msg, pos)?;
    let rdlength = usize::from(be16(msg, pos + 8)?);
    let rdata = msg.get(pos + 10..pos + 10 + rdlength)?;
    Some((Record { name, rtype, rdata }, pos + 10 + rdlength))
}

/// The (group flag, address) entries of NB record data.
pub(crate) fn nb_entries(rdata: &[u8]) -> impl Iterator<Item = (bool, Ipv4Addr)> + '_ {
    rdata.chunks_exact(6).filter_map(|e| {
        let flags = be16(e, 0)?;
        let addr: [u8; 4] = e.get(2..6)?.try_into().ok()?;
        Some((flags & 0x8000 != 0, Ipv4Addr::from(addr)))
    })
}

/// The active (group flag, name) entries of a node status response's name
/// table (names being deregistered or in conflict are left out).
pub(crate) fn node_status_names(rdata: &[u8]) -> impl Iterator<Item = (bool, Name)> + '_ {
    let count = rdata.first().map_or(0, |&n| usize::from(n));
    let table = rdata.get(1..).unwrap_or_default();
    table.chunks_exact(18).take(count).filter_map(|e| {
        let flags = be16(e, 16)?;
        let name = Name::from_raw(e)?;
        (flags & 0x1800 == 0).then_some((flags & 0x8000 != 0, name))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// First-level encoding of `name` (padded with spaces) and `suffix`, with length byte and terminator.
    pub(crate) fn encode(name: &str, suffix: u8) -> Vec<u8> {
        let mut raw = [b' '; 16];
        raw[..name.len()].copy_from_slice(name.as_bytes());
        raw[15] = suffix;
        let mut out = vec![32];
        for b in raw {
            out.push(b'A' + (b >> 4));
            out.push(b'A' + (b & 0x0f));
        }
        out.push(0);
        out
    }

    /// A registration request for `name` at `addr` (group or unique).
    pub(crate) fn registration(name: &str, suffix: u8, group: bool, addr: [u8; 4]) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1];
        m.extend(encode(name, suffix));
        m.extend([0, 0x20, 0, 1, 0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, if group { 0x80 } else { 0 }, 0]);
        m.extend(addr);
        m
    }

    #[test]
    fn decodes_names() {
        let enc = encode("XSTREAM_HY", 0);
        let name = Name::decode(&enc[1..33]).unwrap();
        assert_eq!((name.text(), name.suffix), (Some("XSTREAM_HY"), 0));
        assert_eq!(Name::decode(b"FDEDEBEEEBCNFAEDCNDADGDADIDDDJAA").unwrap().text(), Some("SCADA-PC-060839"));
        assert_eq!(Name::decode(&[b'Q'; 32]), None);
        assert_eq!(Name::decode(&enc[1..32]), None);
        let mut wildcard = [0u8; 16];
        wildcard[0] = b'*';
        assert_eq!(Name::from_raw(&wildcard).unwrap().text(), None);
        assert_eq!(Name::from_raw(b"A\x01             \0").unwrap().text(), None);
    }

    #[test]
    fn reads_registration() {
        let m = registration("PLC-7", 0x00, false, [10, 0, 0, 7]);
        assert!(looks_like_nbns(&m));
        let msg = message(&m).unwrap();
        assert_eq!(msg.header.opcode(), OP_REGISTRATION);
        assert_eq!(msg.question.unwrap().text(), Some("PLC-7"));
        let ar = msg.additional.unwrap();
        assert_eq!(ar.name, msg.question.unwrap());
        assert_eq!(nb_entries(ar.rdata).collect::<Vec<_>>(), vec![(false, Ipv4Addr::new(10, 0, 0, 7))]);
        assert!(message(&m[..m.len() - 1]).is_none());
    }

    #[test]
    fn pointer_loops_end() {
        let mut m = vec![0, 0, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend([0xc0, 0x0c, 0, 0x20, 0, 1]);
        assert!(read_name(&m, 12).is_none());
        assert!(!looks_like_nbns(&m));
    }

    #[test]
    fn scope_labels_are_skipped() {
        let mut m = vec![0, 0, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
        let mut name = encode("HOST", 0x20);
        name.pop();
        m.extend(name);
        m.extend([3, b'c', b'o', b'm', 0, 0, 0x20, 0, 1]);
        assert!(looks_like_nbns(&m));
        assert_eq!(message(&m).unwrap().question.unwrap().suffix, 0x20);
    }

    #[test]
    fn header_sanity() {
        let mut m = registration("PLC-7", 0, false, [10, 0, 0, 7]);
        m[3] |= 0x40;
        assert!(!looks_like_nbns(&m));
        let mut m = registration("PLC-7", 0, false, [10, 0, 0, 7]);
        m[2] = 0x18; // opcode 3
        assert!(!looks_like_nbns(&m));
        assert!(!looks_like_nbns(&[0u8; 60]));
    }

    #[test]
    fn node_status_table() {
        let mut rdata = vec![3];
        for (name, suffix, flags) in [("GUNNAR", 0u8, 0x0400u16), ("WG", 0x1e, 0x8400), ("OLD", 0x20, 0x1400)] {
            let mut raw = [b' '; 16];
            raw[..name.len()].copy_from_slice(name.as_bytes());
            raw[15] = suffix;
            rdata.extend(raw);
            rdata.extend(flags.to_be_bytes());
        }
        let names: Vec<_> = node_status_names(&rdata).map(|(g, n)| (g, n.text().unwrap().to_string(), n.suffix)).collect();
        assert_eq!(names, vec![(false, "GUNNAR".into(), 0), (true, "WG".into(), 0x1e)]);
    }
}
