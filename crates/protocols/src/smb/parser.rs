//! SMB framing and headers, pure and zero-copy: the NetBIOS session service
//! header (RFC 1002; the same 4 bytes on direct TCP 445), SMB1 ([MS-CIFS])
//! and SMB2/3 ([MS-SMB2]) headers and the few request bodies that are read.

use palisade_decode::{be16, le16, le32};

/// NetBIOS session message (carries one SMB message).
pub(crate) const NBSS_MESSAGE: u8 = 0x00;
/// NetBIOS session request (called and calling names).
pub(crate) const NBSS_REQUEST: u8 = 0x81;
/// NetBIOS session header length.
pub(crate) const NBSS_LEN: usize = 4;
/// Largest SMB message accepted (SMB2 allows 8 MiB of data plus headers).
pub(crate) const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// SMB1 header length.
pub(crate) const SMB1_HEADER: usize = 32;
/// SMB2 header length.
pub(crate) const SMB2_HEADER: usize = 64;

/// SMB1 NEGOTIATE.
pub(crate) const SMB1_NEGOTIATE: u8 = 0x72;
/// SMB1 SESSION_SETUP_ANDX.
pub(crate) const SMB1_SESSION_SETUP: u8 = 0x73;
/// SMB1 TREE_CONNECT_ANDX.
pub(crate) const SMB1_TREE_CONNECT: u8 = 0x75;
/// SMB1 NT_CREATE_ANDX.
pub(crate) const SMB1_NT_CREATE: u8 = 0xa2;
/// SMB1 WRITE.
pub(crate) const SMB1_WRITE: u8 = 0x0b;
/// SMB1 WRITE_AND_CLOSE.
pub(crate) const SMB1_WRITE_AND_CLOSE: u8 = 0x2c;
/// SMB1 WRITE_ANDX.
pub(crate) const SMB1_WRITE_ANDX: u8 = 0x2f;
/// SMB1 DELETE.
pub(crate) const SMB1_DELETE: u8 = 0x06;
/// SMB1 RENAME.
pub(crate) const SMB1_RENAME: u8 = 0x07;
/// No further command in an AndX chain.
const SMB1_NO_ANDX: u8 = 0xff;

/// SMB2 NEGOTIATE.
pub(crate) const SMB2_NEGOTIATE: u16 = 0x00;
/// SMB2 SESSION_SETUP.
pub(crate) const SMB2_SESSION_SETUP: u16 = 0x01;
/// SMB2 TREE_CONNECT.
pub(crate) const SMB2_TREE_CONNECT: u16 = 0x03;
/// SMB2 CREATE.
pub(crate) const SMB2_CREATE: u16 = 0x05;
/// SMB2 WRITE.
pub(crate) const SMB2_WRITE: u16 = 0x09;
/// SMB2 SET_INFO.
pub(crate) const SMB2_SET_INFO: u16 = 0x11;
/// The wildcard dialect of a multi-protocol negotiate response (SMB2 follows).
pub(crate) const SMB2_WILDCARD: u16 = 0x02ff;
/// NT status: the operation is still running (an interim response).
pub(crate) const STATUS_PENDING: u32 = 0x0000_0103;

/// What an SMB message is, from its protocol id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `\xffSMB`.
    Smb1,
    /// `\xfeSMB`.
    Smb2,
    /// `\xfdSMB`: an SMB3 encrypted message.
    Transform,
    /// `\xfcSMB`: an SMB3 compressed message.
    Compressed,
}

/// The kind of SMB message `msg` starts with.
pub(crate) fn kind(msg: &[u8]) -> Option<Kind> {
    if msg.get(1..4)? != b"SMB" {
        return None;
    }
    Some(match *msg.first()? {
        0xff => Kind::Smb1,
        0xfe => Kind::Smb2,
        0xfd => Kind::Transform,
        0xfc => Kind::Compressed,
        _ => return None,
    })
}

/// A NetBIOS session header: type and length of what follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Nbss {
    /// Message type.
    pub kind: u8,
    /// Length of the payload (24 bits; direct TCP uses all of them).
    pub len: usize,
}

/// Reads a NetBIOS session header that looks right: a session message
/// followed by an SMB protocol id (when those bytes are there), or one of
/// the small control messages with its expected length.
pub(crate) fn nbss(data: &[u8]) -> Option<Nbss> {
    let message_type = *data.first()?;
    let len = usize::from(*data.get(1)?) << 16 | usize::from(be16(data, 2)?);
    let ok = match message_type {
        NBSS_MESSAGE => (SMB1_HEADER..=MAX_MESSAGE).contains(&len) && data.get(NBSS_LEN..NBSS_LEN + 4).is_none_or(|m| kind(m).is_some()),
        NBSS_REQUEST => (68..=600).contains(&len),
        0x82 | 0x85 => len == 0,
        0x83 => len == 1,
        0x84 => len == 6,
        _ => false,
    };
    ok.then_some(Nbss { kind: message_type, len })
}

/// The calling (client) and called (server) names of a session request.
pub(crate) fn session_request_names(payload: &[u8]) -> Option<(crate::nbns::Name, crate::nbns::Name)> {
    let (called, at) = crate::nbns::read_name(payload, 0)?;
    let (calling, _) = crate::nbns::read_name(payload, at)?;
    Some((calling, called))
}

/// The fields of an SMB2 header that are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Smb2 {
    /// Command code.
    pub command: u16,
    /// NT status (responses).
    pub status: u32,
    /// Flags (bit 0: response, bit 1: async).
    pub flags: u32,
    /// Offset of the next message of a compound chain, 0 for the last.
    pub next: u32,
    /// Message id that pairs a response with its request.
    pub message_id: u64,
    /// Tree id (0 in an async header).
    pub tree_id: u32,
}

impl Smb2 {
    /// Reads the header at the start of `msg`.
    pub(crate) fn parse(msg: &[u8]) -> Option<Smb2> {
        if kind(msg)? != Kind::Smb2 || le16(msg, 4)? != 64 {
            return None;
        }
        let message_id = u64::from(le32(msg, 24)?) | u64::from(le32(msg, 28)?) << 32;
        let flags = le32(msg, 16)?;
        let tree_id = if flags & 2 == 0 { le32(msg, 36)? } else { 0 };
        Some(Smb2 { command: le16(msg, 12)?, status: le32(msg, 8)?, flags, next: le32(msg, 20)?, message_id, tree_id })
    }

    /// True for a response (server to client).
    pub(crate) fn is_response(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// The fields of an SMB1 header that are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Smb1 {
    /// Command code of the first block.
    pub command: u8,
    /// Status (an NT status, or a DOS error class and code).
    pub status: u32,
    /// Flags (0x80: reply).
    pub flags: u8,
    /// Flags2 (0x8000: strings are Unicode).
    pub flags2: u16,
    /// Tree id.
    pub tid: u16,
    /// Multiplex id that pairs a reply with its request.
    pub mid: u16,
}

impl Smb1 {
    /// Reads the header at the start of `msg`.
    pub(crate) fn parse(msg: &[u8]) -> Option<Smb1> {
        if kind(msg)? != Kind::Smb1 {
            return None;
        }
        Some(Smb1 {
            command: *msg.get(4)?,
            status: le32(msg, 5)?,
            flags: *msg.get(9)?,
            flags2: le16(msg, 10)?,
            tid: le16(msg, 24)?,
            mid: le16(msg, 30)?,
        })
    }

    /// True for a reply (server to client).
    pub(crate) fn is_reply(&self) -> bool {
        self.flags & 0x80 != 0
    }

    /// True if strings are UTF-16LE.
    pub(crate) fn unicode(&self) -> bool {
        self.flags2 & 0x8000 != 0
    }
}

/// One command block of an SMB1 message: its parameter words and data bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Block<'a> {
    /// The command.
    pub command: u8,
    /// Parameter words (2 × word count bytes).
    pub words: &'a [u8],
    /// Data bytes.
    pub bytes: &'a [u8],
    /// Offset of `bytes` in the message (for Unicode alignment).
    pub bytes_at: usize,
}

/// Commands whose block starts with an AndX header (next command, offset).
fn is_andx(command: u8) -> bool {
    matches!(command, 0x24 | 0x2d | 0x2e | 0x2f | 0x73 | 0x74 | 0x75 | 0xa2)
}

/// The command blocks of an SMB1 message, following the AndX chain.
pub(crate) fn blocks(msg: &[u8]) -> impl Iterator<Item = Block<'_>> {
    let mut next = msg.get(4).map(|&command| (command, SMB1_HEADER));
    std::iter::from_fn(move || {
        let (command, at) = next.take()?;
        let word_count = usize::from(*msg.get(at)?);
        let words = msg.get(at + 1..at + 1 + 2 * word_count)?;
        let count_at = at + 1 + 2 * word_count;
        let byte_count = usize::from(le16(msg, count_at)?);
        let bytes_at = count_at + 2;
        // A truncated message still gives what it has of the bytes.
        let bytes = msg.get(bytes_at..(bytes_at + byte_count).min(msg.len())).unwrap_or_default();
        if is_andx(command) {
            if let (Some(&following), Some(offset)) = (words.first(), le16(words, 2)) {
                let offset = usize::from(offset);
                if following != SMB1_NO_ANDX && offset > at {
                    next = Some((following, offset));
                }
            }
        }
        Some(Block { command, words, bytes, bytes_at })
    })
}

/// A string in an SMB1 data area starting at `at` (relative to the block's
/// bytes): UTF-16LE aligned to an even offset in the message when
/// `unicode`, else single-byte. Returns the string bytes (without the NUL)
/// and the offset after the terminator.
pub(crate) fn smb1_string<'a>(block: &Block<'a>, at: usize, unicode: bool) -> Option<(&'a [u8], usize)> {
    if !unicode {
        let rest = block.bytes.get(at..)?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        return Some((rest.get(..end)?, at + end + 1));
    }
    let start = at + (block.bytes_at + at) % 2;
    let rest = block.bytes.get(start..)?;
    let end = rest.chunks_exact(2).position(|u| u == [0, 0]).map_or(rest.len() & !1, |units| units * 2);
    Some((rest.get(..end)?, start + end + 2))
}

/// A name of `len` bytes at `offset` from the start of an SMB2 message.
pub(crate) fn smb2_buffer(msg: &[u8], offset: u16, len: u16) -> Option<&[u8]> {
    let start = usize::from(offset);
    msg.get(start..start + usize::from(len))
}

/// The name of an SMB2 dialect revision.
pub(crate) fn dialect_name(dialect: u16) -> Option<&'static str> {
    Some(match dialect {
        0x0202 => "2.0.2",
        0x0210 => "2.1",
        0x0300 => "3.0",
        0x0302 => "3.0.2",
        0x0311 => "3.1.1",
        _ => return None,
    })
}
