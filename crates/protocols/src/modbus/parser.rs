//! Modbus/TCP parsing: the MBAP header, request PDUs and the consistency of
//! response PDUs with the request they answer. Pure functions over borrowed
//! bytes; problems come back as values.

use palisade_model::ViolationKind;
use std::fmt;

/// Length of the MBAP header, unit identifier included.
pub const MBAP_LEN: usize = 7;
/// Largest MBAP length field the specification allows (unit id + 253-byte PDU).
pub const MAX_SPEC_LENGTH: u16 = 254;
/// Largest MBAP length field accepted when framing a stream: Schneider PLCs
/// answer UMAS echo requests a few bytes over the limit.
pub const MAX_FRAME_LENGTH: u16 = 260;
/// Schneider Electric's UMAS function code.
pub const FC_UMAS: u8 = 0x5A;
/// Encapsulated Interface Transport (MEI).
pub const FC_MEI: u8 = 0x2B;
/// MEI type of Read Device Identification.
pub const MEI_DEVICE_ID: u8 = 0x0E;
/// MEI type of CANopen General Reference.
pub const MEI_CANOPEN: u8 = 0x0D;

/// The MBAP header of one Modbus/TCP ADU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mbap {
    /// Transaction identifier, echoed by the response.
    pub transaction: u16,
    /// Protocol identifier, 0 for Modbus.
    pub protocol: u16,
    /// Bytes that follow the length field (unit id + PDU).
    pub length: u16,
    /// Unit (slave) identifier.
    pub unit: u8,
}

impl Mbap {
    /// Reads the header at the start of `data`, if there are enough bytes.
    pub fn parse(data: &[u8]) -> Option<Mbap> {
        let h = data.get(..MBAP_LEN)?;
        Some(Mbap { transaction: be16(h, 0)?, protocol: be16(h, 2)?, length: be16(h, 4)?, unit: *h.get(6)? })
    }

    /// Length of the whole ADU, header included.
    pub fn adu_len(self) -> usize {
        6 + usize::from(self.length)
    }

    /// True when the length field leaves room for a function code and stays
    /// within what a stream framer accepts.
    pub fn length_ok(self) -> bool {
        (2..=MAX_FRAME_LENGTH).contains(&self.length)
    }
}

/// Big-endian u16 at `at`.
pub fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// How the Modbus specification classifies a function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionClass {
    /// A public function code defined by the specification.
    Public,
    /// In the user-defined ranges 65-72 and 100-110.
    UserDefined,
    /// Reserved for legacy products (9, 10, 13, 14, 41, 42, 90, 91, 125-127).
    Reserved,
    /// Neither assigned nor reserved (0, 18, 19, 25-40, 44-64, 73-89, 92-99,
    /// 111-124) or with the exception bit set.
    Unassigned,
}

/// Classifies a function code (without looking at the exception bit).
pub fn classify(fc: u8) -> FunctionClass {
    match fc {
        1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43 => FunctionClass::Public,
        65..=72 | 100..=110 => FunctionClass::UserDefined,
        9 | 10 | 13 | 14 | 41 | 42 | 90 | 91 | 125..=127 => FunctionClass::Reserved,
        _ => FunctionClass::Unassigned,
    }
}

/// A Modbus data table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Read/write bits.
    Coils,
    /// Read-only bits.
    Discrete,
    /// Read/write registers.
    Holding,
    /// Read-only registers.
    Input,
}

impl Table {
    /// The name used in operation targets.
    pub fn name(self) -> &'static str {
        match self {
            Table::Coils => "coils",
            Table::Discrete => "discrete",
            Table::Holding => "holding",
            Table::Input => "input",
        }
    }

    /// Bytes needed to carry `count` items of this table.
    pub fn bytes_for(self, count: u16) -> usize {
        match self {
            Table::Coils | Table::Discrete => usize::from(count).div_ceil(8),
            Table::Holding | Table::Input => usize::from(count) * 2,
        }
    }
}

/// What a request asks for, in the few bytes needed to describe it later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Functions 1-4: read `count` items from `start`.
    Read {
        /// Table read.
        table: Table,
        /// First address.
        start: u16,
        /// Number of items.
        count: u16,
    },
    /// Functions 5, 6, 15, 16 and 22: write `count` items from `start`.
    Write {
        /// Table written.
        table: Table,
        /// First address.
        start: u16,
        /// Number of items.
        count: u16,
    },
    /// Function 23: read and write holding registers in one go.
    ReadWrite {
        /// First register read.
        read_start: u16,
        /// Registers read.
        read_count: u16,
        /// First register written.
        write_start: u16,
        /// Registers written.
        write_count: u16,
    },
    /// Function 8 with its sub-function.
    Diagnostic {
        /// Sub-function code.
        sub: u16,
    },
    /// Functions 7, 11, 12 and 17, which carry no fields.
    Plain,
    /// Functions 20 and 21: the first file/record of the request, if any.
    File {
        /// Function 21 (write) rather than 20 (read).
        write: bool,
        /// (file number, record number) of the first sub-request.
        first: Option<(u16, u16)>,
    },
    /// Function 24: read a FIFO queue.
    Fifo {
        /// FIFO pointer address.
        address: u16,
    },
    /// Function 43/14: Read Device Identification.
    DeviceId {
        /// Read device id code (1 basic, 2 regular, 3 extended, 4 one object).
        code: u8,
        /// First object asked for.
        object: u8,
    },
    /// Function 43 with another MEI type (13 is CANopen).
    Mei {
        /// MEI type.
        mei_type: u8,
    },
    /// Function 90: a Schneider UMAS request.
    Umas {
        /// UMAS function code (unwrapped from a signed 0x38 envelope).
        code: u8,
    },
    /// A function without a known layout.
    Other,
}

/// Something wrong with a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The PDU is not the length its function requires.
    Length {
        /// Function code.
        fc: u8,
        /// Expected PDU length (function code included).
        expected: usize,
        /// Actual PDU length.
        found: usize,
    },
    /// A byte count disagrees with the quantity it should carry.
    ByteCount {
        /// Function code.
        fc: u8,
        /// Byte count implied by the quantity.
        expected: usize,
        /// Byte count in the PDU.
        found: usize,
    },
    /// A quantity outside the range the function allows.
    Quantity {
        /// Function code.
        fc: u8,
        /// Quantity asked for.
        count: u16,
        /// Largest allowed.
        max: u16,
    },
    /// A write-single-coil value other than 0xFF00 or 0x0000.
    CoilValue(u16),
    /// The response carries another function code than the request.
    FunctionMismatch {
        /// Function of the request.
        request: u8,
        /// Function of the response.
        response: u8,
    },
}

impl Problem {
    /// The violation kind this problem is reported as.
    pub fn kind(self) -> ViolationKind {
        match self {
            Problem::Length { .. } | Problem::ByteCount { .. } => ViolationKind::LengthMismatch,
            Problem::Quantity { .. } | Problem::CoilValue(_) => ViolationKind::ReservedValue,
            Problem::FunctionMismatch { .. } => ViolationKind::UnexpectedResponse,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::Length { fc, expected, found } => write!(f, "function {fc}: PDU of {found} bytes, expected {expected}"),
            Problem::ByteCount { fc, expected, found } => {
                write!(f, "function {fc}: byte count {found} does not match the quantity ({expected} expected)")
            }
            Problem::Quantity { fc, count, max } => write!(f, "function {fc}: quantity {count} outside 1..={max}"),
            Problem::CoilValue(v) => write!(f, "write single coil value 0x{v:04x} is neither 0xff00 nor 0x0000"),
            Problem::FunctionMismatch { request, response } => {
                write!(f, "response function {response} answers a function {request} request")
            }
        }
    }
}

/// Checks that `pdu` is exactly `expected` bytes long.
fn exact(fc: u8, pdu: &[u8], expected: usize) -> Result<(), Problem> {
    if pdu.len() == expected {
        Ok(())
    } else {
        Err(Problem::Length { fc, expected, found: pdu.len() })
    }
}

/// Checks a quantity against its allowed range.
fn quantity(fc: u8, count: u16, max: u16) -> Result<(), Problem> {
    if (1..=max).contains(&count) {
        Ok(())
    } else {
        Err(Problem::Quantity { fc, count, max })
    }
}

/// Checks a byte count at `pdu[at]` (one byte) against `expected` and that
/// the data it announces ends the PDU.
fn byte_count(fc: u8, pdu: &[u8], at: usize, expected: usize) -> Result<(), Problem> {
    let found = usize::from(pdu.get(at).copied().unwrap_or(0));
    exact(fc, pdu, at + 1 + found)?;
    if found == expected {
        Ok(())
    } else {
        Err(Problem::ByteCount { fc, expected, found })
    }
}

/// Reads two big-endian u16 fields at 1 and 3, the usual address/quantity pair.
fn pair(pdu: &[u8]) -> (u16, u16) {
    (be16(pdu, 1).unwrap_or(0), be16(pdu, 3).unwrap_or(0))
}

/// Parses a request PDU (function code first). Functions without a known
/// layout come back as [`Request::Other`].
pub fn parse_request(pdu: &[u8]) -> Result<Request, Problem> {
    let fc = pdu.first().copied().unwrap_or(0);
    match fc {
        1..=4 => {
            exact(fc, pdu, 5)?;
            let (start, count) = pair(pdu);
            let (table, max) = match fc {
                1 => (Table::Coils, 2000),
                2 => (Table::Discrete, 2000),
                3 => (Table::Holding, 125),
                _ => (Table::Input, 125),
            };
            quantity(fc, count, max)?;
            Ok(Request::Read { table, start, count })
        }
        5 | 6 => {
            exact(fc, pdu, 5)?;
            let (start, value) = pair(pdu);
            if fc == 5 && value != 0xFF00 && value != 0 {
                return Err(Problem::CoilValue(value));
            }
            let table = if fc == 5 { Table::Coils } else { Table::Holding };
            Ok(Request::Write { table, start, count: 1 })
        }
        15 | 16 => {
            let (start, count) = pair(pdu);
            let (table, max) = if fc == 15 { (Table::Coils, 1968) } else { (Table::Holding, 123) };
            quantity(fc, count, max)?;
            byte_count(fc, pdu, 5, table.bytes_for(count))?;
            Ok(Request::Write { table, start, count })
        }
        22 => {
            exact(fc, pdu, 7)?;
            Ok(Request::Write { table: Table::Holding, start: be16(pdu, 1).unwrap_or(0), count: 1 })
        }
        23 => {
            let (read_start, read_count) = pair(pdu);
            let write_start = be16(pdu, 5).unwrap_or(0);
            let write_count = be16(pdu, 7).unwrap_or(0);
            quantity(fc, read_count, 125)?;
            quantity(fc, write_count, 121)?;
            byte_count(fc, pdu, 9, Table::Holding.bytes_for(write_count))?;
            Ok(Request::ReadWrite { read_start, read_count, write_start, write_count })
        }
        7 | 11 | 12 | 17 => {
            exact(fc, pdu, 1)?;
            Ok(Request::Plain)
        }
        8 => match be16(pdu, 1) {
            Some(sub) => Ok(Request::Diagnostic { sub }),
            None => Err(Problem::Length { fc, expected: 5, found: pdu.len() }),
        },
        20 | 21 => {
            let count = usize::from(pdu.get(1).copied().unwrap_or(0));
            exact(fc, pdu, 2 + count)?;
            let first = match (be16(pdu, 3), be16(pdu, 5)) {
                (Some(file), Some(record)) => Some((file, record)),
                _ => None,
            };
            Ok(Request::File { write: fc == 21, first })
        }
        24 => {
            exact(fc, pdu, 3)?;
            Ok(Request::Fifo { address: be16(pdu, 1).unwrap_or(0) })
        }
        FC_MEI => match pdu.get(1).copied() {
            Some(MEI_DEVICE_ID) => {
                exact(fc, pdu, 4)?;
                Ok(Request::DeviceId { code: pdu.get(2).copied().unwrap_or(0), object: pdu.get(3).copied().unwrap_or(0) })
            }
            Some(mei_type) => Ok(Request::Mei { mei_type }),
            None => Err(Problem::Length { fc, expected: 2, found: pdu.len() }),
        },
        FC_UMAS => match super::umas::request_code(pdu) {
            Some(code) => Ok(Request::Umas { code }),
            None => Err(Problem::Length { fc, expected: 3, found: pdu.len() }),
        },
        _ => Ok(Request::Other),
    }
}

/// Checks a normal (non-exception) response PDU against the request it
/// answers.
pub fn check_response(fc: u8, request: &Request, pdu: &[u8]) -> Result<(), Problem> {
    let response = pdu.first().copied().unwrap_or(0);
    if response != fc {
        return Err(Problem::FunctionMismatch { request: fc, response });
    }
    match *request {
        Request::Read { table, count, .. } => byte_count(fc, pdu, 1, table.bytes_for(count)),
        Request::Write { .. } if fc == 22 => exact(fc, pdu, 7),
        Request::Write { .. } => exact(fc, pdu, 5),
        Request::ReadWrite { read_count, .. } => byte_count(fc, pdu, 1, Table::Holding.bytes_for(read_count)),
        _ => check_response_shape(pdu),
    }
}

/// Checks the length of a response PDU on its own (without the request).
pub fn check_response_shape(pdu: &[u8]) -> Result<(), Problem> {
    let fc = pdu.first().copied().unwrap_or(0);
    let counted = |at: usize| {
        let n = usize::from(pdu.get(at).copied().unwrap_or(0));
        exact(fc, pdu, at + 1 + n)
    };
    match fc {
        1..=4 | 12 | 17 | 20 | 21 | 23 => counted(1),
        5 | 6 | 11 | 15 | 16 => exact(fc, pdu, 5),
        7 => exact(fc, pdu, 2),
        8 if pdu.len() < 3 => Err(Problem::Length { fc, expected: 5, found: pdu.len() }),
        22 => exact(fc, pdu, 7),
        24 => {
            let n = usize::from(be16(pdu, 1).unwrap_or(0));
            exact(fc, pdu, 3 + n)
        }
        _ => Ok(()),
    }
}

/// True for the exception codes the specification defines.
pub fn known_exception(code: u8) -> bool {
    matches!(code, 1..=6 | 8 | 10 | 11)
}

/// True if `pdu` looks like a Modbus request or response on its own: used
/// to recognise the protocol and to find ADU boundaries mid-stream.
pub fn plausible_pdu(pdu: &[u8]) -> bool {
    let Some(&fc) = pdu.first() else { return false };
    if fc & 0x80 != 0 {
        let base = fc & 0x7F;
        return (classify(base) == FunctionClass::Public || base == FC_UMAS)
            && pdu.len() == 2
            && pdu.get(1).is_some_and(|&c| known_exception(c));
    }
    match fc {
        FC_UMAS => super::umas::plausible(pdu),
        FC_MEI => matches!(pdu.get(1), Some(&(MEI_DEVICE_ID | MEI_CANOPEN))),
        _ if classify(fc) == FunctionClass::Public => parse_request(pdu).is_ok() || check_response_shape(pdu).is_ok(),
        _ => false,
    }
}

/// The objects of a Read Device Identification response PDU (function code
/// first), as (object id, value bytes).
pub fn device_id_objects(pdu: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let ok = pdu.first() == Some(&FC_MEI) && pdu.get(1) == Some(&MEI_DEVICE_ID);
    let count = if ok { pdu.get(6).copied().unwrap_or(0) } else { 0 };
    let mut at = 7usize;
    (0..count).map_while(move |_| {
        let id = *pdu.get(at)?;
        let len = usize::from(*pdu.get(at + 1)?);
        let value = pdu.get(at + 2..at + 2 + len)?;
        at += 2 + len;
        Some((id, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbap_header() {
        let h = Mbap::parse(&[0x00, 0x05, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03]).unwrap();
        assert_eq!(h, Mbap { transaction: 5, protocol: 0, length: 6, unit: 1 });
        assert_eq!(h.adu_len(), 12);
        assert!(Mbap::parse(&[0, 1, 0, 0, 0]).is_none());
    }

    #[test]
    fn classification() {
        assert_eq!(classify(3), FunctionClass::Public);
        assert_eq!(classify(43), FunctionClass::Public);
        assert_eq!(classify(66), FunctionClass::UserDefined);
        assert_eq!(classify(105), FunctionClass::UserDefined);
        assert_eq!(classify(9), FunctionClass::Reserved);
        assert_eq!(classify(0), FunctionClass::Unassigned);
        assert_eq!(classify(30), FunctionClass::Unassigned);
        assert_eq!(classify(120), FunctionClass::Unassigned);
    }

    #[test]
    fn read_requests_and_responses() {
        let req = parse_request(&[3, 0x00, 0x64, 0x00, 0x0A]).unwrap();
        assert_eq!(req, Request::Read { table: Table::Holding, start: 100, count: 10 });
        let mut resp = vec![3, 20];
        resp.extend_from_slice(&[0; 20]);
        assert_eq!(check_response(3, &req, &resp), Ok(()));
        let short = [3, 2, 0, 0];
        assert_eq!(check_response(3, &req, &short), Err(Problem::ByteCount { fc: 3, expected: 20, found: 2 }));
        let coils = parse_request(&[1, 0, 1, 0, 8]).unwrap();
        assert_eq!(check_response(1, &coils, &[1, 1, 0xE9]), Ok(()));
        assert_eq!(check_response(1, &coils, &[1, 2, 0xE9, 0]).map_err(|p| p.kind()), Err(ViolationKind::LengthMismatch));
        assert!(matches!(parse_request(&[3, 0, 0, 0, 200]), Err(Problem::Quantity { count: 200, .. })));
        assert!(matches!(parse_request(&[3, 0, 0, 0]), Err(Problem::Length { expected: 5, .. })));
    }

    #[test]
    fn write_requests() {
        assert_eq!(parse_request(&[5, 0, 1, 0xFF, 0]).unwrap(), Request::Write { table: Table::Coils, start: 1, count: 1 });
        assert_eq!(parse_request(&[5, 0, 1, 0x12, 0]), Err(Problem::CoilValue(0x1200)));
        let fc15 = [15, 0, 1, 0, 4, 1, 9];
        assert_eq!(parse_request(&fc15).unwrap(), Request::Write { table: Table::Coils, start: 1, count: 4 });
        let fc16 = [16, 0, 1, 0, 4, 8, 0, 0xAA, 0, 0xBB, 0, 0xCC, 0, 0xDD];
        let req = parse_request(&fc16).unwrap();
        assert_eq!(req, Request::Write { table: Table::Holding, start: 1, count: 4 });
        assert_eq!(check_response(16, &req, &[16, 0, 1, 0, 4]), Ok(()));
        assert!(parse_request(&[16, 0, 1, 0, 4, 6, 0, 0, 0, 0, 0, 0]).is_err());
        let fc23 = [23, 0, 1, 0, 4, 0, 2, 0, 3, 6, 0, 0xAA, 0, 0xBB, 0, 0xCC];
        let req = parse_request(&fc23).unwrap();
        assert_eq!(req, Request::ReadWrite { read_start: 1, read_count: 4, write_start: 2, write_count: 3 });
        assert_eq!(check_response(23, &req, &[23, 8, 0, 0xAA, 0, 0xAA, 0, 0xBB, 0, 0xCC]), Ok(()));
    }

    #[test]
    fn other_requests() {
        assert_eq!(parse_request(&[8, 0, 4, 0, 0]).unwrap(), Request::Diagnostic { sub: 4 });
        assert_eq!(parse_request(&[20, 0]).unwrap(), Request::File { write: false, first: None });
        assert_eq!(parse_request(&[20, 7, 6, 0, 4, 0, 1, 0, 2]).unwrap(), Request::File { write: false, first: Some((4, 1)) });
        assert_eq!(parse_request(&[24, 0, 10]).unwrap(), Request::Fifo { address: 10 });
        assert_eq!(parse_request(&[43, 14, 1, 0]).unwrap(), Request::DeviceId { code: 1, object: 0 });
        assert_eq!(parse_request(&[43, 13, 0, 0]).unwrap(), Request::Mei { mei_type: 13 });
        assert_eq!(parse_request(&[17]).unwrap(), Request::Plain);
        assert_eq!(parse_request(&[90, 0, 0x41, 0xFF, 0]).unwrap(), Request::Umas { code: 0x41 });
        assert_eq!(parse_request(&[66, 1, 2]).unwrap(), Request::Other);
    }

    #[test]
    fn plausibility() {
        assert!(plausible_pdu(&[3, 0, 0, 0, 1]));
        assert!(plausible_pdu(&[3, 2, 0x41, 0xC8]));
        assert!(plausible_pdu(&[0x83, 2]));
        assert!(!plausible_pdu(&[0x83, 0x40]));
        assert!(!plausible_pdu(&[3, 9, 9]));
        assert!(!plausible_pdu(&[0x47, 0x45]));
        assert!(!plausible_pdu(&[]));
    }

    #[test]
    fn device_identification_objects() {
        let mut pdu = vec![43, 14, 1, 0x83, 0, 0, 3, 0, 4];
        pdu.extend_from_slice(b"Acme");
        pdu.extend_from_slice(&[1, 2]);
        pdu.extend_from_slice(b"X1");
        pdu.extend_from_slice(&[2, 50]);
        let objects: Vec<_> = device_id_objects(&pdu).collect();
        assert_eq!(objects, vec![(0, &b"Acme"[..]), (1, &b"X1"[..])]);
        assert_eq!(device_id_objects(&[43, 13, 0]).count(), 0);
    }
}
