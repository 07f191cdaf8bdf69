//! CIP (Common Industrial Protocol) explicit messages: request and response
//! headers, EPATHs, the services that carry other requests (Multiple
//! Service Packet, the Connection Manager's Unconnected Send), the Identity
//! object's attributes, and the mapping of services to operation kinds.

use palisade_decode::{le16, le32};
use palisade_model::OperationKind;
use std::fmt;

/// Service codes.
pub(crate) mod service {
    /// Get_Attributes_All.
    pub(crate) const GET_ATTRIBUTES_ALL: u8 = 0x01;
    /// Set_Attributes_All.
    pub(crate) const SET_ATTRIBUTES_ALL: u8 = 0x02;
    /// Get_Attribute_List.
    pub(crate) const GET_ATTRIBUTE_LIST: u8 = 0x03;
    /// Set_Attribute_List.
    pub(crate) const SET_ATTRIBUTE_LIST: u8 = 0x04;
    /// Reset.
    pub(crate) const RESET: u8 = 0x05;
    /// Start.
    pub(crate) const START: u8 = 0x06;
    /// Stop.
    pub(crate) const STOP: u8 = 0x07;
    /// Create.
    pub(crate) const CREATE: u8 = 0x08;
    /// Delete.
    pub(crate) const DELETE: u8 = 0x09;
    /// Multiple_Service_Packet.
    pub(crate) const MULTIPLE_SERVICE_PACKET: u8 = 0x0A;
    /// Get_Attribute_Single.
    pub(crate) const GET_ATTRIBUTE_SINGLE: u8 = 0x0E;
    /// Set_Attribute_Single.
    pub(crate) const SET_ATTRIBUTE_SINGLE: u8 = 0x10;
    /// File object: Initiate Upload (also used by Logix controllers on their
    /// own objects while a project is uploaded).
    pub(crate) const INITIATE_UPLOAD: u8 = 0x4B;
    /// File object: Initiate Download; Logix objects: Read Tag.
    pub(crate) const INITIATE_DOWNLOAD_OR_READ_TAG: u8 = 0x4C;
    /// Logix: Write Tag.
    pub(crate) const WRITE_TAG: u8 = 0x4D;
    /// Connection Manager: Forward Close; Logix: Read-Modify-Write Tag.
    pub(crate) const FORWARD_CLOSE_OR_RMW_TAG: u8 = 0x4E;
    /// File object: Upload Transfer.
    pub(crate) const UPLOAD_TRANSFER: u8 = 0x4F;
    /// File object: Download Transfer.
    pub(crate) const DOWNLOAD_TRANSFER: u8 = 0x50;
    /// Connection Manager: Unconnected Send; Logix: Read Tag Fragmented.
    pub(crate) const UNCONNECTED_SEND_OR_READ_FRAGMENTED: u8 = 0x52;
    /// Logix: Write Tag Fragmented.
    pub(crate) const WRITE_TAG_FRAGMENTED: u8 = 0x53;
    /// Connection Manager: Forward Open.
    pub(crate) const FORWARD_OPEN: u8 = 0x54;
    /// Logix Symbol object: Get_Instance_Attribute_List.
    pub(crate) const GET_INSTANCE_ATTRIBUTE_LIST: u8 = 0x55;
    /// Connection Manager: Large Forward Open.
    pub(crate) const LARGE_FORWARD_OPEN: u8 = 0x5B;
}

/// Class codes.
pub(crate) mod class {
    /// Identity object.
    pub(crate) const IDENTITY: u32 = 0x01;
    /// Connection Manager object.
    pub(crate) const CONNECTION_MANAGER: u32 = 0x06;
    /// File object.
    pub(crate) const FILE: u32 = 0x37;
}

/// General status "service not supported".
pub(crate) const STATUS_SERVICE_NOT_SUPPORTED: u8 = 0x08;

/// Bit set in the service code of a response.
const REPLY: u8 = 0x80;
/// How deep embedded requests are unwrapped.
const MAX_DEPTH: u8 = 3;
/// Room for a symbolic tag name in a [`Path`].
const SYMBOL_MAX: usize = 40;

/// A CIP request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    /// Service code.
    pub(crate) service: u8,
    /// Request path (EPATH bytes).
    pub(crate) path: &'a [u8],
    /// Request data.
    pub(crate) data: &'a [u8],
}

/// A CIP response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Response<'a> {
    /// Service code of the request answered (reply bit cleared).
    pub(crate) service: u8,
    /// General status (0 = success).
    pub(crate) status: u8,
    /// Response data.
    pub(crate) data: &'a [u8],
}

/// A CIP explicit message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// A request.
    Request(Request<'a>),
    /// A response.
    Response(Response<'a>),
}

/// Parses a CIP explicit message; `None` if truncated.
pub(crate) fn message(b: &[u8]) -> Option<Message<'_>> {
    let service = *b.first()?;
    if service & REPLY != 0 {
        let status = *b.get(2)?;
        let extra = usize::from(*b.get(3)?) * 2;
        let data = b.get(4 + extra..)?;
        return Some(Message::Response(Response { service: service & !REPLY, status, data }));
    }
    let words = usize::from(*b.get(1)?);
    let path = b.get(2..2 + words * 2)?;
    let data = b.get(2 + words * 2..)?;
    Some(Message::Request(Request { service, path, data }))
}

/// The messages bundled in a Multiple Service Packet body (requests or
/// responses): a count, offsets from the start of the body, then the
/// messages. Yields `None` for an offset that points outside the body.
pub(crate) fn bundled(data: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    let count = le16(data, 0).unwrap_or(0);
    (0..count).map(move |i| {
        let at = 2 + usize::from(i) * 2;
        let start = usize::from(le16(data, at)?);
        let end = if i + 1 < count { usize::from(le16(data, at + 2)?) } else { data.len() };
        data.get(start..end).filter(|m| !m.is_empty())
    })
}

/// The request embedded in a Connection Manager Unconnected Send.
pub(crate) fn unconnected_send_embedded(data: &[u8]) -> Option<&[u8]> {
    let size = usize::from(le16(data, 2)?);
    data.get(4..4 + size)
}

/// What an EPATH addresses: the last class, instance and attribute named,
/// or a symbolic (tag) name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Path {
    /// Class id.
    pub(crate) class: Option<u32>,
    /// Instance id.
    pub(crate) instance: Option<u32>,
    /// Attribute id.
    pub(crate) attribute: Option<u32>,
    symbol: [u8; SYMBOL_MAX],
    symbol_len: u8,
}

impl Default for Path {
    fn default() -> Self {
        Path { class: None, instance: None, attribute: None, symbol: [0; SYMBOL_MAX], symbol_len: 0 }
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

impl Path {
    /// The symbolic tag name, if the path has one.
    pub(crate) fn symbol(&self) -> Option<&str> {
        let s = self.symbol.get(..usize::from(self.symbol_len))?;
        std::str::from_utf8(s).ok().filter(|s| !s.is_empty())
    }

    /// True if there is anything to show as an operation target.
    pub(crate) fn has_target(&self) -> bool {
        self.symbol_len > 0 || self.class.is_some()
    }

    fn push_symbol(&mut self, bytes: &[u8]) {
        for &c in bytes {
            let Some(slot) = self.symbol.get_mut(usize::from(self.symbol_len)) else { return };
            *slot = if c.is_ascii_graphic() { c } else { b'?' };
            self.symbol_len += 1;
        }
    }

    fn push_element(&mut self, index: u32) {
        let mut buf = [0u8; 12];
        let mut n = index;
        let mut i = buf.len();
        loop {
            i -= 1;
            if let Some(d) = buf.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 1 {
                break;
            }
        }
        self.push_symbol(b"[");
        self.push_symbol(buf.get(i..).unwrap_or_default());
        self.push_symbol(b"]");
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(tag) = self.symbol() {
            return write!(f, "tag {tag}");
        }
        if let Some(c) = self.class {
            write!(f, "class 0x{c:02x}")?;
        }
        if let Some(i) = self.instance {
            write!(f, " instance {i}")?;
        }
        if let Some(a) = self.attribute {
            write!(f, " attr {a}")?;
        }
        Ok(())
    }
}

/// Why an EPATH could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    /// A segment runs past the end of the path.
    Truncated,
    /// A reserved segment type or logical format.
    Reserved(u8),
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::Truncated => f.write_str("malformed EPATH: segment runs past the path size"),
            PathError::Reserved(b) => write!(f, "malformed EPATH: reserved segment 0x{b:02x}"),
        }
    }
}

/// Reads an EPATH (padded form, as in request paths).
pub(crate) fn epath(b: &[u8]) -> Result<Path, PathError> {
    use PathError::*;
    let mut path = Path::default();
    let mut at = 0usize;
    let mut after_symbol = false;
    while let Some(&seg) = b.get(at) {
        match seg >> 5 {
            // Port segment: port number, link address, padded to even.
            0 => {
                let mut len = if seg & 0x0F == 0x0F { 3 } else { 1 };
                len += if seg & 0x10 != 0 { 1 + usize::from(*b.get(at + 1).ok_or(Truncated)?) } else { 1 };
                at += len + (len & 1);
            }
            // Logical segment.
            1 => {
                let (value, len) = match seg & 0x03 {
                    0 => (u32::from(*b.get(at + 1).ok_or(Truncated)?), 2),
                    1 => (u32::from(le16(b, at + 2).ok_or(Truncated)?), 4),
                    2 => (le32(b, at + 2).ok_or(Truncated)?, 6),
                    _ => return Err(Reserved(seg)),
                };
                match (seg >> 2) & 0x07 {
                    0 => {
                        path.class = Some(value);
                        path.instance = None;
                        path.attribute = None;
                    }
                    1 => path.instance = Some(value),
                    2 if after_symbol => path.push_element(value),
                    4 => path.attribute = Some(value),
                    // Electronic key: format byte then 8 bytes of key.
                    5 if seg == 0x34 => {
                        b.get(at..at + 10).ok_or(Truncated)?;
                        at += 10;
                        continue;
                    }
                    5 | 7 => return Err(Reserved(seg)),
                    // Member, connection point, service id: nothing to keep.
                    _ => {}
                }
                at += len;
            }
            // Network segment: one data byte (extended form is not used in requests).
            2 if seg != 0x5F => at += 2,
            // Symbolic segment: length in the low bits, then the name.
            3 if seg & 0x1F != 0 => {
                let len = usize::from(seg & 0x1F);
                let name = b.get(at + 1..at + 1 + len).ok_or(Truncated)?;
                path.push_symbol(name);
                after_symbol = true;
                at += 1 + len;
            }
            // Data segments: ANSI extended symbol, simple data.
            4 => match seg {
                0x91 => {
                    let len = usize::from(*b.get(at + 1).ok_or(Truncated)?);
                    let name = b.get(at + 2..at + 2 + len).ok_or(Truncated)?;
                    if path.symbol_len > 0 {
                        path.push_symbol(b".");
                    }
                    path.push_symbol(name);
                    after_symbol = true;
                    at += 2 + len + (len & 1);
                }
                0x80 => {
                    let words = usize::from(*b.get(at + 1).ok_or(Truncated)?);
                    b.get(at + 2..at + 2 + words * 2).ok_or(Truncated)?;
                    at += 2 + words * 2;
                }
                _ => return Err(Reserved(seg)),
            },
            _ => return Err(Reserved(seg)),
        }
        if at > b.len() {
            return Err(Truncated);
        }
    }
    Ok(path)
}

/// One request that does something (after unwrapping carriers): its place
/// in a Multiple Service Packet (0 otherwise), service and path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Leaf {
    /// Index in the enclosing Multiple Service Packet, or 0.
    pub(crate) index: u8,
    /// Service code.
    pub(crate) service: u8,
    /// Decoded path, or why it could not be decoded.
    pub(crate) path: Result<Path, PathError>,
}

/// Calls `f` for every request carried by `req`: Unconnected Send is
/// unwrapped to the request it routes, a Multiple Service Packet to each of
/// its requests. Returns false if a carrier's content was malformed.
pub(crate) fn leaves(req: Request<'_>, f: &mut impl FnMut(Leaf)) -> bool {
    walk(req, 0, 0, f)
}

fn walk(req: Request<'_>, index: u8, depth: u8, f: &mut impl FnMut(Leaf)) -> bool {
    let path = epath(req.path);
    let class = path.as_ref().ok().and_then(|p| p.class);
    if depth < MAX_DEPTH {
        if req.service == service::UNCONNECTED_SEND_OR_READ_FRAGMENTED && class == Some(class::CONNECTION_MANAGER) {
            return match unconnected_send_embedded(req.data).and_then(message) {
                Some(Message::Request(inner)) => walk(inner, index, depth + 1, f),
                _ => false,
            };
        }
        if req.service == service::MULTIPLE_SERVICE_PACKET {
            let mut ok = true;
            for (i, m) in bundled(req.data).enumerate() {
                let inner = match m.and_then(message) {
                    Some(Message::Request(inner)) => inner,
                    _ => {
                        ok = false;
                        continue;
                    }
                };
                let i = u8::try_from(i).unwrap_or(u8::MAX);
                ok &= walk(inner, if index == 0 { i } else { index }, depth + 1, f);
            }
            return ok;
        }
    }
    f(Leaf { index, service: req.service, path });
    true
}

/// True for a service code in the reserved range.
pub(crate) fn reserved_service(service: u8) -> bool {
    (0x64..=0x7F).contains(&service)
}

/// True for a class id in the vendor-specific ranges.
fn vendor_class(class: u32) -> bool {
    matches!(class, 0x64..=0xC7 | 0x300..=0x4FF)
}

/// What a service does to the object its path names.
///
/// Object-specific codes (0x4B and up) depend on the class: the File object
/// has upload/download services; vendor-specific classes and symbolic paths
/// are Logix-style tag services. Logix controllers also answer 0x4B/0x4F
/// (the File object's Initiate Upload / Upload Transfer codes) on their own
/// program objects when engineering software uploads a project, so those
/// count as a program upload.
pub(crate) fn kind(service: u8, path: &Path) -> OperationKind {
    use service::*;
    use OperationKind::*;
    let class = path.class.unwrap_or(0);
    let vendor = path.symbol_len > 0 || vendor_class(class);
    match (class, service) {
        (class::CONNECTION_MANAGER, FORWARD_OPEN | LARGE_FORWARD_OPEN | FORWARD_CLOSE_OR_RMW_TAG) => Session,
        (class::FILE, INITIATE_UPLOAD | UPLOAD_TRANSFER) => ProgramUpload,
        (class::FILE, INITIATE_DOWNLOAD_OR_READ_TAG | DOWNLOAD_TRANSFER) => ProgramDownload,
        (class::IDENTITY, GET_ATTRIBUTES_ALL | GET_ATTRIBUTE_LIST | GET_ATTRIBUTE_SINGLE) => Identify,
        (class::IDENTITY, RESET) => DeviceReset,
        (_, GET_ATTRIBUTES_ALL | GET_ATTRIBUTE_LIST | GET_ATTRIBUTE_SINGLE) => Read,
        (_, SET_ATTRIBUTES_ALL | SET_ATTRIBUTE_LIST | SET_ATTRIBUTE_SINGLE) => Write,
        (_, START) => ControllerStart,
        (_, STOP) => ControllerStop,
        (_, CREATE | DELETE) => ConfigurationChange,
        (_, INITIATE_DOWNLOAD_OR_READ_TAG | UNCONNECTED_SEND_OR_READ_FRAGMENTED | GET_INSTANCE_ATTRIBUTE_LIST) if vendor => Read,
        (_, WRITE_TAG | WRITE_TAG_FRAGMENTED | FORWARD_CLOSE_OR_RMW_TAG) if vendor => Write,
        (_, INITIATE_UPLOAD | UPLOAD_TRANSFER) if vendor => ProgramUpload,
        _ => Other,
    }
}

/// Identity object attributes (all optional: a reply may carry only some).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Identity<'a> {
    /// Vendor id (attribute 1).
    pub(crate) vendor: Option<u16>,
    /// Device type (attribute 2).
    pub(crate) device_type: Option<u16>,
    /// Revision major, minor (attribute 4).
    pub(crate) revision: Option<(u8, u8)>,
    /// Serial number (attribute 6).
    pub(crate) serial: Option<u32>,
    /// Product name (attribute 7).
    pub(crate) product_name: &'a [u8],
}

/// Reads attributes 1 to 7 in order, as in Get_Attributes_All and the
/// ListIdentity identity item.
pub(crate) fn identity_all(b: &[u8]) -> Option<Identity<'_>> {
    let name_len = usize::from(*b.get(14)?);
    Some(Identity {
        vendor: Some(le16(b, 0)?),
        device_type: Some(le16(b, 2)?),
        revision: Some((*b.get(6)?, *b.get(7)?)),
        serial: Some(le32(b, 10)?),
        product_name: b.get(15..15 + name_len)?,
    })
}

/// Stores the value of identity attribute `id` found at the start of `b`;
/// returns its length, or `None` for an unknown attribute or short data.
fn identity_attribute<'a>(id: u32, b: &'a [u8], out: &mut Identity<'a>) -> Option<usize> {
    let len = match id {
        1 => {
            out.vendor = Some(le16(b, 0)?);
            2
        }
        2 => {
            out.device_type = Some(le16(b, 0)?);
            2
        }
        3 | 5 => {
            le16(b, 0)?;
            2
        }
        4 => {
            out.revision = Some((*b.first()?, *b.get(1)?));
            2
        }
        6 => {
            out.serial = Some(le32(b, 0)?);
            4
        }
        7 => {
            let len = usize::from(*b.first()?);
            out.product_name = b.get(1..1 + len)?;
            1 + len
        }
        _ => return None,
    };
    Some(len)
}

/// Reads a Get_Attribute_Single reply for identity attribute `id`.
pub(crate) fn identity_single(id: u32, b: &[u8]) -> Identity<'_> {
    let mut out = Identity::default();
    let _ = identity_attribute(id, b, &mut out);
    out
}

/// Reads a Get_Attribute_List reply: a count, then (id, status, value)
/// triples; stops at the first attribute whose size is unknown.
pub(crate) fn identity_list(b: &[u8]) -> Identity<'_> {
    let mut out = Identity::default();
    let count = le16(b, 0).unwrap_or(0);
    let mut at = 2usize;
    for _ in 0..count {
        let (Some(id), Some(status)) = (le16(b, at), le16(b, at + 2)) else { break };
        at += 4;
        if status != 0 {
            continue;
        }
        match b.get(at..).and_then(|v| identity_attribute(u32::from(id), v, &mut out)) {
            Some(len) => at += len,
            None => break,
        }
    }
    out
}

/// The role a device type implies.
pub(crate) fn device_role(device_type: u16) -> Option<&'static str> {
    match device_type {
        // General purpose discrete I/O, communications adapter, safety discrete / analog I/O.
        0x07 | 0x0C | 0x23 | 0x2A => Some("io-adapter"),
        0x0E => Some("plc"),
        0x18 => Some("hmi"),
        0x2C => Some("switch"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn request_and_response() {
        let b = hex("4c06206825002024206d25002024000032000000");
        let Some(Message::Request(r)) = message(&b) else { panic!() };
        assert_eq!(r.service, 0x4C);
        let p = epath(r.path).unwrap();
        assert_eq!((p.class, p.instance, p.attribute), (Some(0x6d), Some(0x2420), None));
        assert_eq!(p.to_string(), "class 0x6d instance 9248");
        assert_eq!(kind(r.service, &p), OperationKind::Read);
        let b = hex("cc00ff010521");
        assert_eq!(message(&b), Some(Message::Response(Response { service: 0x4C, status: 0xFF, data: &[] })));
        assert_eq!(message(&hex("cc00ff02")), None);
    }

    #[test]
    fn symbolic_paths() {
        // Tag "Motor.Speed[3]".
        let b = hex("91054d6f746f720091055370656564002803");
        let p = epath(&b).unwrap();
        assert_eq!(p.to_string(), "tag Motor.Speed[3]");
        assert_eq!(kind(0x4D, &p), OperationKind::Write);
        assert_eq!(epath(&hex("9105414243")), Err(PathError::Truncated));
        assert_eq!(epath(&hex("23")), Err(PathError::Reserved(0x23)));
        assert_eq!(epath(&hex("20")), Err(PathError::Truncated));
        assert_eq!(epath(&hex("e0")), Err(PathError::Reserved(0xe0)));
    }

    #[test]
    fn element_numbers() {
        let mut p = Path::default();
        p.push_symbol(b"A");
        p.push_element(0);
        p.push_element(4_294_967_295);
        assert_eq!(p.to_string(), "tag A[0][4294967295]");
        let mut long = Path::default();
        long.push_symbol(&[b'x'; 100]);
        assert_eq!(long.symbol().unwrap().len(), SYMBOL_MAX);
    }

    #[test]
    fn unwraps_unconnected_send() {
        // Unconnected Send to the Connection Manager carrying Get_Attributes_All on Identity, routed to port 1 slot 0.
        let b = hex("52022006240107e90600010220012401010001000100");
        let Some(Message::Request(r)) = message(&b) else { panic!() };
        let mut got = Vec::new();
        assert!(leaves(r, &mut |l| got.push(l)));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].service, 0x01);
        let p = got[0].path.unwrap();
        assert_eq!(p.to_string(), "class 0x01 instance 1");
        assert_eq!(kind(0x01, &p), OperationKind::Identify);
    }

    #[test]
    fn unwraps_multiple_service_packet() {
        // Two Get_Attribute_Single requests.
        let b = hex("0a0220022401020006000e000e03200124013007").into_iter().chain(hex("0e0320012401300a")).collect::<Vec<_>>();
        let Some(Message::Request(r)) = message(&b) else { panic!() };
        let mut got = Vec::new();
        assert!(leaves(r, &mut |l| got.push((l.index, l.service, l.path.unwrap().to_string()))));
        assert_eq!(
            got,
            vec![(0, 0x0e, "class 0x01 instance 1 attr 7".to_string()), (1, 0x0e, "class 0x01 instance 1 attr 10".to_string())]
        );
        // An offset past the end is malformed.
        let bad = hex("0a0220022401020006006000");
        let Some(Message::Request(r)) = message(&bad) else { panic!() };
        assert!(!leaves(r, &mut |_| {}));
    }

    #[test]
    fn identity_replies() {
        // Get_Attributes_All body of a 1756-L61/B.
        let mut b = hex("01000e003600101460303f825100");
        b.push(20);
        b.extend_from_slice(b"1756-L61/B LOGIX5561");
        let id = identity_all(&b).unwrap();
        assert_eq!(id.vendor, Some(1));
        assert_eq!(id.device_type, Some(0x0E));
        assert_eq!(id.revision, Some((16, 20)));
        assert_eq!(id.serial, Some(0x0051823f));
        assert_eq!(id.product_name, b"1756-L61/B LOGIX5561");
        assert!(identity_all(&b[..20]).is_none());
        // Get_Attribute_List: attributes 1, 4, 6.
        let list = hex("0300010000000100040000001014060000003f825100");
        let l = identity_list(&list);
        assert_eq!((l.vendor, l.revision, l.serial), (Some(1), Some((16, 20)), Some(0x0051823f)));
        assert_eq!(identity_single(7, &hex("024142")).product_name, b"AB");
        assert_eq!(identity_single(9, &hex("0102")), Identity::default());
    }

    #[test]
    fn kinds() {
        let p = |c: u32| Path { class: Some(c), ..Path::default() };
        assert_eq!(kind(0x4B, &p(0x37)), OperationKind::ProgramUpload);
        assert_eq!(kind(0x50, &p(0x37)), OperationKind::ProgramDownload);
        assert_eq!(kind(0x4F, &p(0x6A)), OperationKind::ProgramUpload);
        assert_eq!(kind(0x54, &p(0x06)), OperationKind::Session);
        assert_eq!(kind(0x07, &p(0x8E)), OperationKind::ControllerStop);
        assert_eq!(kind(0x05, &p(0x01)), OperationKind::DeviceReset);
        assert_eq!(kind(0x4C, &p(0x02)), OperationKind::Other);
        assert_eq!(device_role(0x0C), Some("io-adapter"));
        assert_eq!(device_role(0x0E), Some("plc"));
        assert!(reserved_service(0x70));
    }
}
