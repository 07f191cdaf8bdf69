//! PROFINET IO context management (PNIO-CM) over connectionless DCE/RPC
//! (UDP 34964): pure, zero-copy parsing of the RPC header, the NDR array
//! header and the PNIO blocks that matter (read/write record headers, the
//! AR block of a Connect, the I&M0 record).

use super::parser::{be16, be32};

/// Length of the connectionless DCE/RPC header.
pub const HEADER_LEN: usize = 80;

/// DCE/RPC packet types used here.
pub mod ptype {
    /// A call.
    pub const REQUEST: u8 = 0;
    /// The call's result.
    pub const RESPONSE: u8 = 2;
    /// The call failed in the RPC layer.
    pub const FAULT: u8 = 3;
    /// The server refused the call.
    pub const REJECT: u8 = 6;
    /// The highest defined packet type (cancel ack).
    pub const LAST: u8 = 10;
}

/// PNIO operation numbers.
pub mod opnum {
    /// Establishes an application relation.
    pub const CONNECT: u16 = 0;
    /// Ends an application relation.
    pub const RELEASE: u16 = 1;
    /// Reads a record inside an application relation.
    pub const READ: u16 = 2;
    /// Writes a record.
    pub const WRITE: u16 = 3;
    /// Control (prm end, application ready...).
    pub const CONTROL: u16 = 4;
    /// Reads a record without an application relation.
    pub const READ_IMPLICIT: u16 = 5;
}

/// The RPC interface a call addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    /// PNIO IO-device interface (the server is an IO device).
    Device,
    /// PNIO IO-controller interface (the server is an IO controller).
    Controller,
    /// PNIO supervisor interface.
    Supervisor,
    /// PNIO parameter server interface.
    ParameterServer,
    /// Any other interface (endpoint mapper lookups...).
    Other,
}

/// The fixed tail of every PNIO UUID (interfaces and object ids).
const PNIO_UUID_MID: [u8; 6] = [0x6c, 0x97, 0x11, 0xd1, 0x82, 0x71];
/// The node part of the PNIO interface UUIDs.
const PNIO_INTERFACE_NODE: [u8; 6] = [0x00, 0xa0, 0x24, 0x42, 0xdf, 0x7d];

/// A connectionless DCE/RPC packet.
#[derive(Clone, Copy, Debug)]
pub struct Rpc<'a> {
    /// Packet type ([`ptype`]).
    pub ptype: u8,
    /// Integers in little-endian order (NDR data representation).
    pub little_endian: bool,
    /// The called interface.
    pub interface: Interface,
    /// Vendor and device id from a PNIO object UUID.
    pub object_ids: Option<(u16, u16)>,
    /// The activity (with `seq`, pairs a response with its call).
    pub activity: [u8; 16],
    /// Sequence number of the call within the activity.
    pub seq: u32,
    /// Operation number ([`opnum`]).
    pub opnum: u16,
    /// Fragment number (0 for the first or only fragment).
    pub fragment: u16,
    /// The body (stub data) after the header.
    pub body: &'a [u8],
}

/// Why an RPC packet could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcError {
    /// Not version 4, or a packet type that does not exist.
    NotRpc,
    /// Shorter than its header.
    Truncated,
    /// The body length runs past the datagram.
    Length,
}

/// A UUID's first three fields in the packet's byte order, normalised to
/// big-endian, followed by the last eight bytes.
fn uuid(raw: &[u8], little_endian: bool) -> Option<[u8; 16]> {
    let raw: [u8; 16] = raw.try_into().ok()?;
    let mut out = raw;
    if little_endian {
        out[..4].copy_from_slice(&[raw[3], raw[2], raw[1], raw[0]]);
        out[4..6].copy_from_slice(&[raw[5], raw[4]]);
        out[6..8].copy_from_slice(&[raw[7], raw[6]]);
    }
    Some(out)
}

fn interface(id: &[u8; 16]) -> Interface {
    if id[..3] != [0xde, 0xa0, 0x00] || id[4..10] != PNIO_UUID_MID || id[10..] != PNIO_INTERFACE_NODE {
        return Interface::Other;
    }
    match id[3] {
        1 => Interface::Device,
        2 => Interface::Controller,
        3 => Interface::Supervisor,
        4 => Interface::ParameterServer,
        _ => Interface::Other,
    }
}

/// Vendor and device id from a PNIO object UUID
/// (dea00000-6c97-11d1-8271-IIIIDDDDVVVV: instance, device, vendor).
fn object_ids(id: &[u8; 16]) -> Option<(u16, u16)> {
    if id[..4] != [0xde, 0xa0, 0x00, 0x00] || id[4..10] != PNIO_UUID_MID {
        return None;
    }
    Some((be16(id, 14)?, be16(id, 12)?))
}

/// True if `data` starts like a connectionless DCE/RPC call or reply to a
/// PNIO interface.
pub fn looks_like_pnio(data: &[u8]) -> bool {
    rpc(data).is_ok_and(|r| r.interface != Interface::Other)
}

/// Reads a connectionless DCE/RPC packet.
pub fn rpc(data: &[u8]) -> Result<Rpc<'_>, RpcError> {
    let (&version, &ptype) = data.first().zip(data.get(1)).ok_or(RpcError::NotRpc)?;
    if version != 4 || ptype > ptype::LAST {
        return Err(RpcError::NotRpc);
    }
    let header = data.get(..HEADER_LEN).ok_or(RpcError::Truncated)?;
    let little_endian = header.get(4).is_some_and(|drep| drep & 0x10 != 0);
    let u16_at = |at: usize| {
        header.get(at..at + 2).and_then(|b| b.try_into().ok()).map(|b| {
            if little_endian {
                u16::from_le_bytes(b)
            } else {
                u16::from_be_bytes(b)
            }
        })
    };
    let u32_at = |at: usize| {
        header.get(at..at + 4).and_then(|b| b.try_into().ok()).map(|b| {
            if little_endian {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        })
    };
    let object = header.get(8..24).and_then(|b| uuid(b, little_endian)).ok_or(RpcError::Truncated)?;
    let iface = header.get(24..40).and_then(|b| uuid(b, little_endian)).ok_or(RpcError::Truncated)?;
    let activity: [u8; 16] = header.get(40..56).and_then(|b| b.try_into().ok()).ok_or(RpcError::Truncated)?;
    let seq = u32_at(64).ok_or(RpcError::Truncated)?;
    let opnum = u16_at(68).ok_or(RpcError::Truncated)?;
    let len = usize::from(u16_at(74).ok_or(RpcError::Truncated)?);
    let fragment = u16_at(76).ok_or(RpcError::Truncated)?;
    let body = data.get(HEADER_LEN..HEADER_LEN + len).ok_or(RpcError::Length)?;
    Ok(Rpc { ptype, little_endian, interface: interface(&iface), object_ids: object_ids(&object), activity, seq, opnum, fragment, body })
}

/// The PNIO part of a call or reply body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stub<'a> {
    /// The 4-byte PNIO status of a reply, as one number (0 = OK).
    pub status: Option<u32>,
    /// The PNIO blocks.
    pub blocks: &'a [u8],
}

/// Reads a PNIO body: (reply: PNIOStatus,) ArgsMaximum or ArgsLength, the
/// NDR array header, then the blocks (bounded by the array's actual count).
pub fn stub<'a>(msg: &Rpc<'a>) -> Option<Stub<'a>> {
    let le = msg.little_endian;
    let u32_at = |at: usize| {
        msg.body.get(at..at + 4).and_then(|b| b.try_into().ok()).map(|b| if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    let status = if msg.ptype == ptype::RESPONSE { Some(be32(msg.body, 0)?) } else { None };
    let count = usize::try_from(u32_at(16)?).ok()?;
    let rest = msg.body.get(20..)?;
    Some(Stub { status, blocks: rest.get(..count).unwrap_or(rest) })
}

/// Block types read here.
pub mod block {
    /// IODWriteReqHeader.
    pub const WRITE_REQ: u16 = 0x0008;
    /// IODReadReqHeader.
    pub const READ_REQ: u16 = 0x0009;
    /// I&M0 record data.
    pub const IM0: u16 = 0x0020;
    /// ARBlockReq (first block of a Connect call).
    pub const AR_REQ: u16 = 0x0101;
}

/// A PNIO block: type and body (after the 6-byte header).
fn first_block(blocks: &[u8]) -> Option<(u16, &[u8])> {
    let kind = be16(blocks, 0)?;
    let len = usize::from(be16(blocks, 2)?);
    // The length counts the version bytes, not type and length.
    Some((kind, blocks.get(6..(4 + len).max(6))?))
}

/// A record read or write header (request or response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Slot number.
    pub slot: u16,
    /// Subslot number.
    pub subslot: u16,
    /// Record index.
    pub index: u16,
    /// Record data after the header (responses to reads, write requests).
    pub data: &'a [u8],
}

/// Reads the IODReadReqHeader / IODWriteReqHeader (or the response
/// versions, block type | 0x8000) at the start of `blocks`.
pub fn record(blocks: &[u8]) -> Option<Record<'_>> {
    let (kind, body) = first_block(blocks)?;
    if !matches!(kind & 0x7fff, block::READ_REQ | block::WRITE_REQ) {
        return None;
    }
    // Seq 2, AR UUID 16, API 4, slot, subslot, padding, index, data length.
    let slot = be16(body, 22)?;
    let subslot = be16(body, 24)?;
    let index = be16(body, 28)?;
    let len = usize::try_from(be32(body, 30)?).ok()?;
    let after = blocks.get(6 + body.len()..).unwrap_or_default();
    Some(Record { slot, subslot, index, data: after.get(..len).unwrap_or(after) })
}

/// The IO controller's name of station from the ARBlockReq of a Connect.
pub fn initiator_name(blocks: &[u8]) -> Option<&[u8]> {
    let (kind, body) = first_block(blocks)?;
    if kind != block::AR_REQ {
        return None;
    }
    // AR type 2, AR UUID 16, session key 2, MAC 6, object UUID 16,
    // properties 4, timeout factor 2, UDP port 2, name length 2, name.
    let len = usize::from(be16(body, 50)?);
    body.get(52..52 + len)
}

/// Identification & maintenance record 0 (index 0xAFF0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Im0<'a> {
    /// PROFINET vendor id.
    pub vendor: u16,
    /// Order id (20 characters, space padded).
    pub order_id: &'a [u8],
    /// Serial number (16 characters).
    pub serial: &'a [u8],
    /// Hardware revision.
    pub hardware: u16,
    /// Software revision: prefix letter (V, R, P, U, T) and three numbers.
    pub software: (u8, u8, u8, u8),
}

/// Reads an I&M0 record.
pub fn im0(data: &[u8]) -> Option<Im0<'_>> {
    let (kind, body) = first_block(data)?;
    if kind != block::IM0 {
        return None;
    }
    let sw = body.get(40..44)?;
    Some(Im0 {
        vendor: be16(body, 0)?,
        order_id: body.get(2..22)?,
        serial: body.get(22..38)?,
        hardware: be16(body, 38)?,
        software: (*sw.first()?, *sw.get(1)?, *sw.get(2)?, *sw.get(3)?),
    })
}

/// Record index for the I&M0 record.
pub const INDEX_IM0: u16 = 0xaff0;

/// The name of well-known record indexes.
pub fn index_name(index: u16) -> Option<&'static str> {
    Some(match index {
        0xaff0 => "I&M0",
        0xaff1 => "I&M1",
        0xaff2 => "I&M2",
        0xaff3 => "I&M3",
        0xaff4 => "I&M4",
        0xe000 => "ExpectedIdentificationData",
        0xe001 => "RealIdentificationData",
        0xe002 => "ModuleDiffBlock",
        0xf000 => "ExpectedIdentificationData(API)",
        0xf820 => "ARData",
        0xf830 => "LogBookData",
        0xf840 => "I&M0FilterData",
        0xf841 => "PDRealData",
        0xf842 => "PDExpectedData",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// The Read Implicit call of the PNIO-CM capture (UDP payload).
    fn read_implicit() -> Vec<u8> {
        hex("04000800100000000000a0de976cd111827100010003015a0100a0de976cd111827100a02442df7ddbabbaec1d005443
             b2500b01630abafd0000000001000000000000000500ffffffff54000000000040800000400000004080000000000000
             400000000009003c0100000a0000000000000000000000000000000000000000000000010000f8400000800000000000
             0000000000000000000000000000000000000000")
    }

    #[test]
    fn reads_read_implicit_call() {
        let data = read_implicit();
        assert!(looks_like_pnio(&data));
        let msg = rpc(&data).unwrap();
        assert_eq!(
            (msg.ptype, msg.interface, msg.opnum, msg.seq, msg.fragment),
            (ptype::REQUEST, Interface::Device, opnum::READ_IMPLICIT, 0, 0)
        );
        assert_eq!(msg.object_ids, Some((0x015a, 0x0003)));
        let stub = stub(&msg).unwrap();
        assert_eq!(stub.status, None);
        let rec = record(stub.blocks).unwrap();
        assert_eq!((rec.slot, rec.subslot, rec.index), (0, 1, 0xf840));
        assert_eq!(index_name(rec.index), Some("I&M0FilterData"));
    }

    #[test]
    fn rejects_other_payloads() {
        assert!(!looks_like_pnio(b"GET / HTTP/1.1\r\n"));
        let mut data = read_implicit();
        data[35] = 0x00; // not a PNIO interface UUID
        assert!(!looks_like_pnio(&data));
        assert_eq!(rpc(&data[..40]).err(), Some(RpcError::Truncated));
        assert_eq!(rpc(&data[..100]).err(), Some(RpcError::Length));
    }

    #[test]
    fn reads_im0() {
        let mut rec = hex("0020 0038 0100 002a");
        rec.extend_from_slice(b"6ES7 315-2EH14-0AB0 ");
        rec.extend_from_slice(b"S C-B1U393142011");
        rec.extend_from_slice(&hex("0005 56 03 02 01 0000 0000 0000 0101 001e"));
        let im = im0(&rec).unwrap();
        assert_eq!(im.vendor, 0x002a);
        assert_eq!(im.order_id, b"6ES7 315-2EH14-0AB0 ");
        assert_eq!(im.serial, b"S C-B1U393142011");
        assert_eq!((im.hardware, im.software), (5, (b'V', 3, 2, 1)));
        assert_eq!(im0(&rec[..30]), None);
    }

    #[test]
    fn reads_connect_station_name() {
        let mut ar = hex("0101 0000 0100 0001");
        ar.extend_from_slice(&[0; 16 + 2 + 6 + 16 + 4 + 2 + 2]);
        ar.extend_from_slice(&hex("0004"));
        ar.extend_from_slice(b"plc1");
        let len = (ar.len() - 4) as u16;
        ar[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(initiator_name(&ar), Some(&b"plc1"[..]));
    }
}
