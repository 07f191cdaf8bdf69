//! SNMP messages (RFC 1157, 3416, 3412/3414) in BER: version, community
//! (v1/v2c) or the v3 header and user-based security parameters, and the
//! PDU with its variable bindings.

use crate::ber::{self, Children, Tlv};

/// PDU tags (context-specific, constructed).
pub(crate) mod tag {
    /// GetRequest.
    pub(crate) const GET: u32 = 0;
    /// GetNextRequest.
    pub(crate) const GET_NEXT: u32 = 1;
    /// Response (GetResponse in v1).
    pub(crate) const RESPONSE: u32 = 2;
    /// SetRequest.
    pub(crate) const SET: u32 = 3;
    /// SNMPv1 Trap.
    pub(crate) const TRAP_V1: u32 = 4;
    /// GetBulkRequest.
    pub(crate) const GET_BULK: u32 = 5;
    /// InformRequest.
    pub(crate) const INFORM: u32 = 6;
    /// SNMPv2 Trap.
    pub(crate) const TRAP_V2: u32 = 7;
    /// Report.
    pub(crate) const REPORT: u32 = 8;
}

/// How a message is authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Security<'a> {
    /// v1/v2c: a cleartext community string.
    Community(&'a [u8]),
    /// v3 user-based security model.
    User {
        /// msgUserName (empty in engine discovery).
        name: &'a [u8],
        /// 0 noAuthNoPriv, 1 authNoPriv, 3 authPriv.
        level: u8,
    },
}

/// A PDU: its tag, the request id, error status and variable bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pdu<'a> {
    /// The PDU tag number (see [`tag`]).
    pub(crate) tag: u32,
    /// request-id (0 for v1 traps).
    pub(crate) request_id: i64,
    /// error-status (0 for v1 traps).
    pub(crate) error_status: i64,
    /// For v1 traps: enterprise OID, generic and specific trap numbers.
    pub(crate) trap_v1: Option<(&'a [u8], i64, i64)>,
    /// The contents of the variable-bindings SEQUENCE.
    pub(crate) bindings: &'a [u8],
}

/// One SNMP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    /// The version field (0 v1, 1 v2c, 3 v3).
    pub(crate) version: i64,
    /// Community or user.
    pub(crate) security: Security<'a>,
    /// The PDU, unless encrypted (v3 authPriv).
    pub(crate) pdu: Option<Pdu<'a>>,
}

/// Why a datagram is not a valid SNMP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// Invalid BER.
    Ber(ber::Error),
    /// A version other than 0, 1 or 3.
    Version(i64),
    /// An unknown PDU tag.
    PduType(u32),
    /// A mandatory field is missing or has the wrong type.
    Field(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Ber(e) => write!(f, "SNMP message: {e}"),
            Error::Version(v) => write!(f, "SNMP version field {v}"),
            Error::PduType(t) => write!(f, "SNMP PDU type {t}"),
            Error::Field(name) => write!(f, "SNMP message without a valid {name}"),
        }
    }
}

impl From<ber::Error> for Error {
    fn from(e: ber::Error) -> Self {
        Error::Ber(e)
    }
}

/// The next child of `it`, required to be universal `number`.
fn next<'a>(it: &mut Children<'a>, number: u32, name: &'static str) -> Result<Tlv<'a>, Error> {
    let t = it.next().ok_or(Error::Field(name))??;
    if t.is_universal(number) {
        Ok(t)
    } else {
        Err(Error::Field(name))
    }
}

/// The next child of `it` as an INTEGER (signed, up to 64 bits).
fn integer(it: &mut Children<'_>, name: &'static str) -> Result<i64, Error> {
    let v = next(it, 2, name)?.value;
    if v.is_empty() || v.len() > 8 {
        return Err(Error::Field(name));
    }
    let start = if v.first().is_some_and(|b| b & 0x80 != 0) { -1i64 } else { 0 };
    Ok(v.iter().fold(start, |acc, &b| (acc << 8) | i64::from(b)))
}

/// Parses one SNMP message (the whole UDP payload).
pub(crate) fn parse(data: &[u8]) -> Result<Message<'_>, Error> {
    let (msg, _) = ber::read(data)?;
    if !msg.is_universal(16) {
        return Err(Error::Field("message SEQUENCE"));
    }
    let mut it = msg.children();
    let version = integer(&mut it, "version")?;
    match version {
        0 | 1 => {
            let community = next(&mut it, 4, "community")?.value;
            let pdu = pdu(it.next().ok_or(Error::Field("PDU"))??)?;
            Ok(Message { version, security: Security::Community(community), pdu: Some(pdu) })
        }
        3 => {
            let header = next(&mut it, 16, "msgGlobalData")?;
            let mut h = header.children();
            integer(&mut h, "msgID")?;
            integer(&mut h, "msgMaxSize")?;
            let flags = next(&mut h, 4, "msgFlags")?.value.first().copied().ok_or(Error::Field("msgFlags"))?;
            let params = next(&mut it, 4, "msgSecurityParameters")?;
            let usm = ber::first(params.value)?;
            let mut u = usm.children();
            next(&mut u, 4, "msgAuthoritativeEngineID")?;
            integer(&mut u, "msgAuthoritativeEngineBoots")?;
            integer(&mut u, "msgAuthoritativeEngineTime")?;
            let name = next(&mut u, 4, "msgUserName")?.value;
            let security = Security::User { name, level: flags & 3 };
            let data = it.next().ok_or(Error::Field("msgData"))??;
            let pdu = if data.is_universal(4) {
                None
            } else if data.is_universal(16) {
                let mut s = data.children();
                next(&mut s, 4, "contextEngineID")?;
                next(&mut s, 4, "contextName")?;
                Some(pdu(s.next().ok_or(Error::Field("PDU"))??)?)
            } else {
                return Err(Error::Field("msgData"));
            };
            Ok(Message { version, security, pdu })
        }
        v => Err(Error::Version(v)),
    }
}

/// True if `data` is exactly one valid SNMP message.
pub(crate) fn looks_like(data: &[u8]) -> bool {
    ber::read(data).is_ok_and(|(_, rest)| rest.is_empty()) && parse(data).is_ok()
}

/// Reads a PDU.
fn pdu(t: Tlv<'_>) -> Result<Pdu<'_>, Error> {
    if t.tag.class != ber::Class::Context || !t.tag.constructed || t.tag.number > tag::REPORT {
        return Err(Error::PduType(t.tag.number));
    }
    let mut it = t.children();
    if t.tag.number == tag::TRAP_V1 {
        let enterprise = next(&mut it, 6, "enterprise")?.value;
        it.next().ok_or(Error::Field("agent-addr"))??;
        let generic = integer(&mut it, "generic-trap")?;
        let specific = integer(&mut it, "specific-trap")?;
        it.next().ok_or(Error::Field("time-stamp"))??;
        let bindings = next(&mut it, 16, "variable-bindings")?.value;
        return Ok(Pdu { tag: t.tag.number, request_id: 0, error_status: 0, trap_v1: Some((enterprise, generic, specific)), bindings });
    }
    let request_id = integer(&mut it, "request-id")?;
    let error_status = integer(&mut it, "error-status")?;
    integer(&mut it, "error-index")?;
    let bindings = next(&mut it, 16, "variable-bindings")?.value;
    Ok(Pdu { tag: t.tag.number, request_id, error_status, trap_v1: None, bindings })
}

/// The variable bindings of a PDU as (OID contents, value) pairs; stops at
/// the first malformed binding.
pub(crate) fn bindings<'a>(pdu: &Pdu<'a>) -> impl Iterator<Item = (&'a [u8], Tlv<'a>)> + 'a {
    Children::new(pdu.bindings).map_while(Result::ok).map_while(|vb| {
        let mut it = vb.children();
        let name = it.next()?.ok().filter(|t| t.is_universal(6))?;
        let value = it.next()?.ok()?;
        Some((name.value, value))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A TLV with a short or long length.
    pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if value.len() < 0x80 {
            out.push(value.len() as u8);
        } else {
            out.extend_from_slice(&[0x82, (value.len() >> 8) as u8, value.len() as u8]);
        }
        out.extend_from_slice(value);
        out
    }

    /// Concatenates TLVs.
    pub(crate) fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    /// A v1/v2c message: version, community, PDU `pdu_tag` with request id,
    /// error status and the given (OID, value TLV) bindings.
    pub(crate) fn message(version: u8, community: &[u8], pdu_tag: u8, id: u8, error: u8, binds: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
        let vbs: Vec<Vec<u8>> = binds.iter().map(|(oid, v)| tlv(0x30, &cat(&[tlv(0x06, oid), v.clone()]))).collect();
        let pdu = tlv(pdu_tag, &cat(&[tlv(2, &[id]), tlv(2, &[error]), tlv(2, &[0]), tlv(0x30, &cat(&vbs))]));
        tlv(0x30, &cat(&[tlv(2, &[version]), tlv(4, community), pdu]))
    }

    /// 1.3.6.1.2.1.1.5.0 (sysName.0).
    pub(crate) const SYS_NAME: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 5, 0];

    #[test]
    fn v2c_get_and_response() {
        let data = message(1, b"public", 0xa0, 7, 0, &[(SYS_NAME, vec![5, 0])]);
        let m = parse(&data).expect("get");
        assert_eq!(m.version, 1);
        assert_eq!(m.security, Security::Community(b"public"));
        let p = m.pdu.expect("pdu");
        assert_eq!((p.tag, p.request_id, p.error_status), (tag::GET, 7, 0));
        let b: Vec<_> = bindings(&p).collect();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].0, SYS_NAME);
    }

    #[test]
    fn v3_encrypted() {
        let usm =
            tlv(0x30, &cat(&[tlv(4, b"\x80\0\0\x09"), tlv(2, &[1]), tlv(2, &[2]), tlv(4, b"admin"), tlv(4, &[0; 12]), tlv(4, &[0; 8])]));
        let header = tlv(0x30, &cat(&[tlv(2, &[9]), tlv(2, &[0x05, 0xdc]), tlv(4, &[7]), tlv(2, &[3])]));
        let m = cat(&[tlv(2, &[3]), header, tlv(4, &usm), tlv(4, &[0xde, 0xad])]);
        let data = tlv(0x30, &m);
        let m = parse(&data).expect("v3");
        assert_eq!(m.security, Security::User { name: b"admin", level: 3 });
        assert_eq!(m.pdu, None);
    }

    #[test]
    fn malformed() {
        assert!(matches!(parse(&[0x30, 0x05, 2, 1]), Err(Error::Ber(_))));
        assert_eq!(parse(&tlv(0x30, &cat(&[tlv(2, &[2]), tlv(4, b"x")]))), Err(Error::Version(2)));
        assert_eq!(parse(&tlv(0x30, &cat(&[tlv(2, &[1]), tlv(4, b"x"), tlv(0xa9, &[])]))), Err(Error::PduType(9)));
        assert_eq!(parse(&tlv(0x30, &cat(&[tlv(2, &[1]), tlv(4, b"x")]))), Err(Error::Field("PDU")));
    }
}
