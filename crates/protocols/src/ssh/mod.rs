//! SSH on TCP 22 (and wherever an "SSH-2.0-" banner opens a flow).
//!
//! Only the identification lines (RFC 4253 section 4.2) are read: the
//! server's is its `Server` fact (with an OS hint such as Ubuntu), the
//! client's its `UserAgent`; a `session` operation is reported once the
//! server has identified itself. The encrypted rest of the flow is not read.

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};

/// The longest identification line (RFC 4253: 255 bytes with CR LF).
const MAX_LINE: usize = 255;
/// Lines a server may send before its identification that are passed over.
const MAX_LINES: u8 = 8;

/// SSH flow state.
#[derive(Default)]
pub struct Ssh {
    /// Per direction: lines read so far and whether the direction is done.
    sides: [(u8, bool); 2],
}

impl Dissector for Ssh {
    const REGISTRATION: Registration = Registration { tcp_ports: &[22], probe: Some(probe), ..Registration::new(Protocol::Ssh) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let Some((lines, done)) = self.sides.get_mut(ctx.dir.index()) else { return data.len() };
        let mut used = 0;
        while !*done {
            let rest = data.get(used..).unwrap_or_default();
            let window = rest.get(..rest.len().min(MAX_LINE)).unwrap_or_default();
            let Some(end) = window.iter().position(|&b| b == b'\n') else {
                if rest.len() >= MAX_LINE {
                    *done = true;
                    break;
                }
                return used;
            };
            used += end + 1;
            *lines = lines.saturating_add(1);
            let line = window.get(..end).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(banner) = banner(line) {
                *done = true;
                identify(ctx, banner);
            } else if *lines >= MAX_LINES || ctx.dir == Direction::ToServer {
                *done = true;
            }
        }
        data.len()
    }

    fn finished(&self) -> bool {
        self.sides.iter().all(|&(_, done)| done)
    }
}

/// The identification string of a line, if it is one.
fn banner(line: &[u8]) -> Option<&str> {
    (line.starts_with(b"SSH-2.0-") || line.starts_with(b"SSH-1.99-"))
        .then(|| std::str::from_utf8(line).ok())
        .flatten()
        .filter(|s| s.bytes().all(|b| (0x20..0x7f).contains(&b)))
}

/// Reports a side's identification.
fn identify(ctx: &mut Ctx<'_>, banner: &str) {
    match ctx.dir {
        Direction::ToServer => ctx.sender_identity(IdentityField::UserAgent, banner),
        Direction::ToClient => {
            ctx.sender_identity(IdentityField::Server, banner);
            if let Some(os) = os_hint(banner) {
                ctx.sender_identity(IdentityField::Os, os);
            }
            ctx.operation(OperationKind::Session, 0, Some(format_args!("ssh")), OperationResult::Success);
        }
    }
}

/// The operating system a server's identification (or another server
/// banner: Telnet, FTP) names, if any.
pub(crate) fn os_hint(banner: &str) -> Option<&'static str> {
    const HINTS: [(&str, &str); 7] = [
        ("Ubuntu", "Ubuntu"),
        ("Debian", "Debian"),
        ("FreeBSD", "FreeBSD"),
        ("Raspbian", "Raspbian"),
        ("Windows", "Windows"),
        ("NetBSD", "NetBSD"),
        ("OpenBSD", "OpenBSD"),
    ];
    HINTS.iter().find(|(needle, _)| banner.contains(needle)).map(|&(_, os)| os)
}

/// Recognises an SSH identification line at the start of a TCP flow.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    is_tcp && (payload.starts_with(b"SSH-2.0-") || payload.starts_with(b"SSH-1.99-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ip_facts, operation_events, Flow};
    use palisade_model::Endpoint;

    #[test]
    fn both_banners_then_finished() {
        let c = Endpoint { ip: Some("10.0.0.1".parse().unwrap()), ..Endpoint::default() };
        let s = Endpoint { ip: Some("10.0.0.2".parse().unwrap()), ..Endpoint::default() };
        let mut flow = Flow::<Ssh>::new(c, s);
        assert_eq!(flow.stream(Direction::ToClient, b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubun"), 0);
        let server = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n\x00\x00\x01\x14kex";
        assert_eq!(flow.stream(Direction::ToClient, server), server.len());
        assert!(!flow.dissector().finished());
        let client = b"SSH-2.0-PuTTY_Release_0.78\r\n";
        assert_eq!(flow.stream(Direction::ToServer, client), client.len());
        assert!(flow.dissector().finished());
        let ev = flow.events();
        assert_eq!(
            ip_facts(&ev),
            vec![
                (s.ip, IdentityField::Server, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1".into()),
                (s.ip, IdentityField::Os, "Ubuntu".into()),
                (c.ip, IdentityField::UserAgent, "SSH-2.0-PuTTY_Release_0.78".into()),
            ]
        );
        assert_eq!(operation_events(&ev).iter().filter(|o| o.kind == OperationKind::Session).count(), 1);
    }

    #[test]
    fn garbage_ends_the_direction() {
        let mut flow = Flow::<Ssh>::new(Endpoint::default(), Endpoint::default());
        let junk = [0u8; 300];
        assert_eq!(flow.stream(Direction::ToServer, &junk), junk.len());
        assert!(flow.events().is_empty());
        assert!(!probe(b"SSH-1.5-old", true));
        assert!(!probe(b"SSH-2.0-x", false));
    }
}
