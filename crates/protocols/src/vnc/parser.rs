//! RFB handshake messages (RFC 6143 section 7.1-7.3): pure functions.

use palisade_decode::be32;
use std::fmt;

/// Length of a version line (`RFB 003.008\n`).
pub(crate) const VERSION_LEN: usize = 12;
/// Length of the VNC authentication challenge.
pub(crate) const CHALLENGE_LEN: usize = 16;
/// Length of the server initialisation before the desktop name.
const INIT_LEN: usize = 24;
/// Longest desktop name read.
const MAX_NAME: usize = 1024;

/// What reading a message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Consumed this many bytes.
    Used(usize),
    /// More bytes are needed.
    More,
}

/// A protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    /// Major version (3).
    pub major: u16,
    /// Minor version (3, 7, 8; 889 for Apple Remote Desktop).
    pub minor: u16,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Reads a version line: `None` until 12 bytes are there, `Err` if they
/// are not one.
pub(crate) fn version(data: &[u8]) -> Option<Result<Version, ()>> {
    let line = data.get(..VERSION_LEN)?;
    let number = |digits: Option<&[u8]>| {
        let digits = digits.filter(|d| d.iter().all(u8::is_ascii_digit))?;
        Some(digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
    };
    let ok = line.starts_with(b"RFB ") && line.get(7) == Some(&b'.') && line.get(11) == Some(&b'\n');
    Some(match (ok, number(line.get(4..7)), number(line.get(8..11))) {
        (true, Some(major), Some(minor)) => Ok(Version { major, minor }),
        _ => Err(()),
    })
}

/// Reads the server's security message: the offered types (3.7+: a count
/// and the types; before: the one chosen, as a 32-bit number) and the
/// bytes used. No type means the connection failed. `None` until the bytes
/// are there.
pub(crate) fn security(data: &[u8], legacy: bool) -> Option<(&[u8], usize)> {
    if legacy {
        let chosen = be32(data, 0)?;
        let types = if (1..=255).contains(&chosen) { data.get(3..4)? } else { &[] };
        return Some((types, 4));
    }
    let n = usize::from(*data.first()?);
    Some((data.get(1..1 + n)?, 1 + n))
}

/// Reads the server initialisation: the desktop name and the bytes used;
/// `None` until the bytes are there, `Err` for an implausible name length.
pub(crate) fn desktop_name(data: &[u8]) -> Option<Result<(&[u8], usize), ()>> {
    let len = usize::try_from(be32(data, INIT_LEN - 4)?).unwrap_or(usize::MAX);
    if len > MAX_NAME {
        return Some(Err(()));
    }
    Some(Ok((data.get(INIT_LEN..INIT_LEN + len)?, INIT_LEN + len)))
}

/// Recognises a server's version line alone at the start of a TCP flow.
pub(crate) fn probe(payload: &[u8], is_tcp: bool) -> bool {
    is_tcp && payload.len() == VERSION_LEN && matches!(version(payload), Some(Ok(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_messages() {
        assert_eq!(version(b"RFB 003.008\n"), Some(Ok(Version { major: 3, minor: 8 })));
        assert_eq!(version(b"RFB 003.889\nxx").map(|v| v.map(|v| v.to_string())), Some(Ok("3.889".to_string())));
        assert_eq!(version(b"RFB 003.00"), None);
        assert_eq!(version(b"RFB 0x3.008\n"), Some(Err(())));
        assert_eq!(security(&[2, 1, 2], false), Some((&[1u8, 2][..], 3)));
        assert_eq!(security(&[2, 1], false), None);
        assert_eq!(security(&[0, 0, 0, 2], true), Some((&[2u8][..], 4)));
        assert_eq!(security(&[0, 0, 0, 0, 0, 0, 0, 4], true), Some((&[][..], 4)));
        let mut init = vec![0u8; 20];
        init.extend(4u32.to_be_bytes());
        init.extend(b"hmi1");
        assert_eq!(desktop_name(&init), Some(Ok((&b"hmi1"[..], 28))));
        assert_eq!(desktop_name(&init[..26]), None);
        init[20] = 0xff;
        assert_eq!(desktop_name(&init), Some(Err(())));
    }

    #[test]
    fn probe_is_strict() {
        assert!(probe(b"RFB 003.008\n", true));
        assert!(!probe(b"RFB 003.008\n", false));
        assert!(!probe(b"RFB 003.008\nmore", true));
        assert!(!probe(b"RFB 3.8\n", true));
    }
}
