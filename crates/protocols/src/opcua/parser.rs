//! OPC UA binary (UA TCP / UA Secure Conversation) parsing over borrowed
//! bytes: chunk headers, the transport messages (Hello, Acknowledge, Error,
//! ReverseHello), the security and sequence headers of secure-channel
//! chunks, and the few service bodies the dissector reads (OPC UA Part 6
//! binary encoding). Nothing here allocates; every reader stops cleanly at
//! the end of the bytes it was given.

use std::fmt;

/// Length of a chunk header: message type, chunk type, message size.
pub const HEADER_LEN: usize = 8;
/// Largest chunk accepted at all (the spec has no fixed limit; real stacks
/// stay far below this).
pub const MAX_CHUNK: u32 = 1 << 24;
/// Longest endpoint URL a Hello may carry (Part 6, 7.1.2.3).
const MAX_URL: usize = 4096;
/// Smallest buffer size a Hello or Acknowledge may announce.
pub const MIN_BUFFER: u32 = 8192;
/// Array elements looked at in one array (identity data, targets).
const MAX_ITEMS: usize = 64;
/// Nesting depth followed in recursive encodings (variants, diagnostics).
const MAX_DEPTH: u8 = 4;

/// The message type of a chunk header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// `HEL`: the client opens the connection.
    Hello,
    /// `ACK`: the server accepts it.
    Acknowledge,
    /// `ERR`: a fatal error, then the connection closes.
    Error,
    /// `RHE`: a server opens a connection to a client (reverse connect).
    ReverseHello,
    /// `OPN`: OpenSecureChannel request or response.
    Open,
    /// `MSG`: a service request or response.
    Message,
    /// `CLO`: CloseSecureChannel request.
    Close,
}

impl MessageType {
    fn from_bytes(b: [u8; 3]) -> Option<Self> {
        Some(match &b {
            b"HEL" => MessageType::Hello,
            b"ACK" => MessageType::Acknowledge,
            b"ERR" => MessageType::Error,
            b"RHE" => MessageType::ReverseHello,
            b"OPN" => MessageType::Open,
            b"MSG" => MessageType::Message,
            b"CLO" => MessageType::Close,
            _ => return None,
        })
    }

    /// Smallest valid chunk of this type, header included.
    fn min_size(self) -> u32 {
        match self {
            // Five u32 plus a string length.
            MessageType::Hello => 32,
            MessageType::Acknowledge => 28,
            // A status code and a string length; two string lengths.
            MessageType::Error | MessageType::ReverseHello => 16,
            // Channel id, three byte-string lengths, sequence header.
            MessageType::Open => 32,
            // Channel id, token id, sequence header.
            MessageType::Message | MessageType::Close => 24,
        }
    }

    /// True for the UA Secure Conversation types, which may be split into
    /// several chunks.
    pub fn is_secure(self) -> bool {
        matches!(self, MessageType::Open | MessageType::Message | MessageType::Close)
    }
}

/// A chunk header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the chunk carries.
    pub kind: MessageType,
    /// `F` (final), `C` (intermediate) or `A` (abort).
    pub chunk: u8,
    /// Chunk size in bytes, header included.
    pub size: u32,
}

/// Why a chunk header is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// The three type letters name no message type.
    UnknownType([u8; 3]),
    /// The chunk type is not F, C or A, or not F for a transport message.
    ChunkType(MessageType, u8),
    /// The size is below the type's minimum or absurdly large.
    Size(MessageType, u32),
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            HeaderProblem::UnknownType(t) => write!(f, "unknown message type {}", Escaped(&t)),
            HeaderProblem::ChunkType(kind, c) => write!(f, "invalid chunk type {} for {kind:?}", Escaped(&[c])),
            HeaderProblem::Size(kind, size) => write!(f, "{kind:?} chunk size {size} out of range"),
        }
    }
}

/// Reads a chunk header; `None` if fewer than 8 bytes are available.
pub fn header(data: &[u8]) -> Option<Result<Header, HeaderProblem>> {
    let bytes: [u8; HEADER_LEN] = data.get(..HEADER_LEN)?.try_into().ok()?;
    let [a, b, c, chunk, s0, s1, s2, s3] = bytes;
    let size = u32::from_le_bytes([s0, s1, s2, s3]);
    let Some(kind) = MessageType::from_bytes([a, b, c]) else { return Some(Err(HeaderProblem::UnknownType([a, b, c]))) };
    let chunk_ok = if kind.is_secure() { matches!(chunk, b'F' | b'C' | b'A') } else { chunk == b'F' };
    if !chunk_ok {
        return Some(Err(HeaderProblem::ChunkType(kind, chunk)));
    }
    if size < kind.min_size() || size > MAX_CHUNK {
        return Some(Err(HeaderProblem::Size(kind, size)));
    }
    Some(Ok(Header { kind, chunk, size }))
}

/// Writes bytes as text, escaping anything but printable ASCII.
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(self.0) {
            Ok(s) if !s.chars().any(char::is_control) => f.write_str(s),
            _ => {
                for &b in self.0 {
                    if b.is_ascii_graphic() || b == b' ' {
                        fmt::Write::write_char(f, char::from(b))?;
                    } else {
                        write!(f, "\\x{b:02x}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// A cursor over little-endian OPC UA binary encoding.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let head = self.data.get(..n)?;
        self.data = self.data.get(n..)?;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A Byte or Boolean.
    pub fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    /// A UInt16.
    pub fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    /// A UInt32 (also an enumeration or a StatusCode).
    pub fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// An Int32 (array and string lengths).
    pub fn i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_le_bytes)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    /// A String or ByteString: `None` when truncated, `Some(None)` for the
    /// null value (length -1).
    pub fn string(&mut self) -> Option<Option<&'a [u8]>> {
        let len = self.i32()?;
        if len < 0 {
            return Some(None);
        }
        self.take(usize::try_from(len).ok()?).map(Some)
    }

    /// The element count of an array; a null array counts 0.
    pub fn count(&mut self) -> Option<usize> {
        usize::try_from(self.i32()?.max(0)).ok()
    }

    /// Skips an array of strings.
    pub fn skip_strings(&mut self) -> Option<()> {
        for _ in 0..self.count()? {
            self.string()?;
        }
        Some(())
    }

    /// A NodeId.
    pub fn node_id(&mut self) -> Option<NodeId<'a>> {
        let mask = self.u8()?;
        self.node_id_body(mask & 0x0F)
    }

    fn node_id_body(&mut self, encoding: u8) -> Option<NodeId<'a>> {
        Some(match encoding {
            0 => NodeId::Numeric { ns: 0, id: u32::from(self.u8()?) },
            1 => {
                let ns = u16::from(self.u8()?);
                NodeId::Numeric { ns, id: u32::from(self.u16()?) }
            }
            2 => {
                let ns = self.u16()?;
                NodeId::Numeric { ns, id: self.u32()? }
            }
            3 => {
                let ns = self.u16()?;
                NodeId::String { ns, id: self.string()?.unwrap_or_default() }
            }
            4 => {
                let ns = self.u16()?;
                NodeId::Guid { ns, id: self.take(16)? }
            }
            5 => {
                let ns = self.u16()?;
                NodeId::Opaque { ns, id: self.string()?.unwrap_or_default() }
            }
            _ => return None,
        })
    }

    /// An ExpandedNodeId (namespace URI and server index are skipped).
    pub fn expanded_node_id(&mut self) -> Option<NodeId<'a>> {
        let mask = self.u8()?;
        let id = self.node_id_body(mask & 0x0F)?;
        if mask & 0x80 != 0 {
            self.string()?;
        }
        if mask & 0x40 != 0 {
            self.u32()?;
        }
        Some(id)
    }

    /// A LocalizedText; returns its text.
    pub fn localized_text(&mut self) -> Option<Option<&'a [u8]>> {
        let mask = self.u8()?;
        if mask & 0x01 != 0 {
            self.string()?;
        }
        if mask & 0x02 != 0 {
            return self.string();
        }
        Some(None)
    }

    /// A QualifiedName; returns its name.
    pub fn qualified_name(&mut self) -> Option<Option<&'a [u8]>> {
        self.u16()?;
        self.string()
    }

    /// An ExtensionObject: its type and, if binary-encoded, its body.
    pub fn extension_object(&mut self) -> Option<(NodeId<'a>, Option<&'a [u8]>)> {
        let type_id = self.expanded_node_id()?;
        let body = match self.u8()? {
            0 => None,
            1 => self.string()?,
            _ => {
                self.string()?;
                None
            }
        };
        Some((type_id, body))
    }

    /// Skips a DiagnosticInfo.
    pub fn skip_diagnostic_info(&mut self) -> Option<()> {
        self.diagnostic_info(0)
    }

    fn diagnostic_info(&mut self, depth: u8) -> Option<()> {
        let mask = self.u8()?;
        // Symbolic id, namespace, locale, localized text: one Int32 each.
        let ints = (mask & 0x0F).count_ones() as usize;
        self.skip(ints * 4)?;
        if mask & 0x10 != 0 {
            self.string()?;
        }
        if mask & 0x20 != 0 {
            self.u32()?;
        }
        if mask & 0x40 != 0 {
            if depth >= MAX_DEPTH {
                return None;
            }
            self.diagnostic_info(depth + 1)?;
        }
        Some(())
    }

    /// Skips a RequestHeader; returns the request handle.
    pub fn request_header(&mut self) -> Option<u32> {
        self.node_id()?;
        self.skip(8)?;
        let handle = self.u32()?;
        self.u32()?;
        self.string()?;
        self.u32()?;
        self.extension_object()?;
        Some(handle)
    }

    /// Skips a ResponseHeader; returns (request handle, service result).
    pub fn response_header(&mut self) -> Option<(u32, u32)> {
        self.skip(8)?;
        let handle = self.u32()?;
        let result = self.u32()?;
        self.skip_diagnostic_info()?;
        self.skip_strings()?;
        self.extension_object()?;
        Some((handle, result))
    }

    /// An ApplicationDescription.
    pub fn application(&mut self) -> Option<Application<'a>> {
        let uri = self.string()?;
        let product_uri = self.string()?;
        let name = self.localized_text()?;
        self.u32()?;
        self.string()?;
        self.string()?;
        let urls = self.strings()?;
        Some(Application { uri, product_uri, name, urls })
    }

    /// An array of strings, read lazily.
    pub fn strings(&mut self) -> Option<Strings<'a>> {
        let count = self.count()?;
        let start = *self;
        for _ in 0..count {
            self.string()?;
        }
        Some(Strings { reader: start, left: count })
    }

    fn variant(&mut self, depth: u8) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mask = self.u8()?;
        let kind = mask & 0x3F;
        if mask & 0x80 != 0 {
            for _ in 0..self.count()? {
                self.scalar(kind, depth)?;
            }
            if mask & 0x40 != 0 {
                let dims = self.count()?;
                self.skip(dims.checked_mul(4)?)?;
            }
            Some(())
        } else {
            self.scalar(kind, depth)
        }
    }

    /// Skips one value of built-in type `kind`.
    fn scalar(&mut self, kind: u8, depth: u8) -> Option<()> {
        match kind {
            0 => Some(()),
            1..=3 => self.skip(1),
            4 | 5 => self.skip(2),
            6 | 7 | 10 | 19 => self.skip(4),
            8 | 9 | 11 | 13 => self.skip(8),
            12 | 15 | 16 => self.string().map(|_| ()),
            14 => self.skip(16),
            17 => self.node_id().map(|_| ()),
            18 => self.expanded_node_id().map(|_| ()),
            20 => self.qualified_name().map(|_| ()),
            21 => self.localized_text().map(|_| ()),
            22 => self.extension_object().map(|_| ()),
            23 => self.data_value(depth + 1).map(|_| ()),
            24 => self.variant(depth + 1),
            25 => self.diagnostic_info(depth + 1),
            _ => None,
        }
    }

    /// A DataValue; returns its value, if it is one this crate reads.
    pub fn value(&mut self) -> Option<Value<'a>> {
        self.data_value(0)
    }

    fn data_value(&mut self, depth: u8) -> Option<Value<'a>> {
        let mask = self.u8()?;
        let mut value = Value::Other;
        if mask & 0x01 != 0 {
            let mut probe = *self;
            value = match probe.u8()? {
                12 => Value::String(probe.string()?),
                22 => match probe.extension_object()? {
                    (NodeId::Numeric { ns: 0, id }, Some(body)) => Value::Structure(id, body),
                    _ => Value::Other,
                },
                _ => Value::Other,
            };
            self.variant(depth)?;
        }
        if mask & 0x02 != 0 {
            self.u32()?;
        }
        if mask & 0x04 != 0 {
            self.skip(8)?;
        }
        if mask & 0x10 != 0 {
            self.skip(2)?;
        }
        if mask & 0x08 != 0 {
            self.skip(8)?;
        }
        if mask & 0x20 != 0 {
            self.skip(2)?;
        }
        Some(value)
    }
}

/// A NodeId.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeId<'a> {
    /// A numeric identifier.
    Numeric {
        /// Namespace index.
        ns: u16,
        /// Identifier.
        id: u32,
    },
    /// A string identifier.
    String {
        /// Namespace index.
        ns: u16,
        /// Identifier.
        id: &'a [u8],
    },
    /// A GUID identifier (16 bytes).
    Guid {
        /// Namespace index.
        ns: u16,
        /// Identifier.
        id: &'a [u8],
    },
    /// An opaque (ByteString) identifier.
    Opaque {
        /// Namespace index.
        ns: u16,
        /// Identifier.
        id: &'a [u8],
    },
}

impl NodeId<'_> {
    /// The identifier of a numeric node in namespace 0.
    pub fn ns0(&self) -> Option<u32> {
        match *self {
            NodeId::Numeric { ns: 0, id } => Some(id),
            _ => None,
        }
    }
}

/// The standard text form: `i=2258`, `ns=2;s=Tag1`, `ns=1;g=...`, `ns=1;b=...`.
impl fmt::Display for NodeId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = match *self {
            NodeId::Numeric { ns, .. } | NodeId::String { ns, .. } | NodeId::Guid { ns, .. } | NodeId::Opaque { ns, .. } => ns,
        };
        if ns != 0 {
            write!(f, "ns={ns};")?;
        }
        match *self {
            NodeId::Numeric { id, .. } => write!(f, "i={id}"),
            NodeId::String { id, .. } => write!(f, "s={}", Escaped(id)),
            NodeId::Guid { id, .. } | NodeId::Opaque { id, .. } => {
                f.write_str(if matches!(self, NodeId::Guid { .. }) { "g=" } else { "b=" })?;
                for b in id.iter().take(32) {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// An array of strings, decoded as it is iterated.
#[derive(Clone, Copy, Debug)]
pub struct Strings<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.left > 0 {
            self.left -= 1;
            if let Some(s) = self.reader.string()? {
                return Some(s);
            }
        }
        None
    }
}

/// An ApplicationDescription (or the matching parts of a RegisteredServer).
#[derive(Clone, Copy, Debug)]
pub struct Application<'a> {
    /// ApplicationUri (ServerUri of a RegisteredServer).
    pub uri: Option<&'a [u8]>,
    /// ProductUri.
    pub product_uri: Option<&'a [u8]>,
    /// The text of ApplicationName (the first ServerName).
    pub name: Option<&'a [u8]>,
    /// DiscoveryUrls.
    pub urls: Strings<'a>,
}

/// A value read from a DataValue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A scalar String (null when `None`).
    String(Option<&'a [u8]>),
    /// A binary-encoded structure: its encoding id (namespace 0) and body.
    Structure(u32, &'a [u8]),
    /// Anything else, or no value.
    Other,
}

/// The headers of a secure-conversation chunk (OPN, MSG, CLO).
#[derive(Clone, Copy, Debug)]
pub struct Secure<'a> {
    /// SecurityPolicyUri of an OPN chunk's asymmetric header.
    pub policy: Option<&'a [u8]>,
    /// Request id, shared by a request and its response.
    pub request_id: u32,
    /// The message body (plain only when the channel is not secured).
    pub body: &'a [u8],
}

/// Reads the security and sequence headers of a chunk's payload (after
/// the 8-byte chunk header).
pub fn secure(kind: MessageType, payload: &[u8]) -> Option<Secure<'_>> {
    let mut r = Reader::new(payload);
    r.u32()?;
    let policy = if kind == MessageType::Open {
        let policy = r.string()?;
        r.string()?;
        r.string()?;
        policy
    } else {
        r.u32()?;
        None
    };
    // Sequence number, then the request id.
    r.u32()?;
    let request_id = r.u32()?;
    Some(Secure { policy, request_id, body: r.rest() })
}

/// A Hello message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello<'a> {
    /// ProtocolVersion.
    pub version: u32,
    /// ReceiveBufferSize of the client.
    pub receive_buffer: u32,
    /// SendBufferSize of the client.
    pub send_buffer: u32,
    /// EndpointUrl.
    pub endpoint: Option<&'a [u8]>,
    /// Bytes left after the URL (0 in a well-formed Hello).
    pub trailing: usize,
}

/// Reads a Hello payload (after the chunk header).
pub fn hello(payload: &[u8]) -> Option<Hello<'_>> {
    let mut r = Reader::new(payload);
    let version = r.u32()?;
    let receive_buffer = r.u32()?;
    let send_buffer = r.u32()?;
    r.skip(8)?;
    let endpoint = r.string()?;
    if endpoint.is_some_and(|u| u.len() > MAX_URL) {
        return None;
    }
    Some(Hello { version, receive_buffer, send_buffer, endpoint, trailing: r.rest().len() })
}

/// An Acknowledge message: (receive buffer, send buffer) of the server.
pub fn acknowledge(payload: &[u8]) -> Option<(u32, u32)> {
    let mut r = Reader::new(payload);
    r.u32()?;
    Some((r.u32()?, r.u32()?))
}

/// An Error message: (status code, reason).
pub fn error(payload: &[u8]) -> Option<(u32, Option<&[u8]>)> {
    let mut r = Reader::new(payload);
    let status = r.u32()?;
    Some((status, r.string().flatten()))
}

/// A ReverseHello message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReverseHello<'a> {
    /// ServerUri.
    pub server_uri: Option<&'a [u8]>,
    /// EndpointUrl.
    pub endpoint: Option<&'a [u8]>,
}

/// Reads a ReverseHello payload (after the chunk header).
pub fn reverse_hello(payload: &[u8]) -> Option<ReverseHello<'_>> {
    let mut r = Reader::new(payload);
    Some(ReverseHello { server_uri: r.string()?, endpoint: r.string()? })
}

/// The type id of a message body and a reader after it.
pub fn body_type(body: &[u8]) -> Option<(NodeId<'_>, Reader<'_>)> {
    let mut r = Reader::new(body);
    let id = r.node_id()?;
    Some((id, r))
}

/// Reads an OpenSecureChannel request after its RequestHeader: (request
/// type: 0 issue / 1 renew, security mode: 1 None, 2 Sign, 3 SignAndEncrypt).
pub fn open_request(r: &mut Reader<'_>) -> Option<(u32, u32)> {
    r.u32()?;
    Some((r.u32()?, r.u32()?))
}

/// The node ids and count of a request's main array, for targets and for
/// finding BuildInfo in Read results.
#[derive(Clone, Copy, Debug, Default)]
pub struct Nodes<'a> {
    /// The first node of the array.
    pub first: Option<NodeId<'a>>,
    /// How many elements the array has.
    pub count: usize,
    /// Namespace-0 numeric ids of the first elements read for their Value
    /// attribute (0 for any other element).
    pub value_ids: [u32; 8],
}

/// The AttributeId of the Value attribute.
const VALUE_ATTRIBUTE: u32 = 13;

/// Reads the nodes of a ReadRequest after its RequestHeader.
pub fn read_request(mut r: Reader<'_>) -> Option<Nodes<'_>> {
    r.skip(8 + 4)?;
    let count = r.count()?;
    let mut nodes = Nodes { count, ..Nodes::default() };
    for i in 0..count.min(MAX_ITEMS) {
        let id = r.node_id()?;
        let attribute = r.u32()?;
        r.string()?;
        r.qualified_name()?;
        if i == 0 {
            nodes.first = Some(id);
        }
        if let (Some(slot), Some(n), VALUE_ATTRIBUTE) = (nodes.value_ids.get_mut(i), id.ns0(), attribute) {
            *slot = n;
        }
    }
    Some(nodes)
}

/// The first node and the length of the array that starts a request body
/// after `skip` fixed bytes (Write, DeleteNodes, HistoryRead...).
pub fn first_node(mut r: Reader<'_>, skip: usize) -> Option<Nodes<'_>> {
    r.skip(skip)?;
    let count = r.count()?;
    let first = if count > 0 { Some(r.node_id()?) } else { None };
    Some(Nodes { first, count, ..Nodes::default() })
}

/// The nodes of a BrowseRequest after its RequestHeader.
pub fn browse_request(mut r: Reader<'_>) -> Option<Nodes<'_>> {
    // View: ViewId, Timestamp, ViewVersion; RequestedMaxReferencesPerNode.
    r.node_id()?;
    r.skip(8 + 4 + 4)?;
    first_node(r, 0)
}

/// The nodes of a HistoryReadRequest after its RequestHeader.
pub fn history_read_request(mut r: Reader<'_>) -> Option<Nodes<'_>> {
    r.extension_object()?;
    first_node(r, 4 + 1)
}

/// The first method called by a CallRequest (after its RequestHeader) and
/// the number of calls.
pub fn call_request(mut r: Reader<'_>) -> Option<Nodes<'_>> {
    let count = r.count()?;
    if count == 0 {
        return Some(Nodes::default());
    }
    r.node_id()?;
    let method = r.node_id()?;
    Some(Nodes { first: Some(method), count, ..Nodes::default() })
}

/// The user identity token of an ActivateSessionRequest (after its
/// RequestHeader): its encoding id and binary body.
pub fn identity_token(mut r: Reader<'_>) -> Option<(u32, Option<&[u8]>)> {
    // ClientSignature.
    r.string()?;
    r.string()?;
    // ClientSoftwareCertificates.
    for _ in 0..r.count()? {
        r.string()?;
        r.string()?;
    }
    r.skip_strings()?;
    let (type_id, body) = r.extension_object()?;
    Some((type_id.ns0()?, body))
}

/// The user name of a UserNameIdentityToken body.
pub fn user_name(body: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(body);
    r.string()?;
    r.string().flatten()
}

/// What a CreateSessionRequest (after its RequestHeader) says: the client's
/// description and the endpoint URL it asked for.
pub fn create_session_request(mut r: Reader<'_>) -> Option<(Application<'_>, Option<&[u8]>)> {
    let client = r.application()?;
    r.string()?;
    let endpoint = r.string().flatten();
    Some((client, endpoint))
}

/// Reads a CreateSessionResponse after its ResponseHeader up to its
/// endpoints: (server certificate length, endpoint reader).
pub fn create_session_response(mut r: Reader<'_>) -> Option<(usize, Endpoints<'_>)> {
    r.node_id()?;
    r.node_id()?;
    r.skip(8)?;
    r.string()?;
    let certificate = r.string()?.map_or(0, <[u8]>::len);
    Some((certificate, Endpoints::new(r)?))
}

/// An EndpointDescription.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint<'a> {
    /// EndpointUrl.
    pub url: Option<&'a [u8]>,
    /// The server offering it.
    pub server: Application<'a>,
    /// MessageSecurityMode.
    pub mode: u32,
    /// SecurityPolicyUri.
    pub policy: Option<&'a [u8]>,
}

/// An array of EndpointDescriptions, decoded as it is iterated.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Endpoints<'a> {
    /// Endpoints from an array starting at `r` (a GetEndpointsResponse body
    /// after its ResponseHeader).
    pub fn new(mut r: Reader<'a>) -> Option<Self> {
        let left = r.count()?.min(MAX_ITEMS);
        Some(Endpoints { reader: r, left })
    }
}

impl<'a> Iterator for Endpoints<'a> {
    type Item = Endpoint<'a>;

    fn next(&mut self) -> Option<Endpoint<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = &mut self.reader;
        let url = r.string()?;
        let server = r.application()?;
        r.string()?;
        let mode = r.u32()?;
        let policy = r.string()?;
        // UserIdentityTokens: PolicyId, TokenType, IssuedTokenType,
        // IssuerEndpointUrl, SecurityPolicyUri.
        for _ in 0..r.count()? {
            r.string()?;
            r.u32()?;
            r.string()?;
            r.string()?;
            r.string()?;
        }
        r.string()?;
        r.u8()?;
        Some(Endpoint { url, server, mode, policy })
    }
}

/// An array of ApplicationDescriptions (a FindServersResponse body after
/// its ResponseHeader), decoded as it is iterated.
#[derive(Clone, Copy, Debug)]
pub struct Applications<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Applications<'a> {
    /// Applications from an array starting at `r`.
    pub fn new(mut r: Reader<'a>) -> Option<Self> {
        let left = r.count()?.min(MAX_ITEMS);
        Some(Applications { reader: r, left })
    }
}

impl<'a> Iterator for Applications<'a> {
    type Item = Application<'a>;

    fn next(&mut self) -> Option<Application<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.reader.application()
    }
}

/// The RegisteredServer of a RegisterServer(2)Request after its
/// RequestHeader.
pub fn registered_server(mut r: Reader<'_>) -> Option<Application<'_>> {
    let uri = r.string()?;
    let product_uri = r.string()?;
    let mut name = None;
    for i in 0..r.count()? {
        let text = r.localized_text()?;
        if i == 0 {
            name = text;
        }
    }
    r.u32()?;
    r.string()?;
    let urls = r.strings()?;
    Some(Application { uri, product_uri, name, urls })
}

/// The values of a ReadResponse after its ResponseHeader, decoded as they
/// are iterated.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Values<'a> {
    /// Values from an array starting at `r`.
    pub fn new(mut r: Reader<'a>) -> Option<Self> {
        let left = r.count()?.min(MAX_ITEMS);
        Some(Values { reader: r, left })
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.reader.value()
    }
}

/// The encoding id of a binary BuildInfo structure.
pub const BUILD_INFO_ENCODING: u32 = 340;
/// The encoding id of a binary ServerStatusDataType structure.
pub const SERVER_STATUS_ENCODING: u32 = 864;

/// A BuildInfo structure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo<'a> {
    /// ProductUri.
    pub product_uri: Option<&'a [u8]>,
    /// ManufacturerName.
    pub manufacturer: Option<&'a [u8]>,
    /// ProductName.
    pub product_name: Option<&'a [u8]>,
    /// SoftwareVersion.
    pub software_version: Option<&'a [u8]>,
    /// BuildNumber.
    pub build_number: Option<&'a [u8]>,
}

/// Reads the BuildInfo in a binary BuildInfo or ServerStatusDataType body.
pub fn build_info(encoding: u32, body: &[u8]) -> Option<BuildInfo<'_>> {
    let mut r = Reader::new(body);
    match encoding {
        BUILD_INFO_ENCODING => {}
        // StartTime, CurrentTime, State.
        SERVER_STATUS_ENCODING => r.skip(8 + 8 + 4)?,
        _ => return None,
    }
    Some(BuildInfo {
        product_uri: r.string()?,
        manufacturer: r.string()?,
        product_name: r.string()?,
        software_version: r.string()?,
        build_number: r.string()?,
    })
}

/// Host and port of an `opc.tcp://host:port/path` URL (port `None` when
/// absent or not a number).
pub fn url_host_port(url: &[u8]) -> Option<(&[u8], Option<u16>)> {
    let after = url.iter().position(|&b| b == b':').and_then(|i| url.get(i..))?;
    let rest = after.strip_prefix(b"://")?;
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    // An IPv6 literal is bracketed: [::1]:4840.
    let (host, port) = if let Some(v6) = authority.strip_prefix(b"[") {
        let close = v6.iter().position(|&b| b == b']')?;
        (v6.get(..close)?, v6.get(close + 1..)?.strip_prefix(b":"))
    } else {
        match authority.iter().rposition(|&b| b == b':') {
            Some(i) => (authority.get(..i)?, authority.get(i + 1..)),
            None => (authority, None),
        }
    };
    let port = port.and_then(|p| std::str::from_utf8(p).ok()).and_then(|p| p.parse().ok());
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An OPC UA String.
    pub(crate) fn s(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&(text.len() as i32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }

    #[test]
    fn headers() {
        let h = header(b"HELF\x20\x00\x00\x00").unwrap().unwrap();
        assert_eq!(h, Header { kind: MessageType::Hello, chunk: b'F', size: 32 });
        assert!(header(b"HELF\x20\x00\x00").is_none());
        assert_eq!(header(b"XYZF\x20\x00\x00\x00"), Some(Err(HeaderProblem::UnknownType(*b"XYZ"))));
        assert_eq!(header(b"HELC\x20\x00\x00\x00"), Some(Err(HeaderProblem::ChunkType(MessageType::Hello, b'C'))));
        assert_eq!(header(b"MSGX\x20\x00\x00\x00"), Some(Err(HeaderProblem::ChunkType(MessageType::Message, b'X'))));
        assert!(header(b"MSGC\x20\x00\x00\x00").unwrap().is_ok());
        assert_eq!(header(b"MSGF\x10\x00\x00\x00"), Some(Err(HeaderProblem::Size(MessageType::Message, 16))));
        assert_eq!(header(b"MSGF\x00\x00\x00\x7f"), Some(Err(HeaderProblem::Size(MessageType::Message, 0x7f00_0000))));
        let text = HeaderProblem::UnknownType(*b"X\x01Y").to_string();
        assert_eq!(text, "unknown message type X\\x01Y");
    }

    #[test]
    fn hello_fields() {
        let mut p = Vec::new();
        for v in [0u32, 65536, 65536, 0, 0] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        s(&mut p, "opc.tcp://plc:4840/ua");
        let h = hello(&p).unwrap();
        assert_eq!((h.version, h.receive_buffer, h.endpoint, h.trailing), (0, 65536, Some(&b"opc.tcp://plc:4840/ua"[..]), 0));
        assert!(hello(&p[..p.len() - 1]).is_none());
    }

    #[test]
    fn node_ids() {
        let mut r = Reader::new(&[0x00, 0x55, 0x01, 0x00, 0x77, 0x02, 0x02, 0x02, 0x00, 0x10, 0x27, 0x00, 0x00]);
        assert_eq!(r.node_id(), Some(NodeId::Numeric { ns: 0, id: 0x55 }));
        assert_eq!(r.node_id(), Some(NodeId::Numeric { ns: 0, id: 0x277 }));
        assert_eq!(r.node_id(), Some(NodeId::Numeric { ns: 2, id: 10000 }));
        assert_eq!(r.node_id(), None);
        let mut b = vec![0x03, 0x02, 0x00];
        s(&mut b, "Tag1");
        let id = Reader::new(&b).node_id().unwrap();
        assert_eq!(id.to_string(), "ns=2;s=Tag1");
        assert_eq!(NodeId::Numeric { ns: 0, id: 2258 }.to_string(), "i=2258");
        assert_eq!(NodeId::Opaque { ns: 1, id: &[0xab, 0x01] }.to_string(), "ns=1;b=ab01");
        // Expanded with namespace URI and server index.
        let mut e = vec![0xC1, 0x00, 0x4b, 0x03];
        s(&mut e, "urn:x");
        e.extend_from_slice(&7u32.to_le_bytes());
        let mut r = Reader::new(&e);
        assert_eq!(r.expanded_node_id(), Some(NodeId::Numeric { ns: 0, id: 843 }));
        assert!(r.rest().is_empty());
        assert!(Reader::new(&[0x07]).node_id().is_none());
    }

    #[test]
    fn strings_and_variants() {
        assert_eq!(Reader::new(&[0xff, 0xff, 0xff, 0xff]).string(), Some(None));
        assert_eq!(Reader::new(&[0x05, 0, 0, 0, b'a']).string(), None);
        // Array of three Int32 with dimensions.
        let mut v = vec![0x80 | 0x40 | 6, 3, 0, 0, 0];
        v.extend_from_slice(&[0; 12]);
        v.extend_from_slice(&[1, 0, 0, 0, 3, 0, 0, 0]);
        let mut r = Reader::new(&v);
        assert_eq!(r.variant(0), Some(()));
        assert!(r.rest().is_empty());
        // Deeply nested variants stop.
        let deep = [24u8; 32];
        assert_eq!(Reader::new(&deep).variant(0), None);
        // A DataValue with a string, a status and a server timestamp.
        let mut d = vec![0x01 | 0x02 | 0x08, 12];
        s(&mut d, "open62541");
        d.extend_from_slice(&[0; 12]);
        let mut r = Reader::new(&d);
        assert_eq!(r.value(), Some(Value::String(Some(&b"open62541"[..]))));
        assert!(r.rest().is_empty());
        // Recursive diagnostic infos are bounded.
        let diag = [0x40u8; 16];
        assert_eq!(Reader::new(&diag).skip_diagnostic_info(), None);
    }

    #[test]
    fn build_info_in_server_status() {
        let mut b = vec![0; 20];
        for t in ["urn:p", "ACME", "Widget", "1.2.3", "42"] {
            s(&mut b, t);
        }
        let info = build_info(SERVER_STATUS_ENCODING, &b).unwrap();
        assert_eq!(info.manufacturer, Some(&b"ACME"[..]));
        assert_eq!(info.build_number, Some(&b"42"[..]));
        assert!(build_info(BUILD_INFO_ENCODING, &b[20..]).is_some());
        assert!(build_info(1, &b).is_none());
    }

    #[test]
    fn urls() {
        assert_eq!(url_host_port(b"opc.tcp://127.0.0.1:4840/freeopcua/server/"), Some((&b"127.0.0.1"[..], Some(4840))));
        assert_eq!(url_host_port(b"opc.tcp://Maui-16714:4840/"), Some((&b"Maui-16714"[..], Some(4840))));
        assert_eq!(url_host_port(b"opc.tcp://plc"), Some((&b"plc"[..], None)));
        assert_eq!(url_host_port(b"opc.tcp://[::1]:48010"), Some((&b"::1"[..], Some(48010))));
        assert_eq!(url_host_port(b"nonsense"), None);
    }
}
