//! IEC 60870-5-104 parsing: APCI frames (I, S and U formats) and the ASDU
//! header (type, variable structure qualifier, cause of transmission,
//! common address, first information object address) with a length check
//! against the type's element size. Pure functions over byte slices.

use palisade_decode::le16;

/// Start octet of every APDU.
pub(crate) const START: u8 = 0x68;
/// Smallest APDU length (the four control octets).
const MIN_LEN: u8 = 4;
/// Largest APDU length.
const MAX_LEN: u8 = 253;
/// ASDU header: type, qualifier, cause, originator, common address (2).
const ASDU_HEADER: usize = 6;
/// Information object address size.
const IOA_LEN: usize = 3;

/// U-format functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UFunction {
    /// STARTDT act.
    StartAct,
    /// STARTDT con.
    StartCon,
    /// STOPDT act.
    StopAct,
    /// STOPDT con.
    StopCon,
    /// TESTFR act.
    TestAct,
    /// TESTFR con.
    TestCon,
}

impl UFunction {
    /// The U-format control octet.
    pub(crate) fn code(self) -> u8 {
        match self {
            UFunction::StartAct => 0x07,
            UFunction::StartCon => 0x0b,
            UFunction::StopAct => 0x13,
            UFunction::StopCon => 0x23,
            UFunction::TestAct => 0x43,
            UFunction::TestCon => 0x83,
        }
    }
}

/// The control field of an APDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Apci {
    /// Information transfer, carrying an ASDU.
    I,
    /// Numbered supervisory (acknowledgement only).
    S,
    /// Unnumbered control function.
    U(UFunction),
}

/// Reads the four control octets; `len` is the APDU length octet.
fn control(c: &[u8], len: u8) -> Option<Apci> {
    let (&c1, &c2, &c3, &c4) = (c.first()?, c.get(1)?, c.get(2)?, c.get(3)?);
    if c1 & 0x01 == 0 {
        // I format: needs an ASDU; the receive sequence number is even-aligned.
        return (len as usize >= 4 + ASDU_HEADER && c3 & 0x01 == 0).then_some(Apci::I);
    }
    if len != MIN_LEN {
        return None;
    }
    if c1 == 0x01 {
        return (c2 == 0 && c3 & 0x01 == 0).then_some(Apci::S);
    }
    if c2 != 0 || c3 != 0 || c4 != 0 {
        return None;
    }
    let function = match c1 {
        0x07 => UFunction::StartAct,
        0x0b => UFunction::StartCon,
        0x13 => UFunction::StopAct,
        0x23 => UFunction::StopCon,
        0x43 => UFunction::TestAct,
        0x83 => UFunction::TestCon,
        _ => return None,
    };
    Some(Apci::U(function))
}

/// Result of looking for an APDU at the start of some bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Apdu<'a> {
    /// A whole APDU: its control field, its ASDU (empty for S and U) and the bytes it used.
    Whole { apci: Apci, asdu: &'a [u8], used: usize },
    /// More bytes are needed.
    Incomplete,
    /// Not an APDU start here.
    Invalid,
}

/// Reads one APDU from the start of `data`.
pub(crate) fn apdu(data: &[u8]) -> Apdu<'_> {
    let Some(&start) = data.first() else { return Apdu::Incomplete };
    if start != START {
        return Apdu::Invalid;
    }
    let Some(&len) = data.get(1) else { return Apdu::Incomplete };
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Apdu::Invalid;
    }
    let Some(c) = data.get(2..6) else { return Apdu::Incomplete };
    let Some(apci) = control(c, len) else { return Apdu::Invalid };
    let used = 2 + usize::from(len);
    match data.get(6..used) {
        Some(asdu) => Apdu::Whole { apci, asdu, used },
        None => Apdu::Incomplete,
    }
}

/// True if `data` starts with a plausible APDU (for probes): a valid
/// control field, a known type and cause for I frames, and, when the
/// whole APDU is there, another start octet or nothing after it.
pub(crate) fn looks_like_apdu(data: &[u8]) -> bool {
    let (Some(&len), Some(c)) = (data.get(1), data.get(2..6)) else { return false };
    if data.first() != Some(&START) || !(MIN_LEN..=MAX_LEN).contains(&len) {
        return false;
    }
    let plausible = match control(c, len) {
        None => false,
        // A known type and at least one object.
        Some(Apci::I) => matches!(data.get(6..8), Some(&[t, q]) if type_info(t).is_some() && q & 0x7f != 0),
        Some(_) => true,
    };
    plausible && data.get(2 + usize::from(len)).is_none_or(|&b| b == START)
}

/// Name and element size (octets, after the address) of a known type
/// identification; the size is `None` where it varies.
pub(crate) fn type_info(type_id: u8) -> Option<(&'static str, Option<u8>)> {
    let (name, size) = match type_id {
        1 => ("M_SP_NA_1", 1),
        2 => ("M_SP_TA_1", 4),
        3 => ("M_DP_NA_1", 1),
        4 => ("M_DP_TA_1", 4),
        5 => ("M_ST_NA_1", 2),
        6 => ("M_ST_TA_1", 5),
        7 => ("M_BO_NA_1", 5),
        8 => ("M_BO_TA_1", 8),
        9 => ("M_ME_NA_1", 3),
        10 => ("M_ME_TA_1", 6),
        11 => ("M_ME_NB_1", 3),
        12 => ("M_ME_TB_1", 6),
        13 => ("M_ME_NC_1", 5),
        14 => ("M_ME_TC_1", 8),
        15 => ("M_IT_NA_1", 5),
        16 => ("M_IT_TA_1", 8),
        17 => ("M_EP_TA_1", 6),
        18 => ("M_EP_TB_1", 7),
        19 => ("M_EP_TC_1", 7),
        20 => ("M_PS_NA_1", 5),
        21 => ("M_ME_ND_1", 2),
        30 => ("M_SP_TB_1", 8),
        31 => ("M_DP_TB_1", 8),
        32 => ("M_ST_TB_1", 9),
        33 => ("M_BO_TB_1", 12),
        34 => ("M_ME_TD_1", 10),
        35 => ("M_ME_TE_1", 10),
        36 => ("M_ME_TF_1", 12),
        37 => ("M_IT_TB_1", 12),
        38 => ("M_EP_TD_1", 10),
        39 => ("M_EP_TE_1", 11),
        40 => ("M_EP_TF_1", 11),
        45 => ("C_SC_NA_1", 1),
        46 => ("C_DC_NA_1", 1),
        47 => ("C_RC_NA_1", 1),
        48 => ("C_SE_NA_1", 3),
        49 => ("C_SE_NB_1", 3),
        50 => ("C_SE_NC_1", 5),
        51 => ("C_BO_NA_1", 4),
        58 => ("C_SC_TA_1", 8),
        59 => ("C_DC_TA_1", 8),
        60 => ("C_RC_TA_1", 8),
        61 => ("C_SE_TA_1", 10),
        62 => ("C_SE_TB_1", 10),
        63 => ("C_SE_TC_1", 12),
        64 => ("C_BO_TA_1", 11),
        70 => ("M_EI_NA_1", 1),
        100 => ("C_IC_NA_1", 1),
        101 => ("C_CI_NA_1", 1),
        102 => ("C_RD_NA_1", 0),
        103 => ("C_CS_NA_1", 7),
        104 => ("C_TS_NA_1", 2),
        105 => ("C_RP_NA_1", 1),
        106 => ("C_CD_NA_1", 2),
        107 => ("C_TS_TA_1", 9),
        110 => ("P_ME_NA_1", 3),
        111 => ("P_ME_NB_1", 3),
        112 => ("P_ME_NC_1", 5),
        113 => ("P_AC_NA_1", 1),
        120 => ("F_FR_NA_1", 6),
        121 => ("F_SR_NA_1", 7),
        122 => ("F_SC_NA_1", 4),
        123 => ("F_LS_NA_1", 5),
        124 => ("F_AF_NA_1", 4),
        125 => return Some(("F_SG_NA_1", None)),
        126 => ("F_DR_TA_1", 13),
        127 => ("F_SC_NB_1", 16),
        _ => return None,
    };
    Some((name, Some(size)))
}

/// Offset of the command qualifier (with its select/execute bit) in the
/// element of a command type.
fn qualifier_offset(type_id: u8) -> Option<usize> {
    match type_id {
        45..=47 | 58..=60 => Some(0),
        48 | 49 | 61 | 62 => Some(2),
        50 | 63 => Some(4),
        _ => None,
    }
}

/// Causes of transmission.
pub(crate) mod cause {
    /// Activation.
    pub(crate) const ACT: u8 = 6;
    /// Activation confirmation.
    pub(crate) const ACT_CON: u8 = 7;
    /// Deactivation.
    pub(crate) const DEACT: u8 = 8;
    /// Deactivation confirmation.
    pub(crate) const DEACT_CON: u8 = 9;
    /// First of the negative "unknown ..." causes (type, cause, common address, IOA).
    pub(crate) const UNKNOWN_TYPE: u8 = 44;
    /// Last of them.
    pub(crate) const UNKNOWN_IOA: u8 = 47;

    /// True for values the standard leaves reserved.
    pub(crate) fn reserved(cot: u8) -> bool {
        matches!(cot, 0 | 14..=19 | 42 | 43)
    }
}

/// The header of an ASDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Asdu {
    /// Type identification.
    pub(crate) type_id: u8,
    /// Number of information objects or elements.
    pub(crate) count: u8,
    /// Cause of transmission (6 bits).
    pub(crate) cause: u8,
    /// Negative confirmation (P/N bit).
    pub(crate) negative: bool,
    /// Test bit.
    pub(crate) test: bool,
    /// Common address of the ASDU.
    pub(crate) common_address: u16,
    /// Address of the first information object.
    pub(crate) ioa: u32,
    /// The select/execute bit of a command qualifier is set (a select).
    pub(crate) select: bool,
}

/// What is wrong with an ASDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AsduError {
    /// Shorter than its header and one address.
    Short,
    /// A type identification not defined by the companion standards.
    UnknownType(u8),
    /// The length does not match the type and the number of objects.
    Length { expected: usize, got: usize },
}

/// Parses an ASDU header and checks its length.
pub(crate) fn asdu(b: &[u8]) -> Result<Asdu, AsduError> {
    let (Some(&type_id), Some(&vsq), Some(&cot), Some(common_address)) = (b.first(), b.get(1), b.get(2), le16(b, 4)) else {
        return Err(AsduError::Short);
    };
    let ioa = match b.get(ASDU_HEADER..ASDU_HEADER + IOA_LEN) {
        Some(&[a, b2, c]) => u32::from_le_bytes([a, b2, c, 0]),
        _ => return Err(AsduError::Short),
    };
    let (_, size) = type_info(type_id).ok_or(AsduError::UnknownType(type_id))?;
    let count = vsq & 0x7f;
    if let Some(size) = size {
        let (n, size) = (usize::from(count), usize::from(size));
        let expected = match vsq & 0x80 != 0 {
            true => ASDU_HEADER + IOA_LEN + n * size,
            false => ASDU_HEADER + n * (IOA_LEN + size),
        };
        if expected != b.len() {
            return Err(AsduError::Length { expected, got: b.len() });
        }
    }
    Ok(Asdu {
        type_id,
        count,
        cause: cot & 0x3f,
        negative: cot & 0x40 != 0,
        test: cot & 0x80 != 0,
        common_address,
        ioa,
        select: qualifier_offset(type_id).and_then(|at| b.get(ASDU_HEADER + IOA_LEN + at)).is_some_and(|q| q & 0x80 != 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(apdu(&[0x68, 4, 0x07, 0, 0, 0]), Apdu::Whole { apci: Apci::U(UFunction::StartAct), asdu: &[], used: 6 });
        assert_eq!(apdu(&[0x68, 4, 0x01, 0, 0x42, 0xb9]), Apdu::Whole { apci: Apci::S, asdu: &[], used: 6 });
        assert_eq!(apdu(&[0x68, 4, 0x03, 0, 0, 0]), Apdu::Invalid);
        assert_eq!(apdu(&[0x68, 4, 0x07, 0, 0]), Apdu::Incomplete);
        assert_eq!(apdu(&[0x68, 3, 0x07, 0, 0, 0]), Apdu::Invalid);
        assert_eq!(apdu(&[0x69]), Apdu::Invalid);
        // I frame of an interrogation command.
        let i = [0x68, 14, 0, 0, 0, 0, 100, 1, 6, 0, 3, 0, 0, 0, 0, 20];
        let Apdu::Whole { apci: Apci::I, asdu: body, used: 16 } = apdu(&i) else { panic!("I frame") };
        let a = asdu(body).expect("asdu");
        assert_eq!((a.type_id, a.cause, a.common_address, a.ioa, a.select), (100, 6, 3, 0, false));
        assert!(looks_like_apdu(&i));
        assert!(looks_like_apdu(&[0x68, 4, 0x43, 0, 0, 0]));
        assert!(!looks_like_apdu(&[0x68, 4, 0x43, 0, 0, 0, 1]));
        assert!(!looks_like_apdu(&[0x68, 14, 0, 0, 0, 0, 99, 1]));
    }

    #[test]
    fn asdu_lengths() {
        // Two M_ME_NC_1 objects, each with its own address.
        let mut b = vec![13, 2, 1, 0, 3, 0];
        b.extend_from_slice(&[0x14, 5, 0, 0, 0, 0x80, 0x3f, 0, 0x15, 5, 0, 0, 0, 0, 0x40, 0]);
        let a = asdu(&b).expect("asdu");
        assert_eq!((a.count, a.ioa), (2, 1300));
        assert_eq!(asdu(&b[..20]), Err(AsduError::Length { expected: 22, got: 20 }));
        // Sequence of three single points from address 1.
        assert!(asdu(&[1, 0x83, 20, 0, 3, 0, 1, 0, 0, 1, 0, 1]).is_ok());
        assert_eq!(asdu(&[99, 1, 6, 0, 3, 0, 0, 0, 0]), Err(AsduError::UnknownType(99)));
        assert_eq!(asdu(&[45, 1, 6]), Err(AsduError::Short));
        let neg = asdu(&[45, 1, 0x47, 0, 3, 0, 0x94, 0x11, 0, 0x81]).expect("asdu");
        assert!(neg.negative && !neg.test && neg.select);
        assert_eq!(neg.cause, cause::ACT_CON);
        assert!(cause::reserved(15) && !cause::reserved(20));
    }
}
