//! ISO transport on TCP (RFC 1006): TPKT framing and COTP (ISO 8073) class 0
//! TPDUs. Not a dissector of its own: S7comm, S7comm-plus and MMS run on it
//! and use these helpers.

use palisade_decode::be16;

/// Smallest TPKT (4-byte header plus a minimal COTP header).
const TPKT_MIN: usize = 7;

/// Result of looking for one TPKT at the start of a stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Tpkt<'a> {
    /// A whole TPKT: its payload (the COTP TPDU) and the bytes it used.
    Whole { tpdu: &'a [u8], used: usize },
    /// More bytes are needed.
    Incomplete,
    /// Not a TPKT header here.
    Invalid,
}

/// Reads one TPKT frame (version 3) from the start of `data`.
pub(crate) fn tpkt(data: &[u8]) -> Tpkt<'_> {
    let (Some(&version), Some(&reserved), Some(len)) = (data.first(), data.get(1), be16(data, 2)) else {
        return Tpkt::Incomplete;
    };
    let len = usize::from(len);
    if version != 3 || reserved != 0 || len < TPKT_MIN {
        return Tpkt::Invalid;
    }
    match data.get(4..len) {
        Some(tpdu) => Tpkt::Whole { tpdu, used: len },
        None => Tpkt::Incomplete,
    }
}

/// True if `data` starts with a plausible TPKT + COTP header (for probes).
pub(crate) fn looks_like_tpkt(data: &[u8]) -> bool {
    match tpkt(data) {
        Tpkt::Whole { tpdu, .. } => cotp(tpdu).is_some(),
        Tpkt::Incomplete => {
            data.len() >= 6 && data.get(..2) == Some(&[3, 0]) && data.get(5).is_some_and(|t| matches!(t & 0xf0, 0xe0 | 0xd0 | 0xf0))
        }
        Tpkt::Invalid => false,
    }
}

/// COTP TPDU kinds that matter here.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cotp<'a> {
    /// Connection request (CR) or confirm (CC), with the TSAPs.
    Connect {
        /// True for CC, false for CR.
        confirm: bool,
        /// Calling TSAP.
        src_tsap: Option<&'a [u8]>,
        /// Called TSAP.
        dst_tsap: Option<&'a [u8]>,
    },
    /// Data (DT): `last` is the end-of-TSDU mark.
    Data {
        /// End of TSDU.
        last: bool,
        /// User data.
        payload: &'a [u8],
    },
    /// Disconnect request/confirm or error.
    Other(u8),
}

/// Parses a COTP TPDU (the TPKT payload).
pub(crate) fn cotp(tpdu: &[u8]) -> Option<Cotp<'_>> {
    let li = usize::from(*tpdu.first()?);
    let header = tpdu.get(1..=li)?;
    let kind = *header.first()? & 0xf0;
    match kind {
        0xf0 => {
            let last = header.get(1).is_some_and(|b| b & 0x80 != 0);
            Some(Cotp::Data { last, payload: tpdu.get(li + 1..)? })
        }
        0xe0 | 0xd0 => {
            let mut src_tsap = None;
            let mut dst_tsap = None;
            // Fixed part: type, dst-ref(2), src-ref(2), class; then parameters.
            let mut at = 6;
            while let (Some(&code), Some(&len)) = (header.get(at), header.get(at + 1)) {
                let value = header.get(at + 2..at + 2 + usize::from(len))?;
                match code {
                    0xc1 => src_tsap = Some(value),
                    0xc2 => dst_tsap = Some(value),
                    _ => {}
                }
                at += 2 + usize::from(len);
            }
            Some(Cotp::Connect { confirm: kind == 0xd0, src_tsap, dst_tsap })
        }
        0x80 | 0xc0 | 0x70 | 0x50 | 0x60 | 0x10 | 0x20 => Some(Cotp::Other(kind)),
        _ => None,
    }
}

/// Joins COTP data TPDUs until the end-of-TSDU mark, within a bound.
#[derive(Debug, Default)]
pub(crate) struct DataAssembly {
    buf: Vec<u8>,
    complete: bool,
}

/// Largest TSDU reassembled from several DT TPDUs.
const MAX_TSDU: usize = 64 * 1024;

impl DataAssembly {
    /// Adds one DT payload; returns the whole TSDU when `last` is set. A
    /// TSDU that grows past the bound is dropped.
    pub(crate) fn push<'s>(&'s mut self, payload: &'s [u8], last: bool) -> Option<&'s [u8]> {
        if self.complete {
            self.buf.clear();
            self.complete = false;
        }
        if self.buf.is_empty() && last {
            return Some(payload);
        }
        if self.buf.len() + payload.len() > MAX_TSDU {
            self.buf.clear();
            return None;
        }
        self.buf.extend_from_slice(payload);
        if last {
            self.complete = true;
            return Some(&self.buf);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_request_with_tsaps() {
        // TPKT(22) + COTP CR: li 17, CR, dst-ref 0, src-ref 1, class 0, tpdu size, src-tsap 0100, dst-tsap 0102
        let frame = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2];
        let Tpkt::Whole { tpdu, used } = tpkt(&frame) else { panic!("whole tpkt") };
        assert_eq!(used, 22);
        assert_eq!(cotp(tpdu), Some(Cotp::Connect { confirm: false, src_tsap: Some(&[1, 0][..]), dst_tsap: Some(&[1, 2][..]) }));
        assert!(looks_like_tpkt(&frame));
        assert_eq!(tpkt(&frame[..10]), Tpkt::Incomplete);
        assert_eq!(tpkt(&[4, 0, 0, 22]), Tpkt::Invalid);
    }

    #[test]
    fn data_tpdus_are_joined() {
        let mut a = DataAssembly::default();
        assert_eq!(a.push(b"abc", false), None);
        assert_eq!(a.push(b"def", true), Some(&b"abcdef"[..]));
        assert_eq!(a.push(b"x", true), Some(&b"x"[..]));
    }
}
