//! FTP control channel on TCP 21 (and wherever a flow opens with an FTP
//! greeting).
//!
//! - The 220 greeting is the server's `server` fact (with an `os` hint),
//!   the SYST reply its `os`.
//! - USER and PASS travel in clear text: a `login` operation whose target
//!   is the user name, with the server's answer (230 success, 530 refused).
//!   The password is never kept.
//! - RETR is a `read` of the file; STOR, STOU and APPE a `write` of it;
//!   DELE, RNFR/RNTO, MKD and RMD `write` operations on `delete <name>`,
//!   `rename <old> to <new>`, `mkdir <name>` and `rmdir <name>`. Each is
//!   reported with its reply (2xx success, 4xx/5xx the reply code).
//! - After a successful AUTH TLS the rest is encrypted: nothing more is read.
//!
//! Data connections are not followed.

mod parser;

use crate::text::Text;
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use parser::Verb;
use std::fmt::Write as _;

/// Longest control line read; a longer one is passed over.
const MAX_LINE: usize = 2048;
/// Commands remembered while their replies are awaited.
const QUEUE: usize = 4;

/// A file name, user name or operation target.
type Name = Text<160>;

/// A command waiting for its reply.
#[derive(Clone, Copy)]
struct Command {
    verb: Verb,
    arg: Name,
}

/// State kept once the flow has commands, boxed so idle flows stay small.
#[derive(Default)]
struct Session {
    /// Commands in the order sent.
    queue: [Option<Command>; QUEUE],
    /// The user name of the last USER command.
    user: Name,
    /// The old name of a rename in progress.
    rename_from: Name,
    /// The greeting was seen.
    greeted: bool,
    /// The code of a multi-line reply in progress.
    multiline: Option<u16>,
}

/// FTP control flow state.
#[derive(Default)]
pub struct Ftp {
    /// Per direction: passing over an overlong line until its end.
    discarding: [bool; 2],
    /// TLS was negotiated.
    encrypted: bool,
    session: Option<Box<Session>>,
}

impl Dissector for Ftp {
    const REGISTRATION: Registration = Registration { tcp_ports: &[21], probe: Some(parser::probe), ..Registration::new(Protocol::Ftp) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut used = 0;
        while let Some(rest) = data.get(used..).filter(|r| !r.is_empty() && !self.encrypted) {
            let Some(end) = rest.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
                if rest.len() < MAX_LINE {
                    return used;
                }
                self.set_discarding(d, true);
                return data.len();
            };
            used += end + 1;
            let line = rest.get(..end).unwrap_or_default();
            if self.discarding.get(d).copied().unwrap_or(false) {
                self.set_discarding(d, false);
                continue;
            }
            match ctx.dir {
                Direction::ToServer => self.command(ctx, line),
                Direction::ToClient => self.reply(ctx, line),
            }
        }
        data.len()
    }

    fn gap(&mut self, dir: Direction) {
        self.set_discarding(dir.index(), true);
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        let Some(s) = self.session.as_mut() else { return };
        let user = s.user;
        for c in s.queue.iter_mut().filter_map(Option::take) {
            report(ctx, &c, &user, OperationResult::Unknown);
        }
    }

    fn finished(&self) -> bool {
        self.encrypted
    }
}

impl Ftp {
    fn set_discarding(&mut self, d: usize, on: bool) {
        if let Some(flag) = self.discarding.get_mut(d) {
            *flag = on;
        }
    }

    fn session(&mut self) -> &mut Session {
        self.session.get_or_insert_with(Box::default)
    }

    /// A command line from the client.
    fn command(&mut self, ctx: &mut Ctx<'_>, line: &[u8]) {
        let Some((verb, arg)) = parser::command(line) else { return };
        let s = self.session();
        let arg = match verb {
            // The password is not kept.
            Verb::Pass => Name::default(),
            _ => Name::bytes(arg),
        };
        if verb == Verb::User {
            s.user = arg;
        }
        let command = Command { verb, arg };
        match s.queue.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(command),
            None => {
                // Too many unanswered commands: the oldest is reported without a reply.
                let user = s.user;
                let oldest = s.queue.first_mut().and_then(Option::take);
                s.queue.rotate_left(1);
                if let Some(last) = s.queue.last_mut() {
                    *last = Some(command);
                }
                if let Some(oldest) = oldest {
                    report(ctx, &oldest, &user, OperationResult::Unknown);
                }
            }
        }
    }

    /// A reply line from the server.
    fn reply(&mut self, ctx: &mut Ctx<'_>, line: &[u8]) {
        let s = self.session();
        let Some((code, more, text)) = parser::reply(line) else { return };
        match s.multiline {
            // Inside a multi-line reply only its final line counts.
            Some(open) if open != code || more => return,
            Some(_) => s.multiline = None,
            None if more => s.multiline = Some(code),
            None => {}
        }
        let text = Name::bytes(text);
        if code == 220 && !s.greeted {
            s.greeted = true;
            let banner = text.as_str().trim_start_matches(['-', ' ']).trim();
            ctx.sender_identity(IdentityField::Server, banner);
            if let Some(os) = crate::ssh::os_hint(banner) {
                ctx.sender_identity(IdentityField::Os, os);
            }
            return;
        }
        // Preliminary replies and the first line of a multi-line reply do not end a command.
        if code < 200 || more {
            return;
        }
        let Some(command) = s.queue.first_mut().and_then(Option::take) else { return };
        s.queue.rotate_left(1);
        let user = s.user;
        match command.verb {
            Verb::Syst if code == 215 => {
                if let Some(os) = parser::system_os(text.as_str()) {
                    ctx.sender_identity(IdentityField::Os, os);
                }
            }
            Verb::Auth if code == 234 => self.encrypted = true,
            Verb::Rnfr if code == 350 => s.rename_from = command.arg,
            Verb::Rnto => {
                let mut target = Name::default();
                let from = std::mem::take(&mut s.rename_from);
                let _ = match from.as_str() {
                    "" => write!(target, "rename to {}", command.arg),
                    from => write!(target, "rename {from} to {}", command.arg),
                };
                report(ctx, &Command { verb: Verb::Rnto, arg: target }, &user, result(code));
            }
            Verb::User if code == 230 || code == 530 => report(ctx, &command, &user, result(code)),
            Verb::Pass | Verb::Retr | Verb::Store | Verb::Dele | Verb::Mkd | Verb::Rmd => report(ctx, &command, &user, result(code)),
            _ => {}
        }
    }
}

/// The result a final reply code stands for.
fn result(code: u16) -> OperationResult {
    if code < 400 {
        OperationResult::Success
    } else {
        OperationResult::Error(u32::from(code))
    }
}

/// Reports a command's operation (RNTO commands carry their whole target).
fn report(ctx: &mut Ctx<'_>, c: &Command, user: &Name, result: OperationResult) {
    let (kind, prefix, name) = match c.verb {
        Verb::User | Verb::Pass => (OperationKind::Login, "", user),
        Verb::Retr => (OperationKind::Read, "", &c.arg),
        Verb::Store | Verb::Rnto => (OperationKind::Write, "", &c.arg),
        Verb::Dele => (OperationKind::Write, "delete ", &c.arg),
        Verb::Mkd => (OperationKind::Write, "mkdir ", &c.arg),
        Verb::Rmd => (OperationKind::Write, "rmdir ", &c.arg),
        Verb::Rnfr | Verb::Syst | Verb::Auth | Verb::Other => return,
    };
    ctx.operation(kind, 0, Some(format_args!("{prefix}{name}")), result);
}

#[cfg(test)]
mod tests;
