//! SSDP (UPnP discovery, HTTP over UDP 1900).
//!
//! Facts about the sender of a NOTIFY or of a search response: SERVER,
//! the device type it announces (NT) or answers for (ST) as a role, and the
//! LOCATION of its description; USER-AGENT of any sender. Searches (M-SEARCH)
//! name what the sender looks for, not what it is, so their ST is ignored.
//! The description itself is fetched over HTTP and read by the `http`
//! dissector.

use crate::http::parser::{self, contains_ignore_case};
use crate::{Ctx, Dissector, Registration};
use palisade_model::{IdentityField, Protocol};

/// SSDP flow state (none needed).
#[derive(Default)]
pub struct Ssdp;

/// The start lines of SSDP messages.
const STARTS: [&[u8]; 3] = [b"M-SEARCH * HTTP/1.1", b"NOTIFY * HTTP/1.1", b"HTTP/1.1 200 OK"];

impl Dissector for Ssdp {
    const REGISTRATION: Registration = Registration { udp_ports: &[1900], probe: Some(probe), ..Registration::new(Protocol::Ssdp) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let msg = data.get(..data.len().min(parser::MAX_HEAD)).unwrap_or_default();
        let (line, headers) = parser::split_head(msg);
        if !STARTS.contains(&line) {
            return;
        }
        let announces = !line.starts_with(b"M-SEARCH");
        for (name, value) in headers {
            let Ok(text) = std::str::from_utf8(value) else { continue };
            if name.eq_ignore_ascii_case(b"server") {
                ctx.sender_identity(IdentityField::Server, text);
            } else if name.eq_ignore_ascii_case(b"user-agent") {
                ctx.sender_identity(IdentityField::UserAgent, text);
            } else if announces && name.eq_ignore_ascii_case(b"location") {
                ctx.sender_identity(IdentityField::Service, &format!("upnp description {text}"));
            } else if announces && (name.eq_ignore_ascii_case(b"nt") || name.eq_ignore_ascii_case(b"st")) {
                if let Some(role) = role(value) {
                    ctx.sender_identity(IdentityField::Role, role);
                }
            }
        }
    }
}

/// Recognises an SSDP message on UDP: its start line and an ST, NT or USN header.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    let head = payload.get(..payload.len().min(parser::MAX_HEAD)).unwrap_or_default();
    !is_tcp
        && STARTS.iter().any(|s| head.starts_with(s))
        && parser::split_head(head).1.any(|(name, _)| [&b"st"[..], b"nt", b"usn"].iter().any(|n| name.eq_ignore_ascii_case(n)))
}

/// The role a UPnP device type implies.
fn role(device_type: &[u8]) -> Option<&'static str> {
    const ROLES: [(&[u8], &str); 7] = [
        (b"InternetGatewayDevice", "router"),
        (b"WANConnectionDevice", "router"),
        (b"WANDevice", "router"),
        (b"Printer", "printer"),
        (b"Camera", "camera"),
        (b"MediaRenderer", "iot"),
        (b"MediaServer", "iot"),
    ];
    if !contains_ignore_case(device_type, b":device:") {
        return None;
    }
    ROLES.iter().find(|(needle, _)| contains_ignore_case(device_type, needle)).map(|&(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ep_at, field_values, Flow};
    use palisade_flow::Direction;

    /// The facts of one message that 192.168.1.1 sends.
    fn facts(msg: &[u8]) -> Vec<(IdentityField, String)> {
        let ep = ep_at("192.168.1.1", 1900);
        field_values(&Flow::<Ssdp>::new(ep, ep).datagrams(&[(Direction::ToServer, msg)]).events())
    }

    #[test]
    fn notify_names_the_sender() {
        let msg = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nlOCATION: http://192.168.1.1:7406/rootDesc.xml\r\nSERVER: Linux UPnP/1.0 MiniUPnPd/1.6\r\nNT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:x\r\n\r\n";
        assert!(probe(msg, false));
        assert_eq!(
            facts(msg),
            vec![
                (IdentityField::Service, "upnp description http://192.168.1.1:7406/rootDesc.xml".into()),
                (IdentityField::Server, "Linux UPnP/1.0 MiniUPnPd/1.6".into()),
                (IdentityField::Role, "router".into()),
            ]
        );
    }

    #[test]
    fn search_target_is_not_the_sender() {
        let msg = b"M-SEARCH * HTTP/1.1\r\nST: urn:schemas-upnp-org:device:Printer:1\r\nUSER-AGENT: Windows/10 UPnP/1.0\r\n\r\n";
        assert!(probe(msg, false));
        assert_eq!(facts(msg), vec![(IdentityField::UserAgent, "Windows/10 UPnP/1.0".into())]);
    }

    #[test]
    fn probe_is_strict() {
        assert!(!probe(b"NOTIFY * HTTP/1.1\r\nHOST: x\r\n\r\n", false));
        assert!(!probe(b"HTTP/1.1 200 OK\r\nST: x\r\n\r\n", true));
        assert!(!probe(b"GET / HTTP/1.1\r\nST: x\r\n\r\n", false));
        assert_eq!(role(b"urn:schemas-upnp-org:device:MediaRenderer:1"), Some("iot"));
        assert_eq!(role(b"urn:schemas-upnp-org:service:Printer:1"), None);
    }
}
