//! S7comm-plus (protocol id 0x72) framing: header, integrity part, data
//! part (opcode, function code, sequence number), trailer, and the few
//! cleartext values worth reading. Pure and zero-copy.

use palisade_decode::{be16, be32};

/// The S7comm-plus protocol id (first byte of every PDU).
pub(crate) const PROTOCOL_ID: u8 = 0x72;

/// Opcode of a request.
pub(crate) const OP_REQUEST: u8 = 0x31;
/// Opcode of a response.
pub(crate) const OP_RESPONSE: u8 = 0x32;
/// Opcode of a notification (subscribed values pushed by the PLC).
pub(crate) const OP_NOTIFICATION: u8 = 0x33;
/// Opcode of the second response form (cyclic data of some HMIs).
pub(crate) const OP_RESPONSE2: u8 = 0x02;

/// Function: error.
pub(crate) const FC_ERROR: u16 = 0x04b1;
/// Function: browse the object tree.
pub(crate) const FC_EXPLORE: u16 = 0x04bb;
/// Function: create an object (a session, a subscription, a program block...).
pub(crate) const FC_CREATE_OBJECT: u16 = 0x04ca;
/// Function: delete an object.
pub(crate) const FC_DELETE_OBJECT: u16 = 0x04d4;
/// Function: set one attribute.
pub(crate) const FC_SET_VARIABLE: u16 = 0x04f2;
/// Function: get one attribute (old S7-1200 firmware).
pub(crate) const FC_GET_VARIABLE: u16 = 0x04fc;
/// Function: add a link.
pub(crate) const FC_ADD_LINK: u16 = 0x0506;
/// Function: remove a link.
pub(crate) const FC_REMOVE_LINK: u16 = 0x051a;
/// Function: get a link.
pub(crate) const FC_GET_LINK: u16 = 0x0524;
/// Function: write several variables.
pub(crate) const FC_SET_MULTI_VARIABLES: u16 = 0x0542;
/// Function: read several variables.
pub(crate) const FC_GET_MULTI_VARIABLES: u16 = 0x054c;
/// Function: begin a sequence (transaction).
pub(crate) const FC_BEGIN_SEQUENCE: u16 = 0x0556;
/// Function: end a sequence.
pub(crate) const FC_END_SEQUENCE: u16 = 0x0560;
/// Function: invoke a method.
pub(crate) const FC_INVOKE: u16 = 0x056b;
/// Function: write a variable in substreams.
pub(crate) const FC_SET_VAR_SUBSTREAMED: u16 = 0x057c;
/// Function: read a variable in substreams.
pub(crate) const FC_GET_VAR_SUBSTREAMED: u16 = 0x0586;
/// Function: get variable addresses.
pub(crate) const FC_GET_VARIABLES_ADDRESS: u16 = 0x0590;
/// Function: abort.
pub(crate) const FC_ABORT: u16 = 0x059a;

/// The object id a client names to open a new session
/// (ObjectServerSessionContainer).
pub(crate) const SESSION_CONTAINER: u32 = 0x120;

/// One S7comm-plus PDU (or the first fragment of one).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pdu<'a> {
    /// A keep-alive (versions 0xfe, 0xff).
    KeepAlive,
    /// A data PDU.
    Data {
        /// Protocol version (1, 2, 3).
        version: u8,
        /// The data part (after the integrity part of version 3).
        data: &'a [u8],
        /// False if the PDU continues in the next TSDU (no trailer).
        complete: bool,
    },
}

/// Why a PDU could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PduError {
    /// Not protocol id 0x72, or too short.
    Malformed,
    /// A version that is not defined.
    UnknownVersion(u8),
    /// The header length disagrees with the bytes present.
    Length {
        /// Header plus declared length.
        declared: usize,
        /// Bytes present.
        actual: usize,
    },
}

/// Reads one S7comm-plus PDU from a whole COTP TSDU.
pub(crate) fn pdu(tsdu: &[u8]) -> Result<Pdu<'_>, PduError> {
    if tsdu.first() != Some(&PROTOCOL_ID) {
        return Err(PduError::Malformed);
    }
    let (Some(&version), Some(len)) = (tsdu.get(1), be16(tsdu, 2)) else {
        return Err(PduError::Malformed);
    };
    let declared = 4 + usize::from(len);
    match version {
        1..=3 => {}
        0xfe | 0xff => return Ok(Pdu::KeepAlive),
        other => return Err(PduError::UnknownVersion(other)),
    }
    let body = tsdu.get(4..declared).ok_or(PduError::Length { declared, actual: tsdu.len() })?;
    let complete = match tsdu.get(declared..) {
        Some([]) => false,
        Some([PROTOCOL_ID, v, 0, 0]) if *v == version => true,
        _ => return Err(PduError::Length { declared, actual: tsdu.len() }),
    };
    let data = if version == 3 {
        // Integrity part: digest length (32), digest.
        let dlen = usize::from(*body.first().ok_or(PduError::Malformed)?);
        body.get(1 + dlen..).ok_or(PduError::Malformed)?
    } else {
        body
    };
    Ok(Pdu::Data { version, data, complete })
}

/// True if `payload` (a COTP DT payload) starts a plausible S7comm-plus PDU.
pub(crate) fn looks_like_plus(payload: &[u8], last: bool) -> bool {
    match pdu(payload) {
        Ok(Pdu::Data { data, .. }) => matches!(data.first(), Some(&(OP_REQUEST | OP_RESPONSE | OP_NOTIFICATION | OP_RESPONSE2))),
        Ok(Pdu::KeepAlive) => payload.len() <= 8,
        Err(PduError::Length { declared, actual }) => !last && declared > actual && matches!(payload.get(1), Some(1..=3)),
        Err(_) => false,
    }
}

/// The fixed fields of a data part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    /// Request, response, notification.
    pub opcode: u8,
    /// Function code (0 for notifications).
    pub function: u16,
    /// Sequence number pairing a response with its request.
    pub seq: u16,
    /// Object id the request is addressed to (requests only).
    pub object: u32,
    /// Transport flags (requests and responses).
    pub flags: u8,
    /// What follows the fixed fields (after the transport flags).
    pub body: &'a [u8],
}

/// Reads the opcode, function code and sequence number of a data part.
/// Layout: opcode, 2 reserved, function, 2 reserved, sequence number, then
/// for requests a 4-byte object id, and for requests and responses a
/// transport-flags byte.
pub(crate) fn message(data: &[u8]) -> Option<Message<'_>> {
    let opcode = *data.first()?;
    match opcode {
        OP_REQUEST => Some(Message {
            opcode,
            function: be16(data, 3)?,
            seq: be16(data, 7)?,
            object: be32(data, 9)?,
            flags: *data.get(13)?,
            body: data.get(14..)?,
        }),
        OP_RESPONSE | OP_RESPONSE2 => {
            Some(Message { opcode, function: be16(data, 3)?, seq: be16(data, 7)?, object: 0, flags: *data.get(9)?, body: data.get(10..)? })
        }
        OP_NOTIFICATION => Some(Message { opcode, function: 0, seq: 0, object: be32(data, 1)?, flags: 0, body: data.get(5..)? }),
        _ => None,
    }
}

/// Transport flag of a request that expects no response (seen on the
/// SetVariable requests by which clients acknowledge notifications).
pub(crate) const FLAG_NO_RESPONSE: u8 = 0x40;

/// True for function codes this dissector knows.
pub(crate) fn known_function(fc: u16) -> bool {
    matches!(
        fc,
        FC_ERROR
            | FC_EXPLORE
            | FC_CREATE_OBJECT
            | FC_DELETE_OBJECT
            | FC_SET_VARIABLE
            | FC_GET_VARIABLE
            | FC_ADD_LINK
            | FC_REMOVE_LINK
            | FC_GET_LINK
            | FC_SET_MULTI_VARIABLES
            | FC_GET_MULTI_VARIABLES
            | FC_BEGIN_SEQUENCE
            | FC_END_SEQUENCE
            | FC_INVOKE
            | FC_SET_VAR_SUBSTREAMED
            | FC_GET_VAR_SUBSTREAMED
            | FC_GET_VARIABLES_ADDRESS
            | FC_ABORT
    )
}

/// Reads a variable-length unsigned integer (7 bits a byte, high bit set
/// on all but the last byte, most significant first; a 9th byte carries 8
/// bits). Returns the value and the bytes used.
pub(crate) fn varuint(b: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for i in 0..9 {
        let byte = *b.get(i)?;
        if i == 8 {
            return Some(((value << 8) | u64::from(byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The error code of a response body (the low 16 bits of the leading
/// return value, negative for errors), if it is an error.
pub(crate) fn response_error(body: &[u8]) -> Option<u16> {
    let (value, _) = varuint(body)?;
    let code = value as u16;
    (code & 0x8000 != 0).then_some(code)
}

/// Attribute ids that only program blocks carry (block number, block
/// language, code block), as attribute elements (0xa3 + id).
const BLOCK_ATTRIBUTES: [[u8; 3]; 3] = [[0xa3, 0x93, 0x59], [0xa3, 0x93, 0x5b], [0xa3, 0x94, 0x14]];

/// True if a CreateObject request body creates a program block.
pub(crate) fn creates_block(body: &[u8]) -> bool {
    body.windows(3).any(|w| BLOCK_ATTRIBUTES.iter().any(|a| a == w))
}

/// Order number and firmware version announced by a PLC in a session
/// attribute ("1;6ES7 211-1BE31-0XB0 ;V3.0"), found among the wide-string
/// values (datatype 0x15) of a response body.
pub(crate) fn station_version(body: &[u8]) -> Option<(&str, &str)> {
    let mut at = 0;
    while let Some(pos) = body.get(at..)?.iter().position(|&b| b == 0x15) {
        let start = at + pos;
        at = start + 1;
        let len = usize::from(*body.get(start + 1)?);
        if !(8..0x80).contains(&len) {
            continue;
        }
        let Some(text) = body.get(start + 2..start + 2 + len).and_then(|t| std::str::from_utf8(t).ok()) else { continue };
        if let Some(found) = split_version(text) {
            return Some(found);
        }
    }
    None
}

/// Splits "N;ORDER;Vx.y" into a plausible order number and version.
fn split_version(text: &str) -> Option<(&str, &str)> {
    let mut parts = text.split(';');
    let (counter, order, version) = (parts.next()?, parts.next()?.trim(), parts.next()?.trim());
    if parts.next().is_some() || counter.is_empty() || !counter.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "6ES7 211-1BE31-0XB0": four alphanumerics, a space, then [0-9A-Z-].
    let (head, tail) = order.split_once(' ')?;
    let order_ok = head.len() == 4
        && head.bytes().all(|b| b.is_ascii_alphanumeric())
        && (6..=20).contains(&tail.len())
        && tail.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    let version_ok = version.len() >= 2 && version.starts_with('V') && version.bytes().skip(1).all(|b| b.is_ascii_digit() || b == b'.');
    (order_ok && version_ok).then_some((order, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    // CreateObject response of an S7-1200 (iti_s7_1200_hmi.pcap), cut short.
    const CREATE_RESPONSE: &[u8] = &[
        0x72, 1, 0, 0x2b, 0x32, 0, 0, 0x04, 0xca, 0, 0, 0, 1, 0x36, 0x11, 0x82, 0x3f, 0, 0x15, 0x1b, b'1', b';', b'6', b'E', b'S', b'7',
        b' ', b'2', b'1', b'1', b'-', b'1', b'B', b'E', b'3', b'1', b'-', b'0', b'X', b'B', b'0', b' ', b';', b'V', b'3', b'.', b'0', 0x72,
        1, 0, 0,
    ];

    #[test]
    fn response_with_version() {
        let Ok(Pdu::Data { version, data, complete }) = pdu(CREATE_RESPONSE) else { panic!("pdu") };
        assert_eq!((version, complete), (1, true));
        let m = message(data).expect("message");
        assert_eq!((m.opcode, m.function, m.seq), (OP_RESPONSE, FC_CREATE_OBJECT, 1));
        assert_eq!(response_error(m.body), None);
        assert_eq!(station_version(m.body), Some(("6ES7 211-1BE31-0XB0", "V3.0")));
        assert!(looks_like_plus(CREATE_RESPONSE, true));
        assert!(!looks_like_plus(&CREATE_RESPONSE[..20], true));
        assert!(looks_like_plus(&CREATE_RESPONSE[..20], false));
    }

    #[test]
    fn version_three_integrity_and_request() {
        let mut p = vec![0x72, 3, 0, 0];
        p.push(32);
        p.extend([0xaa; 32]);
        p.extend([0x31, 0, 0, 0x04, 0xf2, 0, 0, 0x83, 0x1a, 0x70, 0, 0x0e, 0x4d, 0x74, 1, 2]);
        let len = (p.len() - 4) as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p.extend([0x72, 3, 0, 0]);
        let Ok(Pdu::Data { data, .. }) = pdu(&p) else { panic!("pdu") };
        let m = message(data).expect("message");
        assert_eq!(
            (m.opcode, m.function, m.seq, m.object, m.flags, m.body),
            (OP_REQUEST, FC_SET_VARIABLE, 0x831a, 0x7000_0e4d, 0x74, &[1, 2][..])
        );
        p.push(0);
        assert!(matches!(pdu(&p), Err(PduError::Length { .. })));
        assert_eq!(pdu(&[0x72, 9, 0, 0]), Err(PduError::UnknownVersion(9)));
        assert_eq!(pdu(&[0x72, 0xff, 0, 0]), Ok(Pdu::KeepAlive));
    }

    #[test]
    fn varuints_and_errors() {
        assert_eq!(varuint(&[0x11]), Some((0x11, 1)));
        assert_eq!(varuint(&[0x93, 0x59]), Some((2521, 2)));
        assert_eq!(varuint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varuint(&[0x80]), None);
        assert_eq!(response_error(&[0x83, 0xff, 0x7f]), Some(0xffff));
        assert!(creates_block(&[1, 0xa3, 0x93, 0x59, 0]));
        assert!(!creates_block(&[0xa3, 0x82, 0x3f]));
        assert_eq!(split_version("1;6ES7 511-1AK00-0AB0;V2.1"), Some(("6ES7 511-1AK00-0AB0", "V2.1")));
        assert_eq!(split_version("1:::6.32::"), None);
        assert!(known_function(FC_GET_MULTI_VARIABLES) && !known_function(0x1234));
    }
}
