//! Telnet option negotiation (RFC 854, 855) and the text of login
//! dialogues: pure functions.

use crate::http::parser::contains_ignore_case;

/// Interpret As Command.
const IAC: u8 = 255;
/// Subnegotiation begin.
const SB: u8 = 250;
/// WILL, WONT, DO, DONT.
const NEGOTIATION: std::ops::RangeInclusive<u8> = 251..=254;
/// Longest subnegotiation followed before it is taken as broken.
const MAX_SUB: u16 = 1024;

/// Where the IAC parser of one direction is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Iac {
    /// Plain data.
    #[default]
    Data,
    /// After IAC.
    Command,
    /// After IAC WILL/WONT/DO/DONT: the option byte comes.
    Option,
    /// Inside a subnegotiation, with the bytes read so far.
    Sub(u16),
    /// IAC inside a subnegotiation.
    SubCommand(u16),
}

impl Iac {
    /// Reads one byte: the next state, and the byte if it is data.
    pub(crate) fn step(self, b: u8) -> (Iac, Option<u8>) {
        match self {
            Iac::Data if b == IAC => (Iac::Command, None),
            Iac::Data => (Iac::Data, Some(b)),
            Iac::Command if b == IAC => (Iac::Data, Some(b)),
            Iac::Command if NEGOTIATION.contains(&b) => (Iac::Option, None),
            Iac::Command if b == SB => (Iac::Sub(0), None),
            Iac::Command | Iac::Option => (Iac::Data, None),
            Iac::Sub(n) if n >= MAX_SUB => (Iac::Data, None),
            Iac::Sub(n) if b == IAC => (Iac::SubCommand(n), None),
            Iac::Sub(n) => (Iac::Sub(n + 1), None),
            Iac::SubCommand(n) if b == IAC => (Iac::Sub(n + 1), None),
            // SE, or a broken subnegotiation: back to data either way.
            Iac::SubCommand(_) => (Iac::Data, None),
        }
    }
}

/// Recognises a flow that opens with option negotiation: at least one
/// complete WILL/WONT/DO/DONT of a known option, and nothing after it but
/// more commands or text.
pub(crate) fn probe(payload: &[u8], is_tcp: bool) -> bool {
    let (Some(&IAC), Some(command), Some(&option)) = (payload.first(), payload.get(1), payload.get(2)) else { return false };
    if !is_tcp || !NEGOTIATION.contains(command) || !(option <= 49 || option == 255) {
        return false;
    }
    let mut state = Iac::Data;
    for &b in payload {
        let (next, data) = state.step(b);
        state = next;
        if data.is_some_and(|c| !((0x20..0x7f).contains(&c) || matches!(c, b'\r' | b'\n' | b'\t' | 0 | 0x07 | 0x08 | 0x1b))) {
            return false;
        }
    }
    true
}

/// What a server's unfinished line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// A user name; `host` when a single word (the host name) precedes it.
    User {
        /// A word precedes the prompt.
        host: bool,
    },
    /// A password.
    Password,
    /// A shell command.
    Shell,
}

/// Ends of lines that ask for a user name.
const USER_PROMPTS: [&str; 5] = ["login:", "username:", "user name:", "user:", "login as:"];
/// Ends of lines that ask for a password.
const PASSWORD_PROMPTS: [&str; 2] = ["password:", "passcode:"];
/// Words of a refused login.
const REFUSALS: [&str; 7] = ["incorrect", "failed", "failure", "denied", "invalid", "bad password", "wrong"];

/// What `line` (trimmed) prompts for, if it is a prompt.
pub(crate) fn prompt(line: &str) -> Option<Prompt> {
    if let Some(keyword) = USER_PROMPTS.iter().find(|k| ends_with_ignore_case(line, k)) {
        let before = line.get(..line.len() - keyword.len()).unwrap_or_default().trim();
        return Some(Prompt::User { host: !before.is_empty() && !before.contains(char::is_whitespace) });
    }
    if PASSWORD_PROMPTS.iter().any(|k| ends_with_ignore_case(line, k)) {
        return Some(Prompt::Password);
    }
    (line.len() <= 80 && line.ends_with(['$', '#', '>', '%'])).then_some(Prompt::Shell)
}

/// True if a server line says a login was refused.
pub(crate) fn refused(line: &str) -> bool {
    REFUSALS.iter().any(|word| contains_ignore_case(line.as_bytes(), word.as_bytes()))
}

/// True if `text` ends with `suffix`, ignoring ASCII case.
fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len()
        .checked_sub(suffix.len())
        .and_then(|at| text.as_bytes().get(at..))
        .is_some_and(|end| end.eq_ignore_ascii_case(suffix.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_is_stripped() {
        let bytes = b"\xff\xfd\x03ab\xff\xff\xff\xfa\x18\x00xterm\xff\xf0c\xff\xf1d";
        let mut state = Iac::Data;
        let mut text = Vec::new();
        for &b in bytes {
            let (next, data) = state.step(b);
            state = next;
            text.extend(data);
        }
        assert_eq!(text, b"ab\xffcd");
        let mut long = Iac::Sub(0);
        for _ in 0..=MAX_SUB {
            long = long.step(b'x').0;
        }
        assert_eq!(long, Iac::Data);
    }

    #[test]
    fn probe_wants_negotiation_first() {
        assert!(probe(b"\xff\xfd\x03\xff\xfb\x18\xff\xfb\x1f", true));
        assert!(probe(b"\xff\xfb\x01\xff\xfb\x03\r\nlogin: ", true));
        assert!(!probe(b"\xff\xfd\x03", false));
        assert!(!probe(b"\xff\xfd\x99", true));
        assert!(!probe(b"\xff\xfb\x01\x80\x81\x82", true));
        assert!(!probe(b"login: ", true));
        assert!(!probe(b"\xff\xfb", true));
    }

    #[test]
    fn prompts_and_refusals() {
        assert_eq!(prompt("login:"), Some(Prompt::User { host: false }));
        assert_eq!(prompt("raspberrypi login:"), Some(Prompt::User { host: true }));
        assert_eq!(prompt("User Name:"), Some(Prompt::User { host: false }));
        assert_eq!(prompt("Password:"), Some(Prompt::Password));
        assert_eq!(prompt("router>"), Some(Prompt::Shell));
        assert_eq!(prompt("Welcome"), None);
        assert!(refused("Login incorrect"));
        assert!(refused("% Authentication failed"));
        assert!(!refused("Last login: Sat Nov 27 20:11:43 on ttyp2"));
    }
}
