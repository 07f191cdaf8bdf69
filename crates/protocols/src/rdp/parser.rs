//! The RDP connection sequence start ([MS-RDPBCGR] 2.2.1.1, 2.2.1.2 and
//! 2.2.1.3.2): the X.224 Connection Request with its cookie and requested
//! protocols, the Connection Confirm with the selected protocol, and the
//! client core data of an unencrypted MCS Connect Initial. Pure and
//! zero-copy; TPKT framing comes from [`crate::cotp`].

use crate::cotp::{self, Tpkt};
use palisade_decode::{le16, le32};

/// X.224 Connection Request.
const CR: u8 = 0xe0;
/// X.224 Connection Confirm.
const CC: u8 = 0xd0;
/// X.224 Data.
const DT: u8 = 0xf0;
/// Bytes of the X.224 CR/CC fixed part after the length indicator.
const FIXED: usize = 6;
/// RDP_NEG_REQ, RDP_NEG_RSP, RDP_NEG_FAILURE.
const NEG_REQ: u8 = 1;
const NEG_RSP: u8 = 2;
const NEG_FAILURE: u8 = 3;
/// Client core data block type (CS_CORE).
const CS_CORE: u16 = 0xc001;
/// Offset and size of the client name in a CS_CORE block.
const CLIENT_NAME: std::ops::Range<usize> = 24..56;

/// What one TPDU of the connection sequence says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pdu<'a> {
    /// Connection Request.
    Request {
        /// The user name of a `Cookie: mstshash=` cookie.
        user: Option<&'a [u8]>,
        /// Requested protocol flags (none without RDP_NEG_REQ: standard RDP security).
        protocols: u32,
    },
    /// Connection Confirm: the selected protocol, or the failure code.
    Confirm(Result<u32, u32>),
    /// Data: the client name of an MCS Connect Initial, if any.
    Data(Option<&'a [u8]>),
}

/// Reads one TPKT from the start of `data`: the PDU (if one of interest)
/// and the bytes used; `Err(true)` when more bytes are needed, `Err(false)`
/// when this is not TPKT (the TLS that follows the negotiation, say).
pub(crate) fn next(data: &[u8]) -> Result<(Option<Pdu<'_>>, usize), bool> {
    match cotp::tpkt(data) {
        Tpkt::Whole { tpdu, used } => Ok((pdu(tpdu), used)),
        Tpkt::Incomplete => Err(true),
        Tpkt::Invalid => Err(false),
    }
}

/// Reads an X.224 TPDU.
fn pdu(tpdu: &[u8]) -> Option<Pdu<'_>> {
    let li = usize::from(*tpdu.first()?);
    let code = *tpdu.get(1)? & 0xf0;
    match code {
        CR | CC => {
            let variable = tpdu.get(1 + FIXED..=li)?;
            if code == CR {
                request(variable)
            } else {
                Some(Pdu::Confirm(confirm(variable)))
            }
        }
        DT => Some(Pdu::Data(tpdu.get(li + 1..).and_then(client_name))),
        _ => None,
    }
}

/// The variable part of a Connection Request: an optional cookie line, then
/// an optional RDP_NEG_REQ (and correlation info, not read).
fn request(variable: &[u8]) -> Option<Pdu<'_>> {
    let mut user = None;
    let mut rest = variable;
    if rest.starts_with(b"Cookie: ") {
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = rest.get(..end)?;
        user = line.strip_prefix(b"Cookie: mstshash=").filter(|u| !u.is_empty());
        rest = rest.get(end + 2..)?;
    }
    let protocols = match (rest.first(), le16(rest, 2)) {
        (Some(&NEG_REQ), Some(8)) => le32(rest, 4)?,
        (None, _) => 0,
        _ => return None,
    };
    Some(Pdu::Request { user, protocols })
}

/// The variable part of a Connection Confirm.
fn confirm(variable: &[u8]) -> Result<u32, u32> {
    match (variable.first(), le16(variable, 2), le32(variable, 4)) {
        (Some(&NEG_RSP), Some(8), Some(selected)) => Ok(selected),
        (Some(&NEG_FAILURE), Some(8), Some(code)) => Err(code),
        // No negotiation data: an old server, standard RDP security.
        _ => Ok(0),
    }
}

/// The client name (UTF-16LE) of the CS_CORE block inside an MCS Connect
/// Initial, found by its header (type, length, RDP version 8).
fn client_name(payload: &[u8]) -> Option<&[u8]> {
    let at = payload.windows(8).position(|w| {
        le16(w, 0) == Some(CS_CORE) && le16(w, 2).is_some_and(|len| usize::from(len) >= CLIENT_NAME.end) && w.get(6..8) == Some(&[8, 0])
    })?;
    payload.get(at + CLIENT_NAME.start..at + CLIENT_NAME.end)
}

/// The name of a selected security protocol.
pub(crate) fn protocol_name(selected: u32) -> &'static str {
    match selected {
        0 => "standard",
        1 => "tls",
        2 => "nla",
        4 => "rdstls",
        8 => "nla-ex",
        0x10 => "aad",
        _ => "other",
    }
}

/// Recognises a flow that opens with an RDP Connection Request: one whole
/// TPKT whose X.224 CR carries a cookie or an RDP_NEG_REQ.
pub(crate) fn probe(payload: &[u8], is_tcp: bool) -> bool {
    let Ok((Some(Pdu::Request { .. }), used)) = next(payload) else { return false };
    let li = payload.get(4).copied().map(usize::from);
    let class = payload.get(10).copied();
    let variable = payload.get(11..used).unwrap_or_default();
    is_tcp && used == payload.len() && li == Some(used - 5) && class == Some(0) && !variable.is_empty()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Connection Request with an optional cookie and RDP_NEG_REQ.
    pub(crate) fn request_bytes(cookie: Option<&str>, protocols: Option<u32>) -> Vec<u8> {
        let mut variable = Vec::new();
        if let Some(c) = cookie {
            variable.extend(format!("Cookie: {c}\r\n").bytes());
        }
        if let Some(p) = protocols {
            variable.extend([NEG_REQ, 0, 8, 0]);
            variable.extend(p.to_le_bytes());
        }
        tpkt(CR, &variable)
    }

    /// A Connection Confirm with the given negotiation data.
    pub(crate) fn confirm_bytes(kind: u8, value: u32) -> Vec<u8> {
        let mut variable = vec![kind, 0, 8, 0];
        variable.extend(value.to_le_bytes());
        tpkt(CC, &variable)
    }

    /// An X.224 CR or CC in a TPKT.
    fn tpkt(code: u8, variable: &[u8]) -> Vec<u8> {
        let mut x224 = vec![(FIXED + variable.len()) as u8, code, 0, 0, 0x12, 0x34, 0];
        x224.extend_from_slice(variable);
        let mut out = vec![3, 0];
        out.extend(((x224.len() + 4) as u16).to_be_bytes());
        out.extend(x224);
        out
    }

    /// A data TPDU carrying an MCS Connect Initial with a CS_CORE block.
    pub(crate) fn connect_initial(client: &str) -> Vec<u8> {
        let mut core = CS_CORE.to_le_bytes().to_vec();
        core.extend(216u16.to_le_bytes());
        core.extend([4, 0, 8, 0, 0, 5, 0xc0, 3, 1, 0xca, 3, 0xaa, 9, 4, 0, 0, 0x61, 0x4a, 0, 0]);
        let mut name: Vec<u8> = client.encode_utf16().flat_map(u16::to_le_bytes).collect();
        name.resize(32, 0);
        core.extend(name);
        core.resize(216, 0);
        let mut tpdu = vec![2, DT, 0x80, 0x7f, 0x65, 0x82, 0x01, 0x90];
        tpdu.extend([0x04, 0x01, 0x01, 0x04, 0x01, 0x01, 0x01, 0x01, 0xff]);
        tpdu.extend(core);
        let mut out = vec![3, 0];
        out.extend(((tpdu.len() + 4) as u16).to_be_bytes());
        out.extend(tpdu);
        out
    }

    #[test]
    fn request_confirm_and_client_name() {
        let cr = request_bytes(Some("mstshash=eng01"), Some(3));
        assert_eq!(next(&cr), Ok((Some(Pdu::Request { user: Some(&b"eng01"[..]), protocols: 3 }), cr.len())));
        assert!(probe(&cr, true));
        let routing = request_bytes(Some("msts=3640205228.15629.0000"), None);
        assert_eq!(next(&routing).map(|(p, _)| p), Ok(Some(Pdu::Request { user: None, protocols: 0 })));
        assert_eq!(next(&confirm_bytes(NEG_RSP, 2)).map(|(p, _)| p), Ok(Some(Pdu::Confirm(Ok(2)))));
        assert_eq!(next(&confirm_bytes(NEG_FAILURE, 5)).map(|(p, _)| p), Ok(Some(Pdu::Confirm(Err(5)))));
        let ci = connect_initial("HMI-02");
        let Ok((Some(Pdu::Data(Some(name))), _)) = next(&ci) else { panic!("client name") };
        assert_eq!(crate::text::Text::<32>::utf16le(name).as_str(), "HMI-02");
        assert_eq!(next(&cr[..10]), Err(true));
        assert_eq!(next(b"\x16\x03\x01\x00\x10"), Err(false));
    }

    #[test]
    fn probe_is_strict() {
        assert!(probe(&request_bytes(None, Some(0)), true));
        assert!(!probe(&request_bytes(None, None), true));
        assert!(!probe(&request_bytes(Some("mstshash=x"), Some(1)), false));
        // An S7 connection request (TSAP parameters) is not RDP.
        let s7 = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2];
        assert!(!probe(&s7, true));
        assert!(!probe(&confirm_bytes(NEG_RSP, 1), true));
    }
}
