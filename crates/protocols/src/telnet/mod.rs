//! Telnet on TCP 23 (and wherever a flow opens with option negotiation).
//!
//! Option negotiation (IAC sequences, RFC 854/855) is stripped from both
//! directions. The server's first line of text is its banner (`server`
//! fact, with an `os` hint); a login prompt with a host name before it
//! serves when there is no banner line. Credentials typed in clear text are
//! followed through the prompts: a login prompt answered by the client,
//! then a password prompt answered, is a `login` operation whose target is
//! the user name (none for a password-only prompt) and whose result is what
//! the server answers next (`Login incorrect`, a new prompt: an error;
//! other text: success). A shell prompt right after the user name is a
//! successful login without password. The password itself is never kept.
//! Once the login succeeded (or after 16 KiB of server text) the flow
//! needs nothing more.

mod parser;

use crate::text::Text;
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use parser::{Iac, Prompt};

/// Server text read before the login dialogue is given up on (it is short).
const SERVER_BUDGET: u32 = 16 * 1024;
/// Telnet has no error codes: a refused login is `Error(0)`.
const REFUSED: u32 = 0;

/// Where the login dialogue is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Login {
    /// No prompt yet.
    #[default]
    Waiting,
    /// The server asked for a user name.
    UserPrompted,
    /// The client answered with a user name.
    UserSent,
    /// The server asked for a password.
    PasswordPrompted,
    /// The client typed a password: the server's answer tells the result.
    PasswordSent,
    /// Logged in, or given up: nothing more to read.
    Done,
}

/// Line buffers, boxed on the first text so idle flows stay small.
#[derive(Default)]
struct Lines {
    /// The server's current line.
    server: Text<160>,
    /// The client's current line (never a password).
    client: Text<64>,
    /// The user name sent.
    user: Text<64>,
    /// The client typed something at the password prompt.
    password_typed: bool,
}

/// Telnet flow state.
#[derive(Default)]
pub struct Telnet {
    /// Per direction: where the IAC parser is.
    iac: [Iac; 2],
    login: Login,
    banner_done: bool,
    /// Server text bytes read so far.
    waited: u32,
    lines: Option<Box<Lines>>,
}

impl Dissector for Telnet {
    const REGISTRATION: Registration = Registration { tcp_ports: &[23], probe: Some(parser::probe), ..Registration::new(Protocol::Telnet) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        for &b in data {
            if self.login == Login::Done {
                break;
            }
            let Some(state) = self.iac.get_mut(d) else { break };
            let (next, text) = state.step(b);
            *state = next;
            if let Some(c) = text {
                match ctx.dir {
                    Direction::ToClient => self.server_byte(ctx, c),
                    Direction::ToServer => self.client_byte(c),
                }
            }
        }
        if ctx.dir == Direction::ToClient && self.login != Login::Done {
            self.server_prompt(ctx);
        }
        data.len()
    }

    fn gap(&mut self, dir: Direction) {
        if let Some(state) = self.iac.get_mut(dir.index()) {
            *state = Iac::default();
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if self.login == Login::PasswordSent {
            self.report(ctx, OperationResult::Unknown);
        }
    }

    fn finished(&self) -> bool {
        self.login == Login::Done
    }
}

impl Telnet {
    fn lines(&mut self) -> &mut Lines {
        self.lines.get_or_insert_with(Box::default)
    }

    /// One character of server text.
    fn server_byte(&mut self, ctx: &mut Ctx<'_>, c: u8) {
        self.waited = self.waited.saturating_add(1);
        if self.waited > SERVER_BUDGET {
            if self.login == Login::PasswordSent {
                self.report(ctx, OperationResult::Unknown);
            }
            self.login = Login::Done;
            return;
        }
        if c == b'\r' || c == b'\n' {
            let line = self.lines().server;
            self.lines().server.clear();
            self.server_line(ctx, line.trimmed());
        } else {
            self.lines().server.push(char::from(c));
        }
    }

    /// A whole line from the server.
    fn server_line(&mut self, ctx: &mut Ctx<'_>, line: &str) {
        if line.is_empty() {
            return;
        }
        if !self.banner_done && self.login == Login::Waiting && parser::prompt(line).is_none() {
            self.banner(ctx, line);
        }
        if self.login == Login::PasswordSent {
            let result = if parser::refused(line) { OperationResult::Error(REFUSED) } else { OperationResult::Success };
            self.report(ctx, result);
        }
    }

    /// Looks at the server's unfinished line: prompts end without a newline.
    fn server_prompt(&mut self, ctx: &mut Ctx<'_>) {
        let Some(lines) = self.lines.as_ref() else { return };
        let line = lines.server;
        let line = line.trimmed();
        match parser::prompt(line) {
            Some(Prompt::User { host }) => {
                if !self.banner_done && host {
                    self.banner(ctx, line);
                }
                if self.login == Login::PasswordSent {
                    self.report(ctx, OperationResult::Error(REFUSED));
                }
                self.login = Login::UserPrompted;
            }
            Some(Prompt::Password) => match self.login {
                Login::PasswordSent => {
                    self.report(ctx, OperationResult::Error(REFUSED));
                    self.login = Login::PasswordPrompted;
                }
                Login::Waiting | Login::UserSent | Login::UserPrompted => {
                    if self.login != Login::UserSent {
                        self.lines().user.clear();
                    }
                    self.login = Login::PasswordPrompted;
                }
                Login::PasswordPrompted | Login::Done => {}
            },
            // A shell after the password, or right after the user name
            // (an account without a password).
            Some(Prompt::Shell) if matches!(self.login, Login::PasswordSent | Login::UserSent) => {
                self.report(ctx, OperationResult::Success)
            }
            Some(Prompt::Shell) | None => {}
        }
    }

    /// One character typed by the client.
    fn client_byte(&mut self, c: u8) {
        let login = self.login;
        let lines = self.lines();
        match c {
            b'\r' | b'\n' => {
                let typed = !lines.client.trimmed().is_empty() || lines.password_typed;
                if !typed {
                    return;
                }
                match login {
                    Login::UserPrompted => {
                        lines.user = lines.client;
                        self.login = Login::UserSent;
                    }
                    Login::PasswordPrompted => self.login = Login::PasswordSent,
                    _ => {}
                }
                let lines = self.lines();
                lines.client.clear();
                lines.password_typed = false;
                // The prompt was answered: what the server sends next is new.
                lines.server.clear();
            }
            0x08 | 0x7f => lines.client.pop(),
            0x20.. if login == Login::PasswordPrompted => lines.password_typed = true,
            _ => {
                lines.client.push(char::from(c));
            }
        }
    }

    /// Reports the server's banner (once).
    fn banner(&mut self, ctx: &mut Ctx<'_>, line: &str) {
        self.banner_done = true;
        ctx.sender_identity(IdentityField::Server, line);
        if let Some(os) = crate::ssh::os_hint(line) {
            ctx.sender_identity(IdentityField::Os, os);
        }
    }

    /// Reports the login with `result`; after a success nothing more is read.
    fn report(&mut self, ctx: &mut Ctx<'_>, result: OperationResult) {
        let user = self.lines().user;
        let user = user.trimmed();
        if user.is_empty() {
            ctx.operation(OperationKind::Login, 0, None, result);
        } else {
            ctx.operation(OperationKind::Login, 0, Some(format_args!("{user}")), result);
        }
        self.login = if result == OperationResult::Success { Login::Done } else { Login::Waiting };
    }
}

#[cfg(test)]
mod tests;
