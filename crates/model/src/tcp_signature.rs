//! Passive TCP fingerprints: the traits of a host's TCP stack that its SYN
//! (or SYN-ACK) shows without being asked: initial TTL, window, MSS, window
//! scale, the order of the TCP options and the IPv4 don't-fragment bit.
//!
//! The sensor builds a [`TcpSignature`] from each SYN and SYN-ACK and reports
//! its text form (for example `syn ttl=64 win=64240 mss=1460 ws=7
//! opts=M,S,T,N,W df`) as a `tcp_fingerprint` identity fact; the inventory
//! parses it back and matches it against its signature table.

use std::fmt;

/// Most TCP options a signature keeps (a SYN carries at most 40 option bytes).
pub const MAX_TCP_OPTIONS: usize = 16;

/// Which handshake packet a signature was taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SynKind {
    /// A connection request (SYN without ACK): the client's stack.
    Syn,
    /// A connection answer (SYN with ACK): the server's stack.
    SynAck,
}

impl SynKind {
    /// The stable name: `syn` or `syn-ack`.
    pub fn as_str(self) -> &'static str {
        match self {
            SynKind::Syn => "syn",
            SynKind::SynAck => "syn-ack",
        }
    }

    /// Looks a kind up by its stable name.
    pub fn from_name(text: &str) -> Option<Self> {
        match text {
            "syn" => Some(SynKind::Syn),
            "syn-ack" => Some(SynKind::SynAck),
            _ => None,
        }
    }
}

/// The stack traits of one SYN or SYN-ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpSignature {
    /// SYN or SYN-ACK.
    pub kind: SynKind,
    /// The TTL the sender started from: the observed TTL rounded up to 32, 64, 128 or 255.
    pub initial_ttl: u8,
    /// Receive window (unscaled, as sent).
    pub window: u16,
    /// Maximum segment size option.
    pub mss: Option<u16>,
    /// Window scale option (shift count).
    pub window_scale: Option<u8>,
    /// IPv4 don't-fragment bit (false for IPv6, which has none).
    pub dont_fragment: bool,
    /// Option kinds in the order sent (only the first `option_count` are used).
    option_kinds: [u8; MAX_TCP_OPTIONS],
    option_count: u8,
}

/// Rounds an observed TTL up to the usual initial values (32, 64, 128, 255):
/// routers only ever lower it, so the next value up is where it started.
pub fn initial_ttl(observed: u8) -> u8 {
    match observed {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 255,
    }
}

/// The letter a signature uses for a TCP option kind.
fn option_letter(kind: u8) -> Option<char> {
    match kind {
        0 => Some('E'),
        1 => Some('N'),
        2 => Some('M'),
        3 => Some('W'),
        4 => Some('S'),
        8 => Some('T'),
        _ => None,
    }
}

/// The option kind a signature letter stands for.
fn letter_option(letter: &str) -> Option<u8> {
    match letter {
        "E" => Some(0),
        "N" => Some(1),
        "M" => Some(2),
        "W" => Some(3),
        "S" => Some(4),
        "T" => Some(8),
        other => other.strip_prefix('?').and_then(|k| k.parse().ok()),
    }
}

impl TcpSignature {
    /// Builds a signature from a SYN's fields: the observed TTL, the window,
    /// the raw TCP option bytes and the don't-fragment bit. Malformed options
    /// end the option list where they start (never a panic).
    pub fn from_syn(kind: SynKind, ttl: u8, window: u16, options: &[u8], dont_fragment: bool) -> Self {
        let mut sig = TcpSignature {
            kind,
            initial_ttl: initial_ttl(ttl),
            window,
            mss: None,
            window_scale: None,
            dont_fragment,
            option_kinds: [0; MAX_TCP_OPTIONS],
            option_count: 0,
        };
        let mut at = 0usize;
        while let Some(&kind) = options.get(at) {
            if usize::from(sig.option_count) >= MAX_TCP_OPTIONS {
                break;
            }
            if let Some(slot) = sig.option_kinds.get_mut(usize::from(sig.option_count)) {
                *slot = kind;
            }
            sig.option_count += 1;
            match kind {
                0 => break,
                1 => at += 1,
                _ => {
                    let Some(len) = options.get(at + 1).map(|l| usize::from(*l)).filter(|l| *l >= 2) else { break };
                    let Some(body) = options.get(at + 2..at + len) else { break };
                    match (kind, body) {
                        (2, [a, b]) => sig.mss = Some(u16::from_be_bytes([*a, *b])),
                        (3, [shift]) => sig.window_scale = Some(*shift),
                        _ => {}
                    }
                    at += len;
                }
            }
        }
        sig
    }

    /// The option kinds in the order sent.
    pub fn options(&self) -> &[u8] {
        self.option_kinds.get(..usize::from(self.option_count)).unwrap_or(&[])
    }

    /// Parses the text form written by `Display`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        let kind = SynKind::from_name(words.next()?)?;
        let mut sig = TcpSignature {
            kind,
            initial_ttl: 0,
            window: 0,
            mss: None,
            window_scale: None,
            dont_fragment: false,
            option_kinds: [0; MAX_TCP_OPTIONS],
            option_count: 0,
        };
        for word in words {
            match word.split_once('=') {
                Some(("ttl", v)) => sig.initial_ttl = v.parse().ok()?,
                Some(("win", v)) => sig.window = v.parse().ok()?,
                Some(("mss", "-")) | Some(("ws", "-")) | Some(("opts", "-")) => {}
                Some(("mss", v)) => sig.mss = Some(v.parse().ok()?),
                Some(("ws", v)) => sig.window_scale = Some(v.parse().ok()?),
                Some(("opts", v)) => {
                    for letter in v.split(',') {
                        let slot = sig.option_kinds.get_mut(usize::from(sig.option_count))?;
                        *slot = letter_option(letter)?;
                        sig.option_count += 1;
                    }
                }
                None if word == "df" => sig.dont_fragment = true,
                None if word == "nodf" => sig.dont_fragment = false,
                _ => return None,
            }
        }
        Some(sig)
    }
}

/// Writes the option layout as letters (`M,N,W,N,N,S`), `-` when there are none.
pub struct OptionLayout<'a>(pub &'a [u8]);

impl fmt::Display for OptionLayout<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        for (i, kind) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match option_letter(*kind) {
                Some(letter) => write!(f, "{letter}")?,
                None => write!(f, "?{kind}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for TcpSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ttl={} win={} mss=", self.kind.as_str(), self.initial_ttl, self.window)?;
        match self.mss {
            Some(m) => write!(f, "{m}")?,
            None => f.write_str("-")?,
        }
        f.write_str(" ws=")?;
        match self.window_scale {
            Some(w) => write!(f, "{w}")?,
            None => f.write_str("-")?,
        }
        write!(f, " opts={} {}", OptionLayout(self.options()), if self.dont_fragment { "df" } else { "nodf" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_syn_round_trips() {
        let opts = [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2];
        let sig = TcpSignature::from_syn(SynKind::Syn, 127, 64240, &opts, true);
        let text = sig.to_string();
        assert_eq!(text, "syn ttl=128 win=64240 mss=1460 ws=8 opts=M,N,W,N,N,S df");
        assert_eq!(TcpSignature::parse(&text), Some(sig));
    }

    #[test]
    fn no_options_and_odd_ones() {
        let sig = TcpSignature::from_syn(SynKind::SynAck, 30, 8192, &[], false);
        assert_eq!(sig.to_string(), "syn-ack ttl=32 win=8192 mss=- ws=- opts=- nodf");
        assert_eq!(TcpSignature::parse(&sig.to_string()), Some(sig));
        let odd = TcpSignature::from_syn(SynKind::Syn, 200, 1, &[30, 4, 0, 0, 0], true);
        assert_eq!(odd.to_string(), "syn ttl=255 win=1 mss=- ws=- opts=?30,E df");
        assert_eq!(TcpSignature::parse(&odd.to_string()), Some(odd));
    }

    #[test]
    fn malformed_options_stop_cleanly() {
        // A length that runs past the end, a zero length, and a truncated MSS.
        for opts in [&[2u8, 40, 5][..], &[3, 0, 1, 1], &[2, 4, 5]] {
            let sig = TcpSignature::from_syn(SynKind::Syn, 64, 1, opts, false);
            assert_eq!(sig.options(), &[opts[0]][..]);
            assert_eq!(sig.mss, None);
        }
        let many = [1u8; 40];
        assert_eq!(TcpSignature::from_syn(SynKind::Syn, 64, 1, &many, false).options().len(), MAX_TCP_OPTIONS);
        assert_eq!(TcpSignature::parse("syn ttl=x"), None);
        assert_eq!(TcpSignature::parse("ack ttl=64"), None);
    }

    #[test]
    fn ttl_rounds_up() {
        assert_eq!(
            [1, 30, 32, 33, 60, 64, 65, 113, 128, 129, 250, 255].map(initial_ttl),
            [32, 32, 32, 64, 64, 64, 128, 128, 128, 255, 255, 255]
        );
    }
}
