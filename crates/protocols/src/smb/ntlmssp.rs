//! NTLMSSP messages ([MS-NLMP] section 2.2) as SMB session setups carry
//! them (raw or inside SPNEGO): the version of the sender's OS, the
//! server's names from the CHALLENGE target information and the client's
//! user, domain and workstation from the AUTHENTICATE message. Pure and
//! zero-copy.

use crate::text::Text;
use palisade_decode::{le16, le32};
use std::fmt::Write as _;

/// The signature every NTLMSSP message starts with.
const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// Flag: strings are UTF-16LE (else OEM single-byte).
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
/// Flag: the version field is present.
const NEGOTIATE_VERSION: u32 = 0x0200_0000;
/// Target information: NetBIOS computer name.
pub(crate) const AV_NB_COMPUTER: u16 = 1;
/// Target information: NetBIOS domain name.
pub(crate) const AV_NB_DOMAIN: u16 = 2;
/// Target information: DNS computer name.
pub(crate) const AV_DNS_COMPUTER: u16 = 3;
/// Target information: DNS domain name.
pub(crate) const AV_DNS_DOMAIN: u16 = 4;

/// The sender's OS version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    /// Major version (10 for Windows 10).
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Build number.
    pub build: u16,
}

/// Text of a name, user or domain.
pub(crate) type Name = Text<128>;

/// One NTLMSSP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// NEGOTIATE, from the client.
    Negotiate {
        /// Client OS version.
        version: Option<Version>,
    },
    /// CHALLENGE, from the server.
    Challenge {
        /// Server OS version.
        version: Option<Version>,
        /// Strings are UTF-16LE.
        unicode: bool,
        /// The target information AV pairs.
        target_info: &'a [u8],
    },
    /// AUTHENTICATE, from the client.
    Authenticate {
        /// Client OS version.
        version: Option<Version>,
        /// Strings are UTF-16LE.
        unicode: bool,
        /// The user's domain.
        domain: &'a [u8],
        /// The user name (empty for an anonymous logon).
        user: &'a [u8],
        /// The client's computer name.
        workstation: &'a [u8],
    },
}

/// Finds and reads the NTLMSSP message inside a security blob.
pub(crate) fn find(blob: &[u8]) -> Option<Message<'_>> {
    let at = blob.windows(SIGNATURE.len()).position(|w| w == SIGNATURE)?;
    parse(blob.get(at..)?)
}

/// Reads an NTLMSSP message that starts at `msg[0]`.
fn parse(msg: &[u8]) -> Option<Message<'_>> {
    match le32(msg, 8)? {
        1 => Some(Message::Negotiate { version: version(msg, le32(msg, 12)?, 32) }),
        2 => {
            let flags = le32(msg, 20)?;
            Some(Message::Challenge {
                version: version(msg, flags, 48),
                unicode: flags & NEGOTIATE_UNICODE != 0,
                target_info: field(msg, 40)?,
            })
        }
        3 => {
            let flags = le32(msg, 60)?;
            Some(Message::Authenticate {
                version: version(msg, flags, 64),
                unicode: flags & NEGOTIATE_UNICODE != 0,
                domain: field(msg, 28)?,
                user: field(msg, 36)?,
                workstation: field(msg, 44)?,
            })
        }
        _ => None,
    }
}

/// The bytes a (length, allocated, offset) field at `at` points to.
fn field(msg: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(le16(msg, at)?);
    if len == 0 {
        return Some(&[]);
    }
    let offset = usize::try_from(le32(msg, at + 4)?).ok()?;
    msg.get(offset..offset.checked_add(len)?)
}

/// The version field at `at`, when the flags say it is there and it is set.
fn version(msg: &[u8], flags: u32, at: usize) -> Option<Version> {
    if flags & NEGOTIATE_VERSION == 0 {
        return None;
    }
    let v = Version { major: *msg.get(at)?, minor: *msg.get(at + 1)?, build: le16(msg, at + 2)? };
    (v.major != 0).then_some(v)
}

/// The AV pairs (id, value) of target information, up to the end marker.
pub(crate) fn av_pairs(info: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let id = le16(info, at)?;
        let len = usize::from(le16(info, at + 2)?);
        if id == 0 {
            return None;
        }
        let value = info.get(at + 4..at + 4 + len)?;
        at += 4 + len;
        Some((id, value))
    })
}

/// The Windows release of a version, with its build number. Build 0 is
/// what Samba and other non-Windows implementations send: no OS is named.
pub(crate) fn os_name(v: Version) -> Option<Text<64>> {
    let release = match (v.major, v.minor, v.build) {
        (_, _, 0) => return None,
        (10, 0, 22000..) => "Windows 11 / Server 2025",
        (10, 0, _) => "Windows 10 / Server 2016-2022",
        (major, minor, _) => crate::nbns::windows_version(major, minor)?,
    };
    let mut out = Text::default();
    let _ = write!(out, "{release} build {}", v.build);
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// UTF-16LE bytes of `s`.
    pub(crate) fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A CHALLENGE message naming `computer` in `domain`, from Windows `version`.
    pub(crate) fn challenge(computer: &str, domain: &str, version: (u8, u8, u16)) -> Vec<u8> {
        let mut info = Vec::new();
        for (id, value) in [(AV_NB_DOMAIN, domain), (AV_NB_COMPUTER, computer), (AV_DNS_DOMAIN, domain), (AV_DNS_COMPUTER, computer)] {
            let v = utf16(value);
            info.extend(id.to_le_bytes());
            info.extend((v.len() as u16).to_le_bytes());
            info.extend(v);
        }
        info.extend([0, 0, 0, 0]);
        let mut m = SIGNATURE.to_vec();
        m.extend(2u32.to_le_bytes());
        m.extend([0, 0, 0, 0, 56, 0, 0, 0]);
        m.extend((NEGOTIATE_UNICODE | NEGOTIATE_VERSION).to_le_bytes());
        m.extend([0x11; 8]);
        m.extend([0; 8]);
        m.extend((info.len() as u16).to_le_bytes());
        m.extend((info.len() as u16).to_le_bytes());
        m.extend(56u32.to_le_bytes());
        m.extend([version.0, version.1]);
        m.extend(version.2.to_le_bytes());
        m.extend([0, 0, 0, 15]);
        m.extend(info);
        m
    }

    /// An AUTHENTICATE message from `workstation` for `domain\user`.
    pub(crate) fn authenticate(domain: &str, user: &str, workstation: &str) -> Vec<u8> {
        let (d, u, w) = (utf16(domain), utf16(user), utf16(workstation));
        let mut m = SIGNATURE.to_vec();
        m.extend(3u32.to_le_bytes());
        let mut offset = 88u32;
        let mut payload = Vec::new();
        for value in [&[][..], &[][..], &d, &u, &w, &[][..]] {
            m.extend((value.len() as u16).to_le_bytes());
            m.extend((value.len() as u16).to_le_bytes());
            m.extend(offset.to_le_bytes());
            offset += value.len() as u32;
            payload.extend_from_slice(value);
        }
        m.extend((NEGOTIATE_UNICODE | NEGOTIATE_VERSION).to_le_bytes());
        m.extend([10, 0, 0x5a, 0x29, 0, 0, 0, 15]);
        m.extend([0; 16]);
        m.extend(payload);
        m
    }

    #[test]
    fn challenge_names_and_version() {
        let mut blob = vec![0xa1, 0x81, 0x30];
        blob.extend(challenge("SCV", "SCV", (6, 3, 9600)));
        let Some(Message::Challenge { version: Some(v), unicode: true, target_info }) = find(&blob) else { panic!("challenge") };
        assert_eq!(os_name(v).unwrap().as_str(), "Windows 8.1 / Server 2012 R2 build 9600");
        let names: Vec<_> = av_pairs(target_info).map(|(id, v)| (id, Name::decode(v, true).as_str().to_string())).collect();
        assert_eq!(names.first(), Some(&(AV_NB_DOMAIN, "SCV".to_string())));
        assert_eq!(names.len(), 4);
    }

    #[test]
    fn authenticate_fields() {
        let m = authenticate("DESKTOP-2AEFM7G", "Willi Wireshark", "DESKTOP-2AEFM7G");
        let Some(Message::Authenticate { version: Some(v), unicode, domain, user, workstation }) = find(&m) else { panic!("auth") };
        assert_eq!(Name::decode(user, unicode).as_str(), "Willi Wireshark");
        assert_eq!(Name::decode(domain, unicode).as_str(), "DESKTOP-2AEFM7G");
        assert_eq!(Name::decode(workstation, unicode).as_str(), "DESKTOP-2AEFM7G");
        assert_eq!(os_name(v).unwrap().as_str(), "Windows 10 / Server 2016-2022 build 10586");
        assert_eq!(os_name(Version { major: 6, minor: 1, build: 0 }), None);
        assert_eq!(os_name(Version { major: 10, minor: 0, build: 22631 }).unwrap().as_str(), "Windows 11 / Server 2025 build 22631");
    }

    #[test]
    fn bad_offsets_are_refused() {
        let mut m = authenticate("D", "U", "W");
        m[40] = 0xff;
        assert_eq!(find(&m), None);
        assert_eq!(find(b"NTLMSSP\0\x09\0\0\0"), None);
        assert_eq!(find(b"NTLMSSP"), None);
    }
}
