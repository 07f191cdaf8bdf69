//! Classic S7 communication (protocol id 0x32): PDU header, Job/Ack_Data
//! parameters, variable addresses, block names, Userdata parameters and SZL
//! records. Pure and zero-copy: every function reads a borrowed slice and
//! returns small values or sub-slices.

use palisade_decode::{be16, be32};
use std::fmt;

/// The S7comm protocol id (first byte of every PDU).
pub(crate) const PROTOCOL_ID: u8 = 0x32;

/// ROSCTR: a request from the client.
pub(crate) const JOB: u8 = 1;
/// ROSCTR: an acknowledgement without data.
pub(crate) const ACK: u8 = 2;
/// ROSCTR: an acknowledgement with data.
pub(crate) const ACK_DATA: u8 = 3;
/// ROSCTR: user data (SZL, clock, block and security functions...).
pub(crate) const USERDATA: u8 = 7;

/// Job function: setup communication.
pub(crate) const FN_SETUP: u8 = 0xf0;
/// Job function: read variables.
pub(crate) const FN_READ_VAR: u8 = 0x04;
/// Job function: write variables.
pub(crate) const FN_WRITE_VAR: u8 = 0x05;
/// Job function: request download (a block download starts).
pub(crate) const FN_REQUEST_DOWNLOAD: u8 = 0x1a;
/// Job function: start upload (a block upload starts).
pub(crate) const FN_START_UPLOAD: u8 = 0x1d;
/// Job function: program invocation service.
pub(crate) const FN_PI_SERVICE: u8 = 0x28;
/// Job function: PLC stop.
pub(crate) const FN_PLC_STOP: u8 = 0x29;

/// The fixed header of an S7comm PDU and its two parts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    /// Message type (Job, Ack, Ack_Data, Userdata).
    pub rosctr: u8,
    /// Reference that pairs a response with its request.
    pub pdu_ref: u16,
    /// Error class (high byte) and code (low byte) of Ack/Ack_Data; 0 otherwise.
    pub error: u16,
    /// Parameter part.
    pub param: &'a [u8],
    /// Data part.
    pub data: &'a [u8],
}

/// Why a PDU's header could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Too short for a header, or not protocol id 0x32.
    Malformed,
    /// A ROSCTR value that is not defined.
    UnknownRosctr(u8),
    /// Parameter and data lengths disagree with the PDU length.
    Length {
        /// Header plus parameter plus data lengths.
        declared: usize,
        /// Bytes present.
        actual: usize,
    },
}

/// Reads the header of one S7comm PDU (a whole COTP TSDU).
pub(crate) fn header(pdu: &[u8]) -> Result<Header<'_>, HeaderError> {
    if pdu.first() != Some(&PROTOCOL_ID) {
        return Err(HeaderError::Malformed);
    }
    let (Some(&rosctr), Some(pdu_ref), Some(plen), Some(dlen)) = (pdu.get(1), be16(pdu, 4), be16(pdu, 6), be16(pdu, 8)) else {
        return Err(HeaderError::Malformed);
    };
    let (hlen, error) = match rosctr {
        JOB | USERDATA => (10, 0),
        ACK | ACK_DATA => (12, be16(pdu, 10).ok_or(HeaderError::Malformed)?),
        other => return Err(HeaderError::UnknownRosctr(other)),
    };
    let declared = hlen + usize::from(plen) + usize::from(dlen);
    if declared != pdu.len() {
        return Err(HeaderError::Length { declared, actual: pdu.len() });
    }
    let param = pdu.get(hlen..hlen + usize::from(plen)).ok_or(HeaderError::Malformed)?;
    let data = pdu.get(hlen + usize::from(plen)..).ok_or(HeaderError::Malformed)?;
    Ok(Header { rosctr, pdu_ref, error, param, data })
}

/// True if `payload` (a COTP DT payload) starts a plausible S7comm PDU.
pub(crate) fn looks_like_s7(payload: &[u8]) -> bool {
    match header(payload) {
        Ok(h) => match h.rosctr {
            JOB => h.param.first().is_some_and(|&f| known_job_function(f)),
            USERDATA => h.param.get(..3) == Some(&[0, 1, 0x12]),
            _ => true,
        },
        // A Userdata TSDU may be split over several DT TPDUs: accept a first
        // fragment whose header is sane and longer than what is present.
        Err(HeaderError::Length { declared, actual }) => declared > actual && payload.get(2..4) == Some(&[0, 0]),
        Err(_) => false,
    }
}

/// True for Job functions this dissector knows.
pub(crate) fn known_job_function(f: u8) -> bool {
    matches!(f, 0x00 | FN_READ_VAR | FN_WRITE_VAR | 0x1a..=0x1f | FN_PI_SERVICE | FN_PLC_STOP | FN_SETUP)
}

/// Memory areas of variable addresses.
fn area_name(area: u8) -> Option<&'static str> {
    Some(match area {
        0x03 => "SI",
        0x05 => "SF",
        0x06 => "AI",
        0x07 => "AQ",
        0x1c => "C",
        0x1d => "T",
        0x1e => "IC",
        0x1f => "IT",
        0x80 => "P",
        0x81 => "I",
        0x82 => "Q",
        0x83 => "M",
        0x84 => "DB",
        0x85 => "DI",
        0x86 => "L",
        0x87 => "V",
        _ => return None,
    })
}

/// One variable address of a Read/Write Var request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Item {
    /// Syntax id: 0x10 (S7ANY), 0xb0 (DB read) or another (not decoded).
    pub syntax: u8,
    /// Memory area.
    pub area: u8,
    /// Transport size of S7ANY addresses (1 = bit).
    pub tsize: u8,
    /// Data block number (DB/DI areas).
    pub db: u16,
    /// Bit address (byte * 8 + bit); the element number for counters and timers.
    pub address: u32,
    /// Number of elements.
    pub count: u16,
}

impl Item {
    /// Bytes per element of an S7ANY transport size (0 for bits).
    fn element_bytes(&self) -> u32 {
        match self.tsize {
            1 => 0,
            2 | 3 => 1,
            4 | 5 | 0x1c | 0x1d => 2,
            6 | 7 | 8 | 0x1e | 0x1f => 4,
            _ => 1,
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.syntax != 0x10 && self.syntax != 0xb0 {
            return write!(f, "syntax 0x{:02x}", self.syntax);
        }
        let (byte, bit) = (self.address >> 3, self.address & 7);
        let name = area_name(self.area);
        match (name, self.area) {
            (_, 0x1c..=0x1f) => write!(f, "{}{}", name.unwrap_or("?"), self.address)?,
            (Some(n @ ("DB" | "DI")), _) => write!(f, "{n}{}.{n}X{byte}.{bit}", self.db)?,
            (Some(n), _) if bit != 0 || self.tsize == 1 => write!(f, "{n}{byte}.{bit}")?,
            (Some(n), _) => write!(f, "{n}{byte}")?,
            (None, a) => write!(f, "area 0x{a:02x} {byte}.{bit}")?,
        }
        match self.element_bytes() {
            0 => write!(f, " len {}", self.count),
            n => write!(f, " len {}", u32::from(self.count) * n),
        }
    }
}

/// Item addresses of a Read/Write Var parameter part (`0x04|0x05, count, items...`).
pub(crate) struct Items<'a> {
    rest: &'a [u8],
    /// Sub-items of the current DB-read item.
    sub: &'a [u8],
    /// Sub-items left of the current DB-read item.
    sub_left: u8,
    left: u8,
}

/// The variable addresses of a Read/Write Var request (DB-read items
/// yield one address per area).
pub(crate) fn items(param: &[u8]) -> Items<'_> {
    let left = param.get(1).copied().unwrap_or(0);
    Items { rest: param.get(2..).unwrap_or(&[]), sub: &[], sub_left: 0, left }
}

impl Iterator for Items<'_> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.sub_left > 0 {
            // DB-read sub-item: bytes, DB number, start byte.
            self.sub_left -= 1;
            let sub = self.sub.get(..5)?;
            self.sub = self.sub.get(5..)?;
            let start = u32::from(be16(sub, 3)?);
            return Some(Item {
                syntax: 0xb0,
                area: 0x84,
                tsize: 2,
                db: be16(sub, 1)?,
                address: start * 8,
                count: u16::from(*sub.first()?),
            });
        }
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Variable specification 0x12, length of the address, syntax id, address.
        let len = usize::from(*self.rest.get(1)?);
        let spec = self.rest.get(2..2 + len)?;
        self.rest = self.rest.get(2 + len..)?;
        let syntax = *spec.first()?;
        match syntax {
            0x10 => Some(Item {
                syntax,
                tsize: *spec.get(1)?,
                count: be16(spec, 2)?,
                db: be16(spec, 4)?,
                area: *spec.get(6)?,
                address: be32(spec, 6)? & 0x00ff_ffff,
            }),
            0xb0 => {
                // Number of areas, then 5-byte sub-items.
                self.sub_left = *spec.get(1)?;
                self.sub = spec.get(2..)?;
                self.next()
            }
            _ => Some(Item { syntax, ..Item::default() }),
        }
    }
}

/// The first failing item return code of a Read Var response's data part,
/// or of a Write Var response's list of codes (0xff is success).
pub(crate) fn first_item_error(function: u8, data: &[u8]) -> Option<u8> {
    let mut at = 0usize;
    for _ in 0..=255u16 {
        let code = *data.get(at)?;
        if code != 0xff {
            return Some(code);
        }
        if function == FN_WRITE_VAR {
            at += 1;
            continue;
        }
        let tsize = *data.get(at + 1)?;
        let len = usize::from(be16(data, at + 2)?);
        // Lengths are in bits for bit/byte/word/int transport sizes.
        let bytes = if matches!(tsize, 3..=5) { len.div_ceil(8) } else { len };
        at += 4 + bytes + (bytes & 1);
    }
    None
}

/// A program block named by type and number (e.g. DB1, OB35, SDB0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Block {
    /// Block type code (0x08 OB, 0x0a DB, 0x0b SDB, 0x0c FC, 0x0d SFC, 0x0e FB, 0x0f SFB).
    pub kind: u8,
    /// Block number.
    pub number: u32,
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.kind {
            0x08 => "OB",
            0x0a => "DB",
            0x0b => "SDB",
            0x0c => "FC",
            0x0d => "SFC",
            0x0e => "FB",
            0x0f => "SFB",
            other => return write!(f, "block 0x{other:02x} {}", self.number),
        };
        write!(f, "{name}{}", self.number)
    }
}

/// Reads a block name written as two hex digits of type and five decimal
/// digits of number ("0A00001" = DB1).
pub(crate) fn block(text: &[u8]) -> Option<Block> {
    let t = text.get(..7)?;
    let hex = |c: u8| (c as char).to_digit(16);
    let kind = hex(*t.first()?)? * 16 + hex(*t.get(1)?)?;
    let mut number = 0u32;
    for &c in t.get(2..7)? {
        number = number * 10 + (c as char).to_digit(10)?;
    }
    Some(Block { kind: u8::try_from(kind).ok()?, number })
}

/// The block of a Request download / Start upload parameter part: function,
/// status, 2 unknown bytes, a 4-byte id, then a length-prefixed file name
/// "_" + block + file system.
pub(crate) fn transfer_block(param: &[u8]) -> Option<Block> {
    let len = usize::from(*param.get(8)?);
    let name = param.get(9..9 + len)?;
    block(name.get(1..)?)
}

/// A program invocation service request: its name and parameter block.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PiService<'a> {
    /// Service name, e.g. "P_PROGRAM", "_INSE", "_DELE", "_MODU".
    pub name: &'a [u8],
    /// Argument block, e.g. "C " for a cold restart or block names.
    pub args: &'a [u8],
}

/// Reads a PI service parameter part (function 0x28): function, 7 unknown
/// bytes, 2-byte argument length, arguments, 1-byte name length, name.
pub(crate) fn pi_service(param: &[u8]) -> Option<PiService<'_>> {
    let alen = usize::from(be16(param, 8)?);
    let args = param.get(10..10 + alen)?;
    let nlen = usize::from(*param.get(10 + alen)?);
    let name = param.get(11 + alen..11 + alen + nlen)?;
    Some(PiService { name, args })
}

/// The first block named in a PI service's arguments (`_INSE`, `_DELE`:
/// a count, an unknown byte, then 8-character block names).
pub(crate) fn pi_block(args: &[u8]) -> Option<Block> {
    block(args.get(2..)?)
}

/// The service name of a PLC stop parameter part (function 0x29): function,
/// 5 unknown bytes, 1-byte name length, name.
pub(crate) fn stop_service(param: &[u8]) -> Option<&[u8]> {
    let len = usize::from(*param.get(6)?);
    param.get(7..7 + len)
}

/// The parameter part of a Userdata PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UserParam {
    /// 0 push, 4 request, 8 response.
    pub kind: u8,
    /// Function group (1 mode transition, 2 cyclic, 3 block, 4 CPU, 5 security, 7 time...).
    pub group: u8,
    /// Subfunction within the group.
    pub sub: u8,
    /// True for the extended form (responses and follow-up requests).
    pub extended: bool,
    /// False while more data units follow.
    pub last: bool,
    /// Error code of a response.
    pub error: u16,
}

/// Reads a Userdata parameter part: head 00 01 12, length, method,
/// type/group, subfunction, sequence number [, data unit ref, last, error].
pub(crate) fn user_param(param: &[u8]) -> Option<UserParam> {
    if param.get(..3)? != [0, 1, 0x12] {
        return None;
    }
    let len = *param.get(3)?;
    let tg = *param.get(5)?;
    let sub = *param.get(6)?;
    let extended = len >= 8;
    let (last, error) = if extended { (*param.get(9)? == 0, be16(param, 10)?) } else { (true, 0) };
    Some(UserParam { kind: tg >> 4, group: tg & 0x0f, sub, extended, last, error })
}

/// The payload of a Userdata data part (after return code, transport size
/// and length), with the return code.
pub(crate) fn user_data(data: &[u8]) -> Option<(u8, &[u8])> {
    let code = *data.first()?;
    let len = usize::from(be16(data, 2)?);
    Some((code, data.get(4..4 + len).or_else(|| data.get(4..))?))
}

/// A system status list (SZL) partial list: id, index, record length and
/// the records.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Szl<'a> {
    /// SZL id.
    pub id: u16,
    /// SZL index.
    pub index: u16,
    /// Length of one record.
    pub record_len: usize,
    /// The records, `record_len` bytes each.
    pub records: &'a [u8],
}

/// The SZL id and index of a Read SZL request's payload.
pub(crate) fn szl_request(payload: &[u8]) -> Option<(u16, u16)> {
    Some((be16(payload, 0)?, be16(payload, 2)?))
}

/// Reads an SZL response payload.
pub(crate) fn szl(payload: &[u8]) -> Option<Szl<'_>> {
    let record_len = usize::from(be16(payload, 4)?);
    if record_len == 0 {
        return None;
    }
    Some(Szl { id: be16(payload, 0)?, index: be16(payload, 2)?, record_len, records: payload.get(8..)? })
}

impl<'a> Szl<'a> {
    /// The whole records, each as (record index, record bytes).
    pub(crate) fn records(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        let records: &'a [u8] = self.records;
        records.chunks_exact(self.record_len).filter_map(|r| Some((be16(r, 0)?, r)))
    }
}

/// A fixed-width text field of an SZL record, without padding (spaces,
/// NULs), if it is printable.
pub(crate) fn text(field: &[u8]) -> Option<&str> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let s = std::str::from_utf8(field.get(..end)?).ok()?.trim();
    (!s.is_empty() && s.bytes().all(|b| (0x20..0x7f).contains(&b))).then_some(s)
}

/// The version of a module identification record (SZL 0x0011): the
/// `Ausbg`/`Ausbe` words, as "V3.2.7" when the first byte is 'V' (firmware),
/// else the hardware product version number.
pub(crate) fn module_version(record: &[u8]) -> Option<Version> {
    let ausbg = record.get(24..26)?;
    let ausbe = record.get(26..28)?;
    match ausbg {
        [b'V', major] => Some(Version::Firmware(*major, *ausbe.first()?, *ausbe.get(1)?)),
        _ => Some(Version::Hardware(be16(ausbg, 0)?)),
    }
}

/// A version from a module identification record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// Firmware V major.minor.patch.
    Firmware(u8, u8, u8),
    /// Hardware product version.
    Hardware(u16),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Firmware(a, b, c) => write!(f, "V{a}.{b}.{c}"),
            Version::Hardware(v) => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_header_and_items() {
        // Read Var of M16.0 REAL 1 (snap7 capture).
        let pdu = [0x32, 1, 0, 0, 0x19, 0, 0, 14, 0, 0, 4, 1, 0x12, 10, 0x10, 8, 0, 1, 0, 0, 0x83, 0, 0, 0x80];
        let h = header(&pdu).expect("header");
        assert_eq!((h.rosctr, h.pdu_ref, h.param.len(), h.data.len()), (JOB, 0x1900, 14, 0));
        let mut it = items(h.param);
        let item = it.next().expect("item");
        assert_eq!(item.to_string(), "M16 len 4");
        assert_eq!(it.next(), None);
        assert!(looks_like_s7(&pdu));
        assert_eq!(header(&pdu[..20]), Err(HeaderError::Length { declared: 24, actual: 20 }));
        let mut bad = pdu;
        bad[1] = 9;
        assert_eq!(header(&bad), Err(HeaderError::UnknownRosctr(9)));
    }

    #[test]
    fn db_addresses() {
        let param = [4, 1, 0x12, 10, 0x10, 2, 0, 4, 0, 1, 0x84, 0, 0, 0];
        let mut it = items(&param);
        assert_eq!(it.next().map(|i| i.to_string()).as_deref(), Some("DB1.DBX0.0 len 4"));
        // DB read syntax with two sub-items.
        let param = [4, 2, 0x12, 12, 0xb0, 2, 2, 0, 74, 0, 108, 4, 0, 76, 1, 0x94, 0x12, 10, 0x10, 2, 0, 2, 0, 0, 0x83, 0, 0, 0x50];
        let it = items(&param);
        let all: Vec<String> = it.map(|i| i.to_string()).collect();
        assert_eq!(all, ["DB74.DBX108.0 len 2", "DB76.DBX404.0 len 4", "M10 len 2"]);
    }

    #[test]
    fn item_errors() {
        assert_eq!(first_item_error(FN_READ_VAR, &[0xff, 4, 0, 16, 1, 2, 0x0a, 0, 0, 0]), Some(0x0a));
        assert_eq!(first_item_error(FN_READ_VAR, &[0xff, 9, 0, 3, 1, 2, 3]), None);
        assert_eq!(first_item_error(FN_WRITE_VAR, &[0xff, 0x05]), Some(5));
    }

    #[test]
    fn blocks_and_services() {
        assert_eq!(block(b"0B00000A").map(|b| b.to_string()).as_deref(), Some("SDB0"));
        assert_eq!(block(b"0A00017").map(|b| b.to_string()).as_deref(), Some("DB17"));
        assert_eq!(block(b"xx00017"), None);
        let upload = [0x1d, 0, 0, 0, 0, 0, 0, 0, 9, b'_', b'0', b'8', b'0', b'0', b'0', b'0', b'1', b'P'];
        assert_eq!(transfer_block(&upload).map(|b| b.to_string()).as_deref(), Some("OB1"));
        let pi = [0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0, 2, b'C', b' ', 9, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M'];
        assert_eq!(pi_service(&pi), Some(PiService { name: b"P_PROGRAM", args: b"C " }));
        let stop = [0x29, 0, 0, 0, 0, 0, 9, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M'];
        assert_eq!(stop_service(&stop), Some(&b"P_PROGRAM"[..]));
    }

    #[test]
    fn userdata_and_szl() {
        let p = user_param(&[0, 1, 0x12, 8, 0x12, 0x84, 1, 2, 0xd5, 1, 0, 0]).expect("param");
        assert_eq!((p.kind, p.group, p.sub, p.extended, p.last, p.error), (8, 4, 1, true, false, 0));
        let payload = [
            0, 0x11, 0, 0, 0, 28, 0, 1, 0, 1, b'6', b'E', b'S', b'7', b' ', b'3', b'1', b'5', b'-', b'2', b'E', b'H', b'1', b'4', b'-',
            b'0', b'A', b'B', b'0', b' ', 0, 0xc0, 0, 3, 0, 1,
        ];
        let s = szl(&payload).expect("szl");
        let (index, record) = s.records().next().expect("record");
        assert_eq!(index, 1);
        assert_eq!(text(record.get(2..22).expect("field")), Some("6ES7 315-2EH14-0AB0"));
        assert_eq!(module_version(record).map(|v| v.to_string()).as_deref(), Some("3"));
        let mut fw = [0u8; 28];
        fw[24..28].copy_from_slice(&[b'V', 3, 2, 7]);
        assert_eq!(module_version(&fw).map(|v| v.to_string()).as_deref(), Some("V3.2.7"));
        assert_eq!(user_data(&[0xff, 9, 0, 2, 7, 8, 9]), Some((0xff, &[7, 8][..])));
    }
}
