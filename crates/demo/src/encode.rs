//! Encoders shared by several protocols: DNS-style messages (DNS, LLMNR,
//! mDNS, NBNS) and ASN.1 BER (SNMP, SPNEGO).

/// DNS record types used by the generator.
pub(crate) const T_A: u16 = 1;
pub(crate) const T_PTR: u16 = 12;
pub(crate) const T_TXT: u16 = 16;
pub(crate) const T_AAAA: u16 = 28;
pub(crate) const T_SRV: u16 = 33;
pub(crate) const T_NB: u16 = 32;
/// Class IN.
pub(crate) const C_IN: u16 = 1;
/// Class IN with the mDNS cache-flush bit.
pub(crate) const C_IN_FLUSH: u16 = 0x8001;

/// Builder of a DNS-format message; sections must be filled in order.
pub(crate) struct DnsMsg {
    buf: Vec<u8>,
    counts: [u16; 4],
}

/// Message sections.
pub(crate) const ANSWER: usize = 1;
pub(crate) const ADDITIONAL: usize = 3;

impl DnsMsg {
    /// A message with transaction `id` and header `flags`.
    pub(crate) fn new(id: u16, flags: u16) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&id.to_be_bytes());
        buf.extend_from_slice(&flags.to_be_bytes());
        buf.extend_from_slice(&[0; 8]);
        DnsMsg { buf, counts: [0; 4] }
    }

    /// Adds a question.
    pub(crate) fn question(mut self, name: &str, qtype: u16, qclass: u16) -> Self {
        dns_name(&mut self.buf, name);
        self.buf.extend_from_slice(&qtype.to_be_bytes());
        self.buf.extend_from_slice(&qclass.to_be_bytes());
        self.counts[0] += 1;
        self
    }

    /// Adds a resource record to `section` (ANSWER or ADDITIONAL; 2 is the authority section).
    pub(crate) fn record(mut self, section: usize, name: &str, rtype: u16, class: u16, ttl: u32, rdata: &[u8]) -> Self {
        dns_name(&mut self.buf, name);
        self.buf.extend_from_slice(&rtype.to_be_bytes());
        self.buf.extend_from_slice(&class.to_be_bytes());
        self.buf.extend_from_slice(&ttl.to_be_bytes());
        self.buf.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(rdata);
        if let Some(c) = self.counts.get_mut(section) {
            *c += 1;
        }
        self
    }

    /// The encoded message.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        for (i, c) in self.counts.iter().enumerate() {
            self.buf[4 + 2 * i..6 + 2 * i].copy_from_slice(&c.to_be_bytes());
        }
        self.buf
    }
}

/// Appends `name` as uncompressed DNS labels (dots separate labels; the last label may hold dots
/// only through `\.` escapes, which instance names of DNS-SD use).
pub(crate) fn dns_name(out: &mut Vec<u8>, name: &str) {
    let mut label = Vec::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                label.push(b'.');
            }
            '.' => {
                out.push(label.len() as u8);
                out.append(&mut label);
            }
            c => {
                let mut tmp = [0u8; 4];
                label.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    if !label.is_empty() {
        out.push(label.len() as u8);
        out.append(&mut label);
    }
    out.push(0);
}

/// Rdata of an SRV record.
pub(crate) fn srv_rdata(port: u16, target: &str) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0];
    out.extend_from_slice(&port.to_be_bytes());
    dns_name(&mut out, target);
    out
}

/// Rdata of a PTR or CNAME record.
pub(crate) fn name_rdata(target: &str) -> Vec<u8> {
    let mut out = Vec::new();
    dns_name(&mut out, target);
    out
}

/// Rdata of a TXT record from its strings.
pub(crate) fn txt_rdata(items: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        out.push(item.len() as u8);
        out.extend_from_slice(item.as_bytes());
    }
    out
}

/// The NetBIOS first-level encoding of a name (padded to 15 characters, then `suffix`).
pub(crate) fn netbios_name(name: &str, suffix: u8) -> String {
    let mut raw: Vec<u8> = name.bytes().take(15).map(|b| b.to_ascii_uppercase()).collect();
    raw.resize(15, b' ');
    raw.push(suffix);
    raw.iter().flat_map(|b| [char::from(b'A' + (b >> 4)), char::from(b'A' + (b & 0x0f))]).collect()
}

/// BER universal tags used by the generator.
pub(crate) const BER_INTEGER: u8 = 0x02;
pub(crate) const BER_OCTETS: u8 = 0x04;
pub(crate) const BER_NULL: u8 = 0x05;
pub(crate) const BER_OID: u8 = 0x06;
pub(crate) const BER_SEQUENCE: u8 = 0x30;

/// A BER tag-length-value.
pub(crate) fn ber(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
    out.extend_from_slice(content);
    out
}

/// A BER INTEGER (two's complement, minimal length).
pub(crate) fn ber_int(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    ber(BER_INTEGER, &bytes[start..])
}

/// A BER OBJECT IDENTIFIER from its arcs (at least two).
pub(crate) fn ber_oid(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::new();
    if let [a, b, rest @ ..] = arcs {
        content.push((a * 40 + b) as u8);
        for &arc in rest {
            let mut groups = vec![(arc & 0x7f) as u8];
            let mut v = arc >> 7;
            while v > 0 {
                groups.push(0x80 | (v & 0x7f) as u8);
                v >>= 7;
            }
            content.extend(groups.iter().rev());
        }
    }
    ber(BER_OID, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netbios_encoding() {
        assert_eq!(netbios_name("FS01", 0x20), "EGFDDADBCACACACACACACACACACACACA");
    }

    #[test]
    fn ber_encodings() {
        assert_eq!(ber_int(0), vec![2, 1, 0]);
        assert_eq!(ber_int(128), vec![2, 2, 0, 0x80]);
        assert_eq!(ber_oid(&[1, 3, 6, 1, 4, 1, 311]), vec![6, 7, 0x2b, 6, 1, 4, 1, 0x82, 0x37]);
    }

    #[test]
    fn dns_names_with_escaped_dots() {
        let mut out = Vec::new();
        dns_name(&mut out, r"a\.b.local");
        assert_eq!(out, b"\x03a.b\x05local\x00");
    }
}
