//! Schneider Electric UMAS, carried in Modbus function 90 (0x5A).
//!
//! A UMAS PDU is `0x5A, session byte, UMAS function code, data`; responses
//! put 0xFE (OK) or 0xFD (error) where the request had its function code.
//! Function names follow the public reverse-engineering write-ups of the
//! protocol. Note their "upload" (0x30-0x32) moves a program from the
//! engineering station *to* the PLC and "download" (0x33-0x35) *from* it;
//! the operation kinds below use Palisade's vocabulary, where
//! program-download means writing a program into the controller.

use palisade_model::OperationKind as K;
use std::fmt;

/// UMAS response code for success.
pub const RESPONSE_OK: u8 = 0xFE;
/// UMAS response code for an error.
pub const RESPONSE_ERROR: u8 = 0xFD;
/// A signed request: a 32-byte signature, then the real UMAS request.
const SIGNED: u8 = 0x38;
/// Offset of the wrapped UMAS PDU inside a signed request.
const SIGNED_INNER: usize = 36;
/// Read ID: the PLC answers with its model and firmware.
pub const READ_ID: u8 = 0x02;
/// Take PLC reservation: the request carries the client's name.
pub const TAKE_RESERVATION: u8 = 0x10;

/// Known UMAS functions: code, name, operation kind.
const FUNCTIONS: &[(u8, &str, K)] = &[
    (0x01, "init comm", K::Session),
    (0x02, "read id", K::Identify),
    (0x03, "read project info", K::Read),
    (0x04, "read PLC info", K::Diagnostics),
    (0x05, "read loader info", K::Diagnostics),
    (0x06, "read card info", K::Diagnostics),
    (0x07, "read block info", K::Diagnostics),
    (0x0A, "repeat", K::Diagnostics),
    (0x10, "take reservation", K::Login),
    (0x11, "release reservation", K::Session),
    (0x12, "keep alive", K::Session),
    (0x20, "read memory block", K::Read),
    (0x21, "write memory block", K::Write),
    (0x22, "read variables", K::Read),
    (0x23, "write variables", K::Write),
    (0x24, "read coils/registers", K::Read),
    (0x25, "write coils/registers", K::Write),
    (0x26, "data dictionary", K::Read),
    (0x27, "data dictionary preload", K::Read),
    (0x28, "read physical address", K::Read),
    (0x29, "write physical address", K::Write),
    (0x2A, "browse events", K::Read),
    (0x30, "initialize upload (to PLC)", K::ProgramDownload),
    (0x31, "upload block (to PLC)", K::ProgramDownload),
    (0x32, "end upload (to PLC)", K::ProgramDownload),
    (0x33, "initialize download (from PLC)", K::ProgramUpload),
    (0x34, "download block (from PLC)", K::ProgramUpload),
    (0x35, "end download (from PLC)", K::ProgramUpload),
    (0x36, "backup", K::Other),
    (0x37, "preload blocks", K::ProgramDownload),
    (0x38, "signed request", K::Other),
    (0x39, "read ETH master data", K::Read),
    (0x40, "start PLC", K::ControllerStart),
    (0x41, "stop PLC", K::ControllerStop),
    (0x42, "init PLC", K::ColdRestart),
    (0x43, "swap blocks", K::ConfigurationChange),
    (0x50, "monitor PLC", K::Read),
    (0x51, "get auto modif", K::Diagnostics),
    (0x52, "get forced bits", K::Diagnostics),
    (0x53, "get selected blocks", K::Diagnostics),
    (0x58, "check PLC", K::Diagnostics),
    (0x60, "set breakpoint", K::Other),
    (0x61, "delete breakpoint", K::Other),
    (0x62, "step over", K::Other),
    (0x63, "step in", K::Other),
    (0x64, "step out", K::Other),
    (0x65, "get call stack", K::Diagnostics),
    (0x66, "check debug allowed", K::Diagnostics),
    (0x6C, "process message", K::Other),
    (0x6D, "private message", K::Other),
    (0x6E, "reservation nonces", K::Login),
    (0x70, "read IO object", K::Read),
    (0x71, "write IO object", K::Write),
    (0x72, "read rack", K::Read),
    (0x73, "get status module", K::Diagnostics),
    (0x74, "read device data", K::Read),
];

/// Name and operation kind of a UMAS function.
fn lookup(code: u8) -> Option<(&'static str, K)> {
    FUNCTIONS.iter().find(|f| f.0 == code).map(|f| (f.1, f.2))
}

/// The operation kind of a UMAS function.
pub fn kind(code: u8) -> K {
    lookup(code).map_or(K::Other, |f| f.1)
}

/// True for the functions that move a program between station and PLC.
pub fn is_program_transfer(code: u8) -> bool {
    (0x30..=0x35).contains(&code)
}

/// An operation target naming a UMAS function, e.g. `umas:0x41 stop PLC`.
pub struct Target(pub u8);

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = lookup(self.0).map_or("unknown", |x| x.0);
        write!(f, "umas:0x{:02x} {name}", self.0)
    }
}

/// The UMAS function code of a request PDU (Modbus function code first),
/// looking inside a signed envelope.
pub fn request_code(pdu: &[u8]) -> Option<u8> {
    let code = *pdu.get(2)?;
    if code == SIGNED {
        if let Some(inner) = pdu.get(SIGNED_INNER..).filter(|p| p.first() == Some(&super::parser::FC_UMAS)) {
            return inner.get(2).copied().or(Some(code));
        }
    }
    Some(code)
}

/// The outcome in a response PDU: `Ok(())` for 0xFE, `Err(code)` for 0xFD
/// (with the error byte that follows, 0 if none), `None` for anything else.
pub fn response_status(pdu: &[u8]) -> Option<Result<(), u8>> {
    match *pdu.get(2)? {
        RESPONSE_OK => Some(Ok(())),
        RESPONSE_ERROR => Some(Err(pdu.get(3).copied().unwrap_or(0))),
        _ => None,
    }
}

/// True if `pdu` looks like a UMAS request or response.
pub fn plausible(pdu: &[u8]) -> bool {
    pdu.get(2).is_some_and(|&c| c == RESPONSE_OK || c == RESPONSE_ERROR || lookup(c).is_some())
}

/// What a Read ID (0x02) response says about the PLC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlcId<'a> {
    /// The PLC's model, e.g. `BMX P34 2020`.
    pub model: &'a [u8],
    /// Firmware version as (major, minor), printed in hexadecimal (0x02, 0x70 is 2.70).
    pub firmware: (u8, u8),
}

/// Parses a successful Read ID response PDU (Modbus function code first).
pub fn read_id(pdu: &[u8]) -> Option<PlcId<'_>> {
    if pdu.get(2) != Some(&RESPONSE_OK) {
        return None;
    }
    let firmware = (*pdu.get(12)?, *pdu.get(11)?);
    let len = usize::from(*pdu.get(25)?);
    let model = pdu.get(26..26 + len)?;
    Some(PlcId { model, firmware })
}

/// The client name in a Take Reservation (0x10) request PDU, when the
/// length byte before it matches the rest of the PDU exactly.
pub fn reservation_name(pdu: &[u8]) -> Option<&[u8]> {
    let len = usize::from(*pdu.get(7)?);
    let name = pdu.get(8..)?;
    (len > 0 && name.len() == len).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds() {
        assert_eq!(Target(0x41).to_string(), "umas:0x41 stop PLC");
        assert_eq!(Target(0x99).to_string(), "umas:0x99 unknown");
        assert_eq!(kind(0x40), K::ControllerStart);
        assert_eq!(kind(0x34), K::ProgramUpload);
        assert_eq!(kind(0x31), K::ProgramDownload);
        assert_eq!(kind(0x10), K::Login);
        assert_eq!(kind(0xEE), K::Other);
        assert!(is_program_transfer(0x33));
        assert!(!is_program_transfer(0x40));
    }

    #[test]
    fn request_codes() {
        assert_eq!(request_code(&[0x5A, 0x00, 0x02]), Some(0x02));
        assert_eq!(request_code(&[0x5A]), None);
        let mut signed = vec![0x5A, 0x01, 0x38, 0x01];
        signed.extend_from_slice(&[0xAB; 32]);
        signed.extend_from_slice(&[0x5A, 0x01, 0x41, 0xFF, 0x00]);
        assert_eq!(request_code(&signed), Some(0x41));
    }

    #[test]
    fn responses() {
        assert_eq!(response_status(&[0x5A, 0x00, 0xFE]), Some(Ok(())));
        assert_eq!(response_status(&[0x5A, 0x00, 0xFD, 0x81]), Some(Err(0x81)));
        assert_eq!(response_status(&[0x5A, 0x00, 0x10]), None);
        // Read ID answer of a Quantum CPU (from a public capture).
        let mut pdu = vec![0x5A, 0x00, 0xFE, 0x10, 0xFF, 0x5A, 0x01, 0x01, 0x00, 0x00, 0x00, 0x70, 0x02, 0x00, 0x00, 0x27, 0x00];
        pdu.extend_from_slice(&[0x09, 0x00, 0x08, 0x00, 0, 0, 0, 0, 14]);
        pdu.extend_from_slice(b"140 CPU 311 10");
        pdu.extend_from_slice(&[1, 1, 1, 0]);
        let id = read_id(&pdu).unwrap();
        assert_eq!(id.model, b"140 CPU 311 10");
        assert_eq!(id.firmware, (0x02, 0x70));
        assert!(read_id(&pdu[..20]).is_none());
    }

    #[test]
    fn reservation() {
        let mut pdu = vec![0x5A, 0x00, 0x10, 0x43, 0x4C, 0x00, 0x00, 5];
        pdu.extend_from_slice(b"ENG-1");
        assert_eq!(reservation_name(&pdu), Some(&b"ENG-1"[..]));
        pdu.push(0);
        assert_eq!(reservation_name(&pdu), None);
    }
}
