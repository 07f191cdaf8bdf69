//! GOOSE frames (IEC 61850-8-1, ethertype 0x88B8): the 8-byte header
//! (APPID, length, two reserved words) and the BER `goosePdu`.

use crate::ber::{self, Tlv};
use palisade_decode::be16;

/// Bytes of the header before the APDU.
const HEADER_LEN: usize = 8;
/// The "simulated" bit of Reserved 1 (edition 2).
const SIMULATED: u16 = 0x8000;

/// The fields of one GOOSE message that the dissector uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Goose<'a> {
    /// Application identifier.
    pub(crate) appid: u16,
    /// GOOSE control block reference, e.g. `GEDeviceF650/LLN0$GO$gcb01`.
    pub(crate) gocb_ref: &'a str,
    /// Time allowed to live (ms).
    pub(crate) time_allowed_to_live: Option<u64>,
    /// Data set reference.
    pub(crate) dat_set: &'a str,
    /// GOOSE identifier.
    pub(crate) go_id: Option<&'a str>,
    /// State number: increases on every change of the data set's values.
    pub(crate) st_num: u32,
    /// Sequence number: counts retransmissions of one state.
    pub(crate) sq_num: u32,
    /// Test (edition 1) or simulation (edition 2) flag, or the simulated
    /// bit of the header.
    pub(crate) test: bool,
    /// Configuration revision.
    pub(crate) conf_rev: Option<u64>,
    /// Needs commissioning.
    pub(crate) nds_com: bool,
    /// Number of data set entries.
    pub(crate) num_entries: Option<u64>,
}

/// Why a frame could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// Shorter than the header.
    Short,
    /// The header's length disagrees with the frame.
    Length {
        /// Length field.
        declared: u16,
        /// Bytes in the frame.
        actual: usize,
    },
    /// The APDU is not valid BER.
    Ber(ber::Error),
    /// The APDU is not a goosePdu ([APPLICATION 1]).
    NotGoosePdu,
    /// A mandatory field is missing or invalid.
    Field(&'static str),
}

/// Parses a GOOSE frame (the ethertype payload; link padding may follow).
pub(crate) fn parse(data: &[u8]) -> Result<Goose<'_>, Error> {
    let (Some(appid), Some(length), Some(reserved1)) = (be16(data, 0), be16(data, 2), be16(data, 4)) else {
        return Err(Error::Short);
    };
    let declared = usize::from(length);
    if declared < HEADER_LEN || declared > data.len() {
        return Err(Error::Length { declared: length, actual: data.len() });
    }
    let apdu = data.get(HEADER_LEN..declared).ok_or(Error::Short)?;
    let pdu = ber::first(apdu).map_err(Error::Ber)?;
    if !pdu.is_application(1) || !pdu.tag.constructed {
        return Err(Error::NotGoosePdu);
    }
    let mut g = Goose {
        appid,
        gocb_ref: "",
        time_allowed_to_live: None,
        dat_set: "",
        go_id: None,
        st_num: 0,
        sq_num: 0,
        test: reserved1 & SIMULATED != 0,
        conf_rev: None,
        nds_com: false,
        num_entries: None,
    };
    let (mut st, mut sq, mut gocb) = (None, None, None);
    for field in pdu.children() {
        let field = field.map_err(Error::Ber)?;
        if field.tag.class != ber::Class::Context {
            continue;
        }
        match field.tag.number {
            0 => gocb = field.text(),
            1 => g.time_allowed_to_live = field.uint(),
            2 => g.dat_set = field.text().ok_or(Error::Field("datSet"))?,
            3 => g.go_id = field.text(),
            5 => st = small(&field),
            6 => sq = small(&field),
            7 => g.test |= field.boolean().unwrap_or(false),
            8 => g.conf_rev = field.uint(),
            9 => g.nds_com = field.boolean().unwrap_or(false),
            10 => g.num_entries = field.uint(),
            _ => {}
        }
    }
    g.gocb_ref = gocb.ok_or(Error::Field("gocbRef"))?;
    g.st_num = st.ok_or(Error::Field("stNum"))?;
    g.sq_num = sq.ok_or(Error::Field("sqNum"))?;
    Ok(g)
}

/// An INTEGER that fits 32 bits unsigned.
fn small(t: &Tlv<'_>) -> Option<u32> {
    t.uint().and_then(|v| u32::try_from(v).ok())
}

/// The IED part of a control block reference (before the first '/').
pub(crate) fn device_name(gocb_ref: &str) -> Option<&str> {
    gocb_ref.split_once('/').map(|(ied, _)| ied).filter(|s| !s.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a GOOSE frame with the given counters and test flag.
    pub(crate) fn frame(gocb: &str, st: u8, sq: u8, test: bool) -> Vec<u8> {
        let mut pdu = Vec::new();
        let mut field = |tag: u8, v: &[u8]| {
            pdu.push(tag);
            pdu.push(v.len() as u8);
            pdu.extend_from_slice(v);
        };
        field(0x80, gocb.as_bytes());
        field(0x81, &[0x07, 0xd0]);
        field(0x82, b"IED1/LLN0$DS1");
        field(0x83, b"GOOSE1");
        field(0x84, &[0; 8]);
        field(0x85, &[st]);
        field(0x86, &[sq]);
        field(0x87, &[u8::from(test)]);
        field(0x88, &[1]);
        field(0x89, &[0]);
        field(0x8a, &[1]);
        field(0xab, &[0x83, 0x01, 0x00]);
        let mut apdu = vec![0x61, pdu.len() as u8];
        apdu.extend_from_slice(&pdu);
        let len = (apdu.len() + HEADER_LEN) as u16;
        let mut out = vec![0x00, 0x01];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&apdu);
        out
    }

    #[test]
    fn parses_fields() {
        let mut f = frame("IED1/LLN0$GO$gcb01", 3, 7, true);
        f.extend_from_slice(&[0; 6]); // link padding
        let g = parse(&f).expect("goose");
        assert_eq!(g.appid, 1);
        assert_eq!(g.gocb_ref, "IED1/LLN0$GO$gcb01");
        assert_eq!(g.dat_set, "IED1/LLN0$DS1");
        assert_eq!(g.go_id, Some("GOOSE1"));
        assert_eq!((g.st_num, g.sq_num, g.test), (3, 7, true));
        assert_eq!((g.time_allowed_to_live, g.conf_rev, g.num_entries, g.nds_com), (Some(2000), Some(1), Some(1), false));
        assert_eq!(device_name(g.gocb_ref), Some("IED1"));
        assert_eq!(device_name("nameonly"), None);
    }

    #[test]
    fn rejects_bad_frames() {
        let f = frame("IED1/LLN0$GO$gcb01", 1, 1, false);
        assert_eq!(parse(&f[..5]), Err(Error::Short));
        assert!(matches!(parse(&f[..f.len() - 1]), Err(Error::Length { .. })));
        let mut wrong = f.clone();
        wrong[8] = 0x60;
        assert_eq!(parse(&wrong), Err(Error::NotGoosePdu));
        let mut cut = f.clone();
        cut[9] = cut[9].wrapping_add(1);
        assert_eq!(parse(&cut), Err(Error::Ber(ber::Error::Truncated)));
        let mut no_st = f;
        let at = no_st.iter().position(|&b| b == 0x85).expect("stNum tag");
        no_st[at] = 0x9e; // [30]: an unknown field instead of stNum
        assert_eq!(parse(&no_st), Err(Error::Field("stNum")));
    }
}
