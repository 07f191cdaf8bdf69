//! The OSI upper layers under MMS and the MMS PDU itself, as zero-copy
//! views: ISO session SPDUs (ISO 8327), presentation PPDUs (ISO 8823),
//! ACSE APDUs (ISO 8650) and MMS PDUs (ISO 9506-2), all but the session
//! header in BER.

use crate::ber::{self, Children, Class, Oid, Tlv};
use std::fmt;

/// Session SPDU codes.
const SPDU_DATA: u8 = 0x01;
const SPDU_CONNECT: u8 = 0x0d;
const SPDU_ACCEPT: u8 = 0x0e;
const SPDU_REFUSE: u8 = 0x0c;
/// Session parameter groups holding user data.
const PGI_USER_DATA: u8 = 0xc1;
const PGI_EXTENDED_USER_DATA: u8 = 0xc2;
/// Abstract syntax of MMS (1.0.9506.2.1), BER contents.
const MMS_ABSTRACT_SYNTAX: [u8; 5] = [0x28, 0xca, 0x22, 0x02, 0x01];

/// One session SPDU (with its user information).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spdu<'a> {
    /// CONNECT: user data is a presentation CP-type.
    Connect(&'a [u8]),
    /// ACCEPT: user data is a presentation CPA-type.
    Accept(&'a [u8]),
    /// REFUSE.
    Refuse,
    /// GIVE TOKENS + DATA TRANSFER: user information is presentation data.
    Data(&'a [u8]),
    /// Any other SPDU (FINISH, DISCONNECT, ABORT...), by code.
    Other(u8),
}

/// Reads one SPDU header (code and length); returns code, parameters and the rest.
fn spdu_header(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let code = *data.first()?;
    let (len, at): (usize, usize) = match *data.get(1)? {
        0xff => (usize::from(palisade_decode::be16(data, 2)?), 4),
        n => (usize::from(n), 2),
    };
    let params = data.get(at..at.checked_add(len)?)?;
    Some((code, params, data.get(at + len..)?))
}

/// Parses the session layer of a TSDU.
pub(crate) fn session(tsdu: &[u8]) -> Option<Spdu<'_>> {
    let (code, params, rest) = spdu_header(tsdu)?;
    match code {
        SPDU_DATA => {
            // Give Tokens, then the Data Transfer SPDU (basic concatenation);
            // a lone Data Transfer SPDU is accepted too.
            let user = match spdu_header(rest) {
                Some((SPDU_DATA, _, user)) => user,
                _ => rest,
            };
            Some(Spdu::Data(user))
        }
        SPDU_CONNECT | SPDU_ACCEPT => {
            let user = session_user_data(params).unwrap_or(rest);
            Some(if code == SPDU_CONNECT { Spdu::Connect(user) } else { Spdu::Accept(user) })
        }
        SPDU_REFUSE => Some(Spdu::Refuse),
        other => Some(Spdu::Other(other)),
    }
}

/// The session user data parameter among CONNECT/ACCEPT parameters.
fn session_user_data(mut params: &[u8]) -> Option<&[u8]> {
    while !params.is_empty() {
        let (code, value, rest) = spdu_header(params)?;
        if matches!(code, PGI_USER_DATA | PGI_EXTENDED_USER_DATA) {
            return Some(value);
        }
        params = rest;
    }
    None
}

/// A presentation CP-type or CPA-type PPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PresentationConnect<'a> {
    /// Presentation context id proposed for the MMS abstract syntax (CP only).
    pub(crate) mms_context: Option<u64>,
    /// The fully-encoded user data.
    pub(crate) user_data: Option<Tlv<'a>>,
}

/// Parses a CP-type or CPA-type PPDU (a SET with normal-mode parameters).
pub(crate) fn presentation_connect(data: &[u8]) -> Option<PresentationConnect<'_>> {
    let ppdu = ber::first(data).ok()?;
    if !(ppdu.is_universal(17) && ppdu.tag.constructed) {
        return None;
    }
    let normal = ppdu.context_child(2)?;
    let mut out = PresentationConnect { mms_context: None, user_data: None };
    for item in normal.children().map_while(Result::ok) {
        if item.is_context(4) {
            out.mms_context = item.children().map_while(Result::ok).find_map(|def| mms_context(&def));
        } else if item.is_application(1) {
            out.user_data = Some(item);
        }
    }
    Some(out)
}

/// The context id of a context definition naming the MMS abstract syntax.
fn mms_context(def: &Tlv<'_>) -> Option<u64> {
    let mut id = None;
    let mut mms = false;
    for t in def.children().map_while(Result::ok) {
        if t.is_universal(2) {
            id = t.uint();
        } else if t.is_universal(6) {
            mms |= t.value == MMS_ABSTRACT_SYNTAX;
        }
    }
    id.filter(|_| mms)
}

/// One presentation data value: its context and encoded contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pdv<'a> {
    /// Presentation context identifier.
    pub(crate) context: u64,
    /// The encoding of the value (one BER element for single-ASN1-type).
    pub(crate) data: &'a [u8],
}

/// The PDV lists of a fully-encoded-data element ([APPLICATION 1]).
pub(crate) fn pdvs<'a>(user_data: &Tlv<'a>) -> impl Iterator<Item = Pdv<'a>> {
    user_data.children().map_while(Result::ok).filter_map(|list| pdv(&list))
}

fn pdv<'a>(list: &Tlv<'a>) -> Option<Pdv<'a>> {
    let mut context = None;
    for t in list.children().map_while(Result::ok) {
        if t.is_universal(2) {
            context = t.uint();
        } else if t.is_context(0) || t.is_context(1) {
            return Some(Pdv { context: context?, data: t.value });
        }
    }
    None
}

/// Parses the presentation user data of a session DATA TRANSFER.
pub(crate) fn presentation_data(data: &[u8]) -> Option<Tlv<'_>> {
    let t = ber::first(data).ok()?;
    (t.is_application(1) && t.tag.constructed).then_some(t)
}

/// True if a TSDU looks like ISO session + presentation carrying MMS (for probes).
pub(crate) fn looks_like_session(tsdu: &[u8]) -> bool {
    match session(tsdu) {
        Some(Spdu::Connect(user) | Spdu::Accept(user)) => presentation_connect(user).is_some_and(|p| p.user_data.is_some()),
        Some(Spdu::Data(user)) => presentation_data(user).is_some_and(|t| pdvs(&t).next().is_some()),
        _ => false,
    }
}

/// An AP title in form 2 (an object identifier), as BER contents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ApTitle {
    oid: [u8; 16],
    len: u8,
}

impl ApTitle {
    /// Reads an explicitly tagged AP-title; only the OID form is kept.
    fn from_tagged(t: &Tlv<'_>) -> Option<ApTitle> {
        let inner = t.inner().filter(|i| i.is_universal(6))?;
        let mut title = ApTitle::default();
        let n = inner.value.len().min(title.oid.len());
        title.oid.get_mut(..n)?.copy_from_slice(inner.value.get(..n)?);
        title.len = n as u8;
        Some(title)
    }
}

impl fmt::Display for ApTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Oid(self.oid.get(..usize::from(self.len)).unwrap_or(&[])).fmt(f)
    }
}

/// An ACSE APDU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Acse<'a> {
    /// APDU kind: 0 AARQ, 1 AARE, 2 RLRQ, 3 RLRE, 4 ABRT.
    pub(crate) kind: u32,
    /// AARQ calling AP title.
    pub(crate) calling: Option<ApTitle>,
    /// AARQ called AP title.
    pub(crate) called: Option<ApTitle>,
    /// AARE responding AP title.
    pub(crate) responding: Option<ApTitle>,
    /// AARE result (0 accepted).
    pub(crate) result: Option<u64>,
    /// The MMS PDU in the user information.
    pub(crate) user: Option<&'a [u8]>,
}

/// ACSE APDU kinds.
pub(crate) const AARQ: u32 = 0;
pub(crate) const AARE: u32 = 1;

/// Parses an ACSE APDU (an APPLICATION-class element).
pub(crate) fn acse<'a>(apdu: &Tlv<'a>) -> Option<Acse<'a>> {
    if apdu.tag.class != Class::Application || !apdu.tag.constructed {
        return None;
    }
    let mut a = Acse { kind: apdu.tag.number, ..Acse::default() };
    for t in apdu.children().map_while(Result::ok) {
        if t.tag.class != Class::Context {
            continue;
        }
        match (a.kind, t.tag.number) {
            (AARQ, 2) => a.called = ApTitle::from_tagged(&t),
            (AARQ, 6) => a.calling = ApTitle::from_tagged(&t),
            (AARE, 2) => a.result = t.inner().and_then(|r| r.uint()),
            (AARE, 4) => a.responding = ApTitle::from_tagged(&t),
            (_, 30) => a.user = association_information(&t),
            _ => {}
        }
    }
    Some(a)
}

/// The first EXTERNAL's encoding in ACSE user information.
fn association_information<'a>(info: &Tlv<'a>) -> Option<&'a [u8]> {
    let external = info.children().map_while(Result::ok).find(|t| t.is_universal(8))?;
    external.children().map_while(Result::ok).find(|t| t.is_context(0) || t.is_context(1)).map(|t| t.value)
}

/// An MMS PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pdu<'a> {
    /// confirmed-RequestPDU: invoke id and the service element.
    Request { invoke: u32, service: Tlv<'a> },
    /// confirmed-ResponsePDU.
    Response { invoke: u32, service: Tlv<'a> },
    /// confirmed-ErrorPDU: error class and code.
    Error { invoke: u32, class: u32, code: u32 },
    /// unconfirmed-PDU (informationReport...).
    Unconfirmed,
    /// rejectPDU: original invoke id and reason (choice tag, code).
    Reject { invoke: Option<u32>, reason: (u32, u32) },
    /// initiate-RequestPDU.
    InitiateRequest,
    /// initiate-ResponsePDU.
    InitiateResponse,
    /// initiate-ErrorPDU.
    InitiateError { class: u32, code: u32 },
    /// cancel and conclude PDUs, by tag.
    Other(u32),
}

/// PDU tags.
const CONFIRMED_REQUEST: u32 = 0;
const CONFIRMED_RESPONSE: u32 = 1;
const CONFIRMED_ERROR: u32 = 2;
const UNCONFIRMED: u32 = 3;
const REJECT: u32 = 4;
const INITIATE_REQUEST: u32 = 8;
const INITIATE_RESPONSE: u32 = 9;
const INITIATE_ERROR: u32 = 10;
const CONCLUDE_ERROR: u32 = 13;

/// Why an MMS PDU could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// Not valid BER.
    Ber(ber::Error),
    /// Not one of the MMS PDU tags.
    UnknownPdu,
    /// A mandatory part is missing.
    Missing(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Ber(e) => write!(f, "MMS PDU: {e}"),
            Error::UnknownPdu => f.write_str("unknown MMS PDU type"),
            Error::Missing(what) => write!(f, "MMS PDU without {what}"),
        }
    }
}

/// Parses an MMS PDU.
pub(crate) fn pdu(data: &[u8]) -> Result<Pdu<'_>, Error> {
    let t = ber::first(data).map_err(Error::Ber)?;
    if t.tag.class != Class::Context || t.tag.number > CONCLUDE_ERROR {
        return Err(Error::UnknownPdu);
    }
    Ok(match t.tag.number {
        CONFIRMED_REQUEST | CONFIRMED_RESPONSE => {
            let mut items = t.children();
            let invoke = items
                .next()
                .and_then(Result::ok)
                .filter(|i| i.is_universal(2))
                .and_then(|i| small(&i))
                .ok_or(Error::Missing("invokeID"))?;
            let service = items.map_while(Result::ok).find(|s| s.tag.class == Class::Context).ok_or(Error::Missing("service"))?;
            if t.tag.number == CONFIRMED_REQUEST {
                Pdu::Request { invoke, service }
            } else {
                Pdu::Response { invoke, service }
            }
        }
        CONFIRMED_ERROR => {
            let invoke = t.context_child(0).and_then(|i| small(&i)).ok_or(Error::Missing("invokeID"))?;
            let (class, code) = t.context_child(2).and_then(|e| service_error(&e)).ok_or(Error::Missing("serviceError"))?;
            Pdu::Error { invoke, class, code }
        }
        UNCONFIRMED => Pdu::Unconfirmed,
        REJECT => {
            let invoke = t.context_child(0).and_then(|i| small(&i));
            let reason = t.children().map_while(Result::ok).find(|r| r.tag.class == Class::Context && r.tag.number > 0);
            let reason = reason.map(|r| (r.tag.number, small(&r).unwrap_or(0))).ok_or(Error::Missing("rejectReason"))?;
            Pdu::Reject { invoke, reason }
        }
        INITIATE_REQUEST => Pdu::InitiateRequest,
        INITIATE_RESPONSE => Pdu::InitiateResponse,
        INITIATE_ERROR => {
            let (class, code) = service_error(&t).ok_or(Error::Missing("serviceError"))?;
            Pdu::InitiateError { class, code }
        }
        other => Pdu::Other(other),
    })
}

/// ServiceError: the error class (its choice tag) and code.
fn service_error(e: &Tlv<'_>) -> Option<(u32, u32)> {
    let class = e.context_child(0)?.inner()?;
    Some((class.tag.number, small(&class).unwrap_or(0)))
}

/// An INTEGER that fits 32 bits unsigned.
pub(crate) fn small(t: &Tlv<'_>) -> Option<u32> {
    t.uint().and_then(|v| u32::try_from(v).ok())
}

/// An MMS ObjectName: vmd-specific, domain-specific or aa-specific.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ObjectName<'a> {
    /// The domain of a domain-specific name.
    pub(crate) domain: Option<&'a [u8]>,
    /// The item (or vmd/aa-specific identifier).
    pub(crate) item: &'a [u8],
}

/// Reads an ObjectName choice element.
pub(crate) fn object_name<'a>(t: &Tlv<'a>) -> Option<ObjectName<'a>> {
    match t.tag.number {
        0 | 2 if t.tag.class == Class::Context => Some(ObjectName { domain: None, item: t.value }),
        1 if t.tag.class == Class::Context => {
            let mut ids = t.children().map_while(Result::ok);
            let domain = ids.next()?.value;
            let item = ids.next()?.value;
            Some(ObjectName { domain: Some(domain), item })
        }
        _ => None,
    }
}

/// The variables named by a VariableAccessSpecification choice element:
/// calls `each` for every named variable (or the list name, with `true`).
pub(crate) fn variables<'a>(spec: &Tlv<'a>, mut each: impl FnMut(ObjectName<'a>, bool)) {
    if spec.is_context(1) {
        if let Some(name) = spec.inner().as_ref().and_then(object_name) {
            each(name, true);
        }
        return;
    }
    if !spec.is_context(0) {
        return;
    }
    for var in spec.children().map_while(Result::ok) {
        let name = var.inner().filter(|s| s.is_context(0)).and_then(|s| s.inner()).as_ref().and_then(object_name);
        if let Some(name) = name {
            each(name, false);
        }
    }
}

/// The parts of an MMS FileName (SEQUENCE OF GraphicString contents).
pub(crate) fn file_name(contents: &[u8]) -> impl Iterator<Item = &[u8]> {
    Children::new(contents).map_while(Result::ok).map(|t| t.value)
}

/// The first failure code in a list of access results (read/write responses).
pub(crate) fn first_failure(results: &Tlv<'_>) -> Option<u32> {
    results.children().map_while(Result::ok).find(|r| r.is_context(0) && !r.tag.constructed).map(|r| small(&r).unwrap_or(0))
}

/// Vendor, model and revision of an identify response.
pub(crate) fn identify<'a>(service: &Tlv<'a>) -> (Option<&'a str>, Option<&'a str>, Option<&'a str>) {
    let text = |n| service.context_child(n).and_then(|t| t.text());
    (text(0), text(1), text(2))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A session DATA TRANSFER with one PDV (context 3) holding `mms`.
    pub(crate) fn data_tsdu(mms: &[u8]) -> Vec<u8> {
        let mut pdv = vec![0x02, 0x01, 0x03, 0xa0, mms.len() as u8];
        pdv.extend_from_slice(mms);
        let mut list = vec![0x30, pdv.len() as u8];
        list.extend_from_slice(&pdv);
        let mut out = vec![0x01, 0x00, 0x01, 0x00, 0x61, list.len() as u8];
        out.extend_from_slice(&list);
        out
    }

    #[test]
    fn session_and_presentation_data() {
        // Identify request, invoke 4431 (from the AREVA capture).
        let mms = [0xa0, 0x06, 0x02, 0x02, 0x11, 0x4f, 0x82, 0x00];
        let tsdu = data_tsdu(&mms);
        assert!(looks_like_session(&tsdu));
        let Some(Spdu::Data(user)) = session(&tsdu) else { panic!("data spdu") };
        let pd = presentation_data(user).expect("fully encoded");
        let pdvs: Vec<_> = pdvs(&pd).collect();
        assert_eq!(pdvs, vec![Pdv { context: 3, data: &mms[..] }]);
        let Ok(Pdu::Request { invoke: 4431, service }) = pdu(&mms) else { panic!("request") };
        assert!(service.is_context(2));
        assert!(!looks_like_session(&[0x32, 0x01, 0x00]));
        assert!(!looks_like_session(&[0x01, 0x00, 0x01, 0x00, 0x30, 0x00]));
    }

    /// TSDUs of the AREVA capture: CONNECT (AARQ with AP titles and the
    /// initiate request), ACCEPT (AARE), an identify response and a read
    /// request of three variables.
    pub(crate) const CONNECT: &str = "0dbc0506130100160102140200023302000134020002c1a63181a3a003800101a2819b80020780810400000001820400000002a423300f0201010604520100013004060251013010020103060528ca220201300406025101880206006160305e020101a059605780020780a107060528ca220101a20406022902a303020102a60406022901a703020101be32283006025101020103a027a82580027d00810114820114830104a416800101810305fb00820c036e1d000000000064000198";
    pub(crate) const ACCEPT: &str = "0e95050613010016010214020002c187318184a003800101a27d80020780830400000002a512300780010081025101300780010081025101615d305b020101a056615480020780a107060528ca220101a203020100a305a103020100a40406022902a503020102be2e282c020103a027a92580027d00810114820114830104a416800101810305fb00820c036e1d000000000064000198";
    pub(crate) const IDENTIFY: &str =
        "0100010061393037020103a032a130020101a22b801541524556412054264420436f72706f726174696f6e810b652d7465727261636f6d6d8205322e332e31";
    const READ: &str = "0100010061623060020103a05ba05902021150a453a151a04f3022a020a11e1a084b49524b4c414e441a1242696c61746572616c5f5461626c655f49443011a00f800d54415345325f56657273696f6e3016a0148012537570706f727465645f4665617475726573";

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    }

    /// The MMS PDU of a DATA TRANSFER TSDU.
    fn mms_of(tsdu: &[u8]) -> &[u8] {
        let Some(Spdu::Data(user)) = session(tsdu) else { panic!("data spdu") };
        pdvs(&presentation_data(user).expect("fully encoded")).next().expect("pdv").data
    }

    #[test]
    fn connect_with_acse_and_initiate() {
        let tsdu = hex(CONNECT);
        assert!(looks_like_session(&tsdu));
        let Some(Spdu::Connect(user)) = session(&tsdu) else { panic!("connect") };
        let cp = presentation_connect(user).expect("cp");
        assert_eq!(cp.mms_context, Some(3));
        let ud = cp.user_data.expect("user data");
        let pdv = pdvs(&ud).next().expect("pdv");
        assert_eq!(pdv.context, 1);
        let a = acse(&ber::first(pdv.data).expect("aarq")).expect("acse");
        assert_eq!(a.kind, AARQ);
        assert_eq!(a.calling.map(|t| t.to_string()).as_deref(), Some("1.1.1"));
        assert_eq!(a.called.map(|t| t.to_string()).as_deref(), Some("1.1.2"));
        assert_eq!(pdu(a.user.expect("mms")), Ok(Pdu::InitiateRequest));

        let tsdu = hex(ACCEPT);
        let Some(Spdu::Accept(user)) = session(&tsdu) else { panic!("accept") };
        let cpa = presentation_connect(user).expect("cpa");
        let pdv = pdvs(&cpa.user_data.expect("user data")).next().expect("pdv");
        let a = acse(&ber::first(pdv.data).expect("aare")).expect("acse");
        assert_eq!((a.kind, a.result), (AARE, Some(0)));
        assert_eq!(a.responding.map(|t| t.to_string()).as_deref(), Some("1.1.2"));
        assert_eq!(pdu(a.user.expect("mms")), Ok(Pdu::InitiateResponse));
    }

    #[test]
    fn identify_response() {
        let tsdu = hex(IDENTIFY);
        let Ok(Pdu::Response { invoke: 1, service }) = pdu(mms_of(&tsdu)) else { panic!("response") };
        assert!(service.is_context(2));
        assert_eq!(identify(&service), (Some("AREVA T&D Corporation"), Some("e-terracomm"), Some("2.3.1")));
    }

    #[test]
    fn object_names_and_variables() {
        let tsdu = hex(READ);
        let Ok(Pdu::Request { invoke: 4432, service }) = pdu(mms_of(&tsdu)) else { panic!("request") };
        assert!(service.is_context(4));
        let spec = service.context_child(1).and_then(|s| s.inner()).expect("spec");
        let mut names = Vec::new();
        variables(&spec, |n, list| names.push((n.domain, n.item, list)));
        assert_eq!(
            names,
            vec![
                (Some(&b"KIRKLAND"[..]), &b"Bilateral_Table_ID"[..], false),
                (None, &b"TASE2_Version"[..], false),
                (None, &b"Supported_Features"[..], false)
            ]
        );
        assert_eq!(file_name(&[0x19, 0x03, b'a', b'/', b'b', 0x19, 0x01, b'c']).collect::<Vec<_>>(), vec![&b"a/b"[..], &b"c"[..]]);
    }

    #[test]
    fn errors_and_rejects() {
        // confirmed-ErrorPDU invoke 7, class access (7) code 2.
        assert_eq!(
            pdu(&[0xa2, 0x0a, 0x80, 0x01, 0x07, 0xa2, 0x05, 0xa0, 0x03, 0x87, 0x01, 0x02]),
            Ok(Pdu::Error { invoke: 7, class: 7, code: 2 })
        );
        // rejectPDU invoke 5, confirmed-requestPDU (1) reason 3.
        assert_eq!(pdu(&[0xa4, 0x06, 0x80, 0x01, 0x05, 0x81, 0x01, 0x03]), Ok(Pdu::Reject { invoke: Some(5), reason: (1, 3) }));
        assert_eq!(pdu(&[0xbf, 0x20, 0x00]), Err(Error::UnknownPdu));
        assert_eq!(pdu(&[0xa0, 0x02, 0x82, 0x00]), Err(Error::Missing("invokeID")));
        assert_eq!(pdu(&[0xa0, 0x05]), Err(Error::Ber(ber::Error::Truncated)));
    }
}
