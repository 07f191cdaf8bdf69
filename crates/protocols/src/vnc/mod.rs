//! VNC (RFB, RFC 6143) on TCP 5900-5906 (and wherever a flow opens with
//! an `RFB 003.00x` version line), a remote-access marker.
//!
//! The handshake is followed up to the server's initialisation message:
//! - the server's version line is its `server` fact;
//! - the security types the server offers: None (no authentication at all)
//!   is the fact `service: vnc no-auth` on the server;
//! - the session is a `session` operation with target `vnc <version>`
//!   (the version the client chose), with the security result (an error
//!   with the failure code when refused; unknown for security types not
//!   followed further, such as VeNCrypt or TLS);
//! - VNC password authentication is a `login` operation without a user
//!   name, with the security result;
//! - the desktop name of the server's initialisation is its `description`.
//!
//! Nothing after the handshake is read.

mod parser;

use crate::text::Text;
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use parser::{Step, Version};

/// Security type None.
const NONE: u8 = 1;
/// Security type VNC authentication (DES challenge-response).
const VNC_AUTH: u8 = 2;

/// Where the server's side of the handshake is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Server {
    /// Its version line comes.
    #[default]
    Version,
    /// The security types (3.7+) or the chosen type (3.3) come.
    Security,
    /// The client's choice of security type is awaited.
    AwaitChoice,
    /// The VNC authentication challenge comes.
    Challenge,
    /// The security result comes.
    Result,
    /// The initialisation message comes.
    Init,
    /// Nothing more to read.
    Done,
}

/// Where the client's side of the handshake is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Client {
    /// Its version line comes.
    #[default]
    Version,
    /// The chosen security type comes (3.7+).
    Select,
    /// Nothing more to read.
    Done,
}

/// VNC flow state.
#[derive(Default)]
pub struct Vnc {
    server: Server,
    client: Client,
    server_version: Option<Version>,
    client_version: Option<Version>,
    /// The security type in use.
    security: Option<u8>,
    /// The session operation was reported.
    reported: bool,
}

impl Dissector for Vnc {
    const REGISTRATION: Registration = Registration {
        tcp_ports: &[5900, 5901, 5902, 5903, 5904, 5905, 5906],
        probe: Some(parser::probe),
        ..Registration::new(Protocol::Vnc)
    };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let mut used = 0;
        while let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) {
            let step = match ctx.dir {
                Direction::ToClient if self.server != Server::Done => self.server_step(ctx, rest),
                Direction::ToServer if self.client != Client::Done => self.client_step(rest),
                _ => break,
            };
            match step {
                Step::Used(n) => used += n,
                Step::More => return used,
            }
        }
        data.len()
    }

    fn gap(&mut self, dir: Direction) {
        match dir {
            Direction::ToClient => self.server = Server::Done,
            Direction::ToServer => self.client = Client::Done,
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if self.server_version.is_some() && self.client_version.is_some() {
            self.session(ctx, OperationResult::Unknown);
        }
    }

    fn finished(&self) -> bool {
        self.server == Server::Done && self.client == Client::Done
    }
}

impl Vnc {
    /// The version in use: the client's answer, else the server's offer.
    fn version(&self) -> Option<Version> {
        self.client_version.or(self.server_version)
    }

    fn server_step(&mut self, ctx: &mut Ctx<'_>, rest: &[u8]) -> Step {
        match self.server {
            Server::Version => match parser::version(rest) {
                Some(Ok(v)) => {
                    self.server_version = Some(v);
                    self.server = Server::Security;
                    let line = Text::<16>::bytes(rest.get(..parser::VERSION_LEN - 1).unwrap_or_default());
                    ctx.sender_identity(IdentityField::Server, line.as_str());
                    Step::Used(parser::VERSION_LEN)
                }
                Some(Err(())) => self.server_done(),
                None => Step::More,
            },
            Server::Security => {
                let legacy = self.version().is_some_and(|v| v.minor < 7);
                let Some((types, n)) = parser::security(rest, legacy) else { return Step::More };
                self.offered(ctx, types, legacy);
                Step::Used(n)
            }
            Server::AwaitChoice => {
                self.server = match self.security {
                    Some(_) => self.after_selection(ctx),
                    None => Server::Done,
                };
                Step::Used(0)
            }
            Server::Challenge if rest.len() < parser::CHALLENGE_LEN => Step::More,
            Server::Challenge => {
                self.server = Server::Result;
                Step::Used(parser::CHALLENGE_LEN)
            }
            Server::Result => {
                let Some(code) = rest.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_be_bytes) else { return Step::More };
                let result = if code == 0 { OperationResult::Success } else { OperationResult::Error(code) };
                if self.security == Some(VNC_AUTH) {
                    ctx.operation(OperationKind::Login, u32::from(VNC_AUTH), None, result);
                }
                self.session(ctx, result);
                if code == 0 {
                    self.server = Server::Init;
                    Step::Used(4)
                } else {
                    self.server_done()
                }
            }
            Server::Init => match parser::desktop_name(rest) {
                Some(Ok((name, n))) => {
                    ctx.sender_identity(IdentityField::Description, Text::<128>::bytes(name).trimmed());
                    self.server = Server::Done;
                    Step::Used(n)
                }
                Some(Err(())) => self.server_done(),
                None => Step::More,
            },
            Server::Done => Step::Used(rest.len()),
        }
    }

    /// The security types a server offers (or, before 3.7, the one it chose).
    fn offered(&mut self, ctx: &mut Ctx<'_>, types: &[u8], legacy: bool) {
        if types.is_empty() {
            // No type: the connection failed (a reason string follows).
            self.session(ctx, OperationResult::Error(0));
            self.server = Server::Done;
            return;
        }
        if types.contains(&NONE) {
            ctx.sender_identity(IdentityField::Service, "vnc no-auth");
        }
        if legacy {
            self.security = types.first().copied();
        }
        self.server = match self.security {
            Some(_) => self.after_selection(ctx),
            None => Server::AwaitChoice,
        };
    }

    /// What the server sends once the security type is known.
    fn after_selection(&mut self, ctx: &mut Ctx<'_>) -> Server {
        let with_result = self.version().is_some_and(|v| v.minor >= 8);
        match self.security {
            Some(VNC_AUTH) => Server::Challenge,
            Some(NONE) if with_result => Server::Result,
            Some(NONE) => {
                self.session(ctx, OperationResult::Success);
                Server::Init
            }
            _ => {
                self.session(ctx, OperationResult::Unknown);
                Server::Done
            }
        }
    }

    fn client_step(&mut self, rest: &[u8]) -> Step {
        match self.client {
            Client::Version => match parser::version(rest) {
                Some(Ok(v)) => {
                    self.client_version = Some(v);
                    self.client = if v.minor >= 7 { Client::Select } else { Client::Done };
                    Step::Used(parser::VERSION_LEN)
                }
                Some(Err(())) => {
                    self.client = Client::Done;
                    Step::Used(rest.len())
                }
                None => Step::More,
            },
            Client::Select => {
                let Some(&chosen) = rest.first() else { return Step::More };
                self.security = Some(chosen);
                self.client = Client::Done;
                Step::Used(1)
            }
            Client::Done => Step::Used(rest.len()),
        }
    }

    fn server_done(&mut self) -> Step {
        self.server = Server::Done;
        Step::Used(0)
    }

    /// Reports the session once.
    fn session(&mut self, ctx: &mut Ctx<'_>, result: OperationResult) {
        if std::mem::replace(&mut self.reported, true) {
            return;
        }
        let Some(v) = self.version() else { return };
        ctx.operation(OperationKind::Session, u32::from(self.security.unwrap_or(0)), Some(format_args!("vnc {v}")), result);
    }
}

#[cfg(test)]
mod tests;
