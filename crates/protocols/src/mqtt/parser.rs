//! MQTT control packets (MQTT 3.1, 3.1.1 and 5.0), pure and zero-copy.
//!
//! Only what the dissector reports is read: the fixed header of every
//! packet, CONNECT, CONNACK, the topic of PUBLISH, the acknowledgements'
//! reason codes, and the topic filters of SUBSCRIBE. MQTT 5 property
//! blocks are walked property by property, so a malformed one is noticed.

use std::fmt;

/// CONNECT: a client opens a session.
pub(crate) const CONNECT: u8 = 1;
/// CONNACK: the broker's answer to CONNECT.
pub(crate) const CONNACK: u8 = 2;
/// PUBLISH: a message on a topic.
pub(crate) const PUBLISH: u8 = 3;
/// PUBACK: QoS 1 acknowledgement.
pub(crate) const PUBACK: u8 = 4;
/// PUBREC: QoS 2 reception.
pub(crate) const PUBREC: u8 = 5;
/// SUBSCRIBE: a client asks for topics.
pub(crate) const SUBSCRIBE: u8 = 8;
/// SUBACK: the broker's answer to SUBSCRIBE.
pub(crate) const SUBACK: u8 = 9;
/// AUTH: MQTT 5 authentication exchange.
const AUTH: u8 = 15;

/// Protocol level of MQTT 3.1 ("MQIsdp").
pub(crate) const LEVEL_3_1: u8 = 3;
/// Protocol level of MQTT 3.1.1.
pub(crate) const LEVEL_3_1_1: u8 = 4;
/// Protocol level of MQTT 5.0.
pub(crate) const LEVEL_5: u8 = 5;

/// The fixed header of a control packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fixed {
    /// Packet type (1 to 15).
    pub kind: u8,
    /// The low four bits of the first byte (PUBLISH: DUP, QoS, RETAIN).
    pub flags: u8,
    /// Length of the fixed header itself (2 to 5 bytes).
    pub header_len: usize,
    /// Remaining length: the bytes of the packet after the fixed header.
    pub body_len: usize,
}

impl Fixed {
    /// The whole packet's length.
    pub(crate) fn total(&self) -> usize {
        self.header_len + self.body_len
    }
}

/// What is wrong with an MQTT packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Packet type 0 is reserved (15 before MQTT 5).
    ReservedType(u8),
    /// PUBLISH with QoS 3.
    BadQos,
    /// A remaining length longer than four bytes.
    BadLength,
    /// The packet ends before the named field.
    Truncated(&'static str),
    /// CONNECT with an unknown protocol name or level.
    UnknownProtocol,
    /// CONNECT's reserved flag is set.
    ReservedFlag,
    /// An MQTT 5 property identifier that does not exist.
    UnknownProperty(u8),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::ReservedType(t) => write!(f, "MQTT packet type {t} is reserved"),
            Problem::BadQos => f.write_str("MQTT PUBLISH with QoS 3"),
            Problem::BadLength => f.write_str("MQTT remaining length longer than four bytes"),
            Problem::Truncated(what) => write!(f, "MQTT packet ends before its {what}"),
            Problem::UnknownProtocol => f.write_str("MQTT CONNECT with an unknown protocol name or level"),
            Problem::ReservedFlag => f.write_str("MQTT CONNECT with the reserved flag set"),
            Problem::UnknownProperty(id) => write!(f, "MQTT 5 property 0x{id:02x} does not exist"),
        }
    }
}

/// Reads a fixed header; `Ok(None)` when more bytes are needed to tell.
/// `level` is the flow's protocol level (0 when unknown).
pub(crate) fn fixed_header(data: &[u8], level: u8) -> Result<Option<Fixed>, Problem> {
    let Some(&first) = data.first() else { return Ok(None) };
    let (kind, flags) = (first >> 4, first & 0x0f);
    if kind == 0 || (kind == AUTH && level != 0 && level < LEVEL_5) {
        return Err(Problem::ReservedType(kind));
    }
    if kind == PUBLISH && flags & 0x06 == 0x06 {
        return Err(Problem::BadQos);
    }
    let mut body_len = 0usize;
    for (i, &byte) in data.iter().skip(1).take(4).enumerate() {
        body_len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some(Fixed { kind, flags, header_len: i + 2, body_len }));
        }
    }
    if data.len() >= 5 {
        Err(Problem::BadLength)
    } else {
        Ok(None)
    }
}

/// A big-endian cursor over a packet's body.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Problem> {
        let (head, rest) = (self.0.get(..n), self.0.get(n..));
        let (Some(head), Some(rest)) = (head, rest) else { return Err(Problem::Truncated(what)) };
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, Problem> {
        self.take(1, what)?.first().copied().ok_or(Problem::Truncated(what))
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, Problem> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]))
    }

    /// A string or binary field: a two-byte length, then the bytes.
    fn field(&mut self, what: &'static str) -> Result<&'a [u8], Problem> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    /// A variable byte integer (at most four bytes).
    fn varint(&mut self, what: &'static str) -> Result<usize, Problem> {
        let mut value = 0usize;
        for i in 0..4 {
            let byte = self.byte(what)?;
            value |= usize::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Problem::BadLength)
    }

    /// An MQTT 5 property block; returns its topic alias (property 0x23), if any.
    fn properties(&mut self) -> Result<Option<u16>, Problem> {
        const WHAT: &str = "properties";
        let len = self.varint(WHAT)?;
        let mut block = Reader(self.take(len, WHAT)?);
        let mut alias = None;
        while let Ok(id) = block.byte(WHAT) {
            match id {
                0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2a => {
                    block.byte(WHAT)?;
                }
                0x13 | 0x21 | 0x22 => {
                    block.u16(WHAT)?;
                }
                0x23 => alias = Some(block.u16(WHAT)?),
                0x02 | 0x11 | 0x18 | 0x27 => {
                    block.take(4, WHAT)?;
                }
                0x0b => {
                    block.varint(WHAT)?;
                }
                0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1a | 0x1c | 0x1f => {
                    block.field(WHAT)?;
                }
                0x26 => {
                    block.field(WHAT)?;
                    block.field(WHAT)?;
                }
                other => return Err(Problem::UnknownProperty(other)),
            }
        }
        Ok(alias)
    }
}

/// A CONNECT packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Connect<'a> {
    /// Protocol level: [`LEVEL_3_1`], [`LEVEL_3_1_1`] or [`LEVEL_5`].
    pub level: u8,
    /// Connect flags (0x80 user name, 0x40 password, 0x04 will, 0x02 clean session).
    pub flags: u8,
    /// Client identifier (may be empty).
    pub client_id: &'a [u8],
    /// Will topic, when the will flag is set.
    pub will_topic: Option<&'a [u8]>,
    /// User name, when its flag is set.
    pub user: Option<&'a [u8]>,
}

impl Connect<'_> {
    /// A password follows the user name.
    pub(crate) fn password(&self) -> bool {
        self.flags & 0x40 != 0
    }

    /// The client asks for a clean session (a clean start in MQTT 5).
    pub(crate) fn clean(&self) -> bool {
        self.flags & 0x02 != 0
    }
}

/// Reads the protocol name, level and flags that open a CONNECT body.
fn connect_header(r: &mut Reader<'_>) -> Result<(u8, u8), Problem> {
    let name = r.field("protocol name")?;
    // Bridges set the top bit of the level (mosquitto's "try private").
    let level = r.byte("protocol level")? & 0x7f;
    let flags = r.byte("connect flags")?;
    match (name, level) {
        (b"MQIsdp", LEVEL_3_1) | (b"MQTT", LEVEL_3_1_1 | LEVEL_5) => {}
        _ => return Err(Problem::UnknownProtocol),
    }
    if flags & 0x01 != 0 {
        return Err(Problem::ReservedFlag);
    }
    Ok((level, flags))
}

/// True if `payload` starts with a CONNECT packet (fixed header, protocol
/// name and level, sound flags and keep-alive), complete or not.
pub(crate) fn looks_like_connect(payload: &[u8]) -> bool {
    let Ok(Some(fixed)) = fixed_header(payload, 0) else { return false };
    let mut r = Reader(payload.get(fixed.header_len..).unwrap_or_default());
    let will_ok = |flags: u8| flags & 0x04 != 0 || flags & 0x38 == 0;
    fixed.kind == CONNECT
        && fixed.flags == 0
        && connect_header(&mut r).is_ok_and(|(_, flags)| will_ok(flags))
        && r.u16("keep alive").is_ok()
}

/// Reads a CONNECT body.
pub(crate) fn connect(body: &[u8]) -> Result<Connect<'_>, Problem> {
    let mut r = Reader(body);
    let (level, flags) = connect_header(&mut r)?;
    r.u16("keep alive")?;
    if level == LEVEL_5 {
        r.properties()?;
    }
    let client_id = r.field("client id")?;
    let mut will_topic = None;
    if flags & 0x04 != 0 {
        if level == LEVEL_5 {
            r.properties()?;
        }
        will_topic = Some(r.field("will topic")?);
        r.field("will message")?;
    }
    let user = if flags & 0x80 != 0 { Some(r.field("user name")?) } else { None };
    if flags & 0x40 != 0 {
        r.field("password")?;
    }
    Ok(Connect { level, flags, client_id, will_topic, user })
}

/// The return (reason) code of a CONNACK body: 0 is success.
pub(crate) fn connack(body: &[u8]) -> Result<u8, Problem> {
    let mut r = Reader(body);
    r.byte("acknowledge flags")?;
    r.byte("return code")
}

/// The start of a PUBLISH packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Publish<'a> {
    /// Topic name (empty in MQTT 5 when a topic alias stands for it).
    pub topic: &'a [u8],
    /// Packet identifier, for QoS 1 and 2.
    pub packet_id: Option<u16>,
    /// MQTT 5 topic alias.
    pub alias: Option<u16>,
}

/// Reads the variable header of a PUBLISH body (or of its first bytes: the
/// payload is not needed).
pub(crate) fn publish(flags: u8, body: &[u8], level: u8) -> Result<Publish<'_>, Problem> {
    let mut r = Reader(body);
    let topic = r.field("topic")?;
    let packet_id = if flags & 0x06 != 0 { Some(r.u16("packet id")?) } else { None };
    let alias = if level == LEVEL_5 { r.properties()? } else { None };
    Ok(Publish { topic, packet_id, alias })
}

/// The packet id and reason code of a PUBACK or PUBREC body (a reason
/// exists only in MQTT 5; it is 0, success, when left out).
pub(crate) fn publish_ack(body: &[u8]) -> Result<(u16, u8), Problem> {
    let mut r = Reader(body);
    let id = r.u16("packet id")?;
    Ok((id, r.byte("reason code").unwrap_or(0)))
}

/// A SUBSCRIBE packet's identifier and its validated topic filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Subscribe<'a> {
    /// Packet identifier, echoed in the SUBACK.
    pub packet_id: u16,
    /// The (filter, options) list, checked to be well formed.
    list: &'a [u8],
}

impl<'a> Subscribe<'a> {
    /// The topic filters, in order.
    pub(crate) fn filters(&self) -> impl Iterator<Item = &'a [u8]> {
        let mut r = Reader(self.list);
        std::iter::from_fn(move || {
            let filter = r.field("topic filter").ok()?;
            r.byte("subscription options").ok()?;
            Some(filter)
        })
    }
}

/// Reads a SUBSCRIBE body.
pub(crate) fn subscribe(body: &[u8], level: u8) -> Result<Subscribe<'_>, Problem> {
    let mut r = Reader(body);
    let packet_id = r.u16("packet id")?;
    if level == LEVEL_5 {
        r.properties()?;
    }
    let list = r.0;
    if list.is_empty() {
        return Err(Problem::Truncated("topic filter"));
    }
    while !r.0.is_empty() {
        r.field("topic filter")?;
        r.byte("subscription options")?;
    }
    Ok(Subscribe { packet_id, list })
}

/// The packet id and the per-filter return codes of a SUBACK body.
pub(crate) fn suback(body: &[u8], level: u8) -> Result<(u16, &[u8]), Problem> {
    let mut r = Reader(body);
    let id = r.u16("packet id")?;
    if level == LEVEL_5 {
        r.properties()?;
    }
    Ok((id, r.0))
}

/// The protocol version a level stands for.
pub(crate) fn version_name(level: u8) -> &'static str {
    match level {
        LEVEL_3_1 => "3.1",
        LEVEL_3_1_1 => "3.1.1",
        LEVEL_5 => "5.0",
        _ => "?",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A packet: the first byte, the remaining length, the body.
    pub(crate) fn packet(first: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![first];
        let mut len = body.len();
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            p.push(if len > 0 { byte | 0x80 } else { byte });
            if len == 0 {
                break;
            }
        }
        p.extend_from_slice(body);
        p
    }

    /// A string field.
    pub(crate) fn field(s: &[u8]) -> Vec<u8> {
        let mut f = (s.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(s);
        f
    }

    /// A CONNECT body of MQTT 3.1.1 (or 5 with empty property blocks).
    pub(crate) fn connect_body(level: u8, flags: u8, client: &[u8], will: Option<&[u8]>, user: Option<&[u8]>) -> Vec<u8> {
        let mut b = field(if level == LEVEL_3_1 { b"MQIsdp" } else { b"MQTT" });
        b.extend_from_slice(&[level, flags, 0, 60]);
        if level == LEVEL_5 {
            b.push(0);
        }
        b.extend(field(client));
        if let Some(topic) = will {
            if level == LEVEL_5 {
                b.push(0);
            }
            b.extend(field(topic));
            b.extend(field(b"bye"));
        }
        if let Some(user) = user {
            b.extend(field(user));
        }
        if flags & 0x40 != 0 {
            b.extend(field(b"secret"));
        }
        b
    }

    #[test]
    fn fixed_headers() {
        assert_eq!(fixed_header(&[0xc0, 0x00], 0), Ok(Some(Fixed { kind: 12, flags: 0, header_len: 2, body_len: 0 })));
        assert_eq!(fixed_header(&[0x30, 0xc1, 0x02], 4), Ok(Some(Fixed { kind: 3, flags: 0, header_len: 3, body_len: 321 })));
        let max = [0x30, 0xff, 0xff, 0xff, 0x7f];
        assert_eq!(fixed_header(&max, 4).map(|f| f.map(|f| f.body_len)), Ok(Some(268_435_455)));
        assert_eq!(fixed_header(&[0x30, 0xff, 0xff], 4), Ok(None));
        assert_eq!(fixed_header(&[], 4), Ok(None));
        assert_eq!(fixed_header(&[0x30, 0xff, 0xff, 0xff, 0xff], 4), Err(Problem::BadLength));
        assert_eq!(fixed_header(&[0x00, 0x00], 4), Err(Problem::ReservedType(0)));
        assert_eq!(fixed_header(&[0xf0, 0x00], 4), Err(Problem::ReservedType(15)));
        assert!(fixed_header(&[0xf0, 0x00], 5).is_ok());
        assert_eq!(fixed_header(&[0x36, 0x00], 4), Err(Problem::BadQos));
    }

    #[test]
    fn connect_of_each_version() {
        let body = connect_body(LEVEL_3_1, 0x02, b"paho/1", None, None);
        let c = connect(&body).unwrap();
        assert_eq!((c.level, c.client_id, c.will_topic, c.user, c.clean(), c.password()), (3, &b"paho/1"[..], None, None, true, false));
        let body = connect_body(LEVEL_5, 0xc6, b"id", Some(b"will/t"), Some(b"bob"));
        let c = connect(&body).unwrap();
        assert_eq!((c.level, c.will_topic, c.user, c.password()), (5, Some(&b"will/t"[..]), Some(&b"bob"[..]), true));
        assert!(looks_like_connect(&packet(0x10, &body)));
        assert!(looks_like_connect(&packet(0x10, &body)[..14]));
        assert_eq!(connect(&body[..body.len() - 1]), Err(Problem::Truncated("password")));
    }

    #[test]
    fn connect_probe_is_strict() {
        let good = packet(0x10, &connect_body(LEVEL_3_1_1, 0x02, b"x", None, None));
        assert!(looks_like_connect(&good));
        assert!(!looks_like_connect(&good[..11]));
        for (at, value) in [(0, 0x11), (0, 0x20), (4, b'm'), (8, 6), (8, 3), (9, 0x03), (9, 0x08)] {
            let mut p = good.clone();
            p[at] = value;
            assert!(!looks_like_connect(&p), "byte {at} = {value}");
        }
        let mut v31 = packet(0x10, &connect_body(LEVEL_3_1, 0x02, b"x", None, None));
        assert!(looks_like_connect(&v31));
        v31[10] = 4;
        assert!(!looks_like_connect(&v31));
        assert!(!looks_like_connect(b"GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn properties_are_walked() {
        // Publish v5: topic "t", packet id 7, properties: content type "x", alias 5, user property.
        let mut body = field(b"t");
        body.extend_from_slice(&[0, 7]);
        let props = [&[0x03u8][..], &field(b"x"), &[0x23, 0, 5], &[0x26], &field(b"k"), &field(b"v"), &[0x0b, 0x81, 0x01]].concat();
        body.push(props.len() as u8);
        body.extend_from_slice(&props);
        body.extend_from_slice(b"payload");
        assert_eq!(publish(0x02, &body, LEVEL_5), Ok(Publish { topic: b"t", packet_id: Some(7), alias: Some(5) }));
        // Read as 3.1.1, the properties are payload.
        assert_eq!(publish(0x02, &body, LEVEL_3_1_1), Ok(Publish { topic: b"t", packet_id: Some(7), alias: None }));
        let mut bad = body.clone();
        bad[6] = 0x04;
        assert_eq!(publish(0x02, &bad, LEVEL_5), Err(Problem::UnknownProperty(4)));
        let mut overlong = body.clone();
        overlong[5] = 200;
        assert_eq!(publish(0x02, &overlong, LEVEL_5), Err(Problem::Truncated("properties")));
        assert_eq!(publish(0x00, &field(b"a/b"), LEVEL_3_1_1), Ok(Publish { topic: b"a/b", packet_id: None, alias: None }));
    }

    #[test]
    fn acknowledgements_and_subscriptions() {
        assert_eq!(connack(&[0, 5]), Ok(5));
        assert_eq!(connack(&[0]), Err(Problem::Truncated("return code")));
        assert_eq!(publish_ack(&[0, 1]), Ok((1, 0)));
        assert_eq!(publish_ack(&[0, 1, 0x10, 0]), Ok((1, 0x10)));
        let body = [&[0u8, 9][..], &field(b"a/#"), &[1], &field(b"b"), &[0]].concat();
        let s = subscribe(&body, LEVEL_3_1_1).unwrap();
        assert_eq!(s.packet_id, 9);
        assert_eq!(s.filters().collect::<Vec<_>>(), [&b"a/#"[..], b"b"]);
        assert_eq!(subscribe(&body[..body.len() - 1], LEVEL_3_1_1), Err(Problem::Truncated("subscription options")));
        assert_eq!(subscribe(&[0, 9], LEVEL_3_1_1), Err(Problem::Truncated("topic filter")));
        let v5 = [&[0u8, 9, 2, 0x0b, 1][..], &field(b"c"), &[0]].concat();
        assert_eq!(subscribe(&v5, LEVEL_5).unwrap().filters().collect::<Vec<_>>(), [&b"c"[..]]);
        assert_eq!(suback(&[0, 9, 0, 0x80], LEVEL_3_1_1), Ok((9, &[0u8, 0x80][..])));
        assert_eq!(suback(&[0, 9, 0, 0x80], LEVEL_5), Ok((9, &[0x80u8][..])));
    }
}
