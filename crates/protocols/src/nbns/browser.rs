//! NetBIOS datagram service (RFC 1002, UDP 138) and the Windows browser
//! announcements it carries as SMB Trans writes to `\MAILSLOT\BROWSE`.
//! Pure and zero-copy.

use super::parser::{read_name, Name};
use palisade_decode::{be16, le16, le32};
use std::net::Ipv4Addr;

/// Length of the datagram header before the names.
const HEADER_LEN: usize = 14;
/// Browser opcode: Host Announcement.
pub(crate) const HOST_ANNOUNCEMENT: u8 = 0x01;
/// Browser opcode: Domain/Workgroup Announcement.
pub(crate) const DOMAIN_ANNOUNCEMENT: u8 = 0x0c;
/// Browser opcode: Local Master Announcement.
pub(crate) const LOCAL_MASTER_ANNOUNCEMENT: u8 = 0x0f;
/// Length of an announcement up to its comment.
const ANNOUNCEMENT_LEN: usize = 32;

/// A direct unique, direct group or broadcast datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Datagram<'a> {
    /// The address of the node that sent it (a relay may forward it).
    pub source_ip: Ipv4Addr,
    /// The sender's name.
    pub source: Name,
    /// The name it is sent to.
    pub destination: Name,
    /// What follows the names (an SMB message for the browser), in this
    /// fragment; empty for a fragment other than the first.
    pub user_data: &'a [u8],
}

/// Reads a datagram that carries data (types 0x10-0x12); `None` for other
/// types or a malformed one.
pub(crate) fn data_datagram(p: &[u8]) -> Option<Datagram<'_>> {
    let (kind, flags, length) = (*p.first()?, *p.get(1)?, be16(p, 10)?);
    let ip = <[u8; 4]>::try_from(p.get(4..8)?).ok()?;
    if !(0x10..=0x12).contains(&kind) || flags & 0xf0 != 0 {
        return None;
    }
    let end = HEADER_LEN.checked_add(usize::from(length)).filter(|&e| e <= p.len())?;
    let (source, at) = read_name(p, HEADER_LEN)?;
    let (destination, at) = read_name(p, at)?;
    let first_fragment = flags & 0x02 != 0;
    let user_data = if first_fragment { p.get(at..end)? } else { p.get(at..at)? };
    Some(Datagram { source_ip: Ipv4Addr::from(ip), source, destination, user_data })
}

/// True if `p` is a well-formed datagram service message of any type.
pub(crate) fn looks_like_datagram(p: &[u8]) -> bool {
    match p.first() {
        Some(0x10..=0x12) => data_datagram(p).is_some(),
        Some(0x13) => p.len() == 11 && p.get(1).is_some_and(|f| f & 0xf0 == 0) && p.get(10).is_some_and(|c| (0x82..=0x84).contains(c)),
        Some(0x14..=0x16) => p.get(1).is_some_and(|f| f & 0xf0 == 0) && read_name(p, 10).is_some_and(|(_, end)| end == p.len()),
        _ => false,
    }
}

/// The data of an SMB Trans request writing to the browser mailslot.
pub(crate) fn browse_mailslot(smb: &[u8]) -> Option<&[u8]> {
    if smb.get(..5)? != b"\xffSMB\x25" {
        return None;
    }
    let word_count = usize::from(*smb.get(32)?);
    let words = smb.get(33..33 + 2 * word_count)?;
    let setup_count = usize::from(*words.get(26)?);
    if word_count != 14 + setup_count {
        return None;
    }
    let data_count = usize::from(le16(words, 22)?);
    let data_offset = usize::from(le16(words, 24)?);
    // Byte count, then the ASCII transaction name.
    let bytes = smb.get(33 + 2 * word_count + 2..)?;
    let name = bytes.split(|&b| b == 0).next()?;
    if !name.eq_ignore_ascii_case(b"\\MAILSLOT\\BROWSE") {
        return None;
    }
    let end = data_offset.checked_add(data_count)?.min(smb.len());
    smb.get(data_offset..end)
}

/// A host, local master or domain announcement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Announcement<'a> {
    /// One of the announcement opcodes.
    pub opcode: u8,
    /// The host name (the workgroup in a domain announcement).
    pub name: &'a str,
    /// Operating system major version.
    pub os_major: u8,
    /// Operating system minor version.
    pub os_minor: u8,
    /// Server type flags (SV_TYPE_*).
    pub server_type: u32,
    /// The comment (the master browser's name in a domain announcement).
    pub comment: Option<&'a str>,
}

/// Reads a browser announcement; `None` for other browser messages.
pub(crate) fn announcement(data: &[u8]) -> Option<Announcement<'_>> {
    let opcode = *data.first()?;
    if !matches!(opcode, HOST_ANNOUNCEMENT | DOMAIN_ANNOUNCEMENT | LOCAL_MASTER_ANNOUNCEMENT) || data.len() < ANNOUNCEMENT_LEN {
        return None;
    }
    let name = until_nul(data.get(6..22)?).filter(|n| n.bytes().all(|b| b.is_ascii_graphic() || b == b' '))?;
    let comment = data.get(ANNOUNCEMENT_LEN..).and_then(until_nul).filter(|c| !c.chars().any(char::is_control));
    Some(Announcement { opcode, name, os_major: *data.get(22)?, os_minor: *data.get(23)?, server_type: le32(data, 24)?, comment })
}

/// The text up to the first NUL, if it is UTF-8 and not empty.
fn until_nul(field: &[u8]) -> Option<&str> {
    let text = field.split(|&b| b == 0).next()?;
    std::str::from_utf8(text).ok().map(str::trim).filter(|t| !t.is_empty())
}

/// The Windows release a browser OS version stands for.
pub(crate) fn windows_version(major: u8, minor: u8) -> Option<&'static str> {
    Some(match (major, minor) {
        (4, 0) => "Windows NT 4.0 / 95",
        (4, 10) => "Windows 98",
        (4, 90) => "Windows Me",
        (5, 0) => "Windows 2000",
        (5, 1) => "Windows XP",
        (5, 2) => "Windows XP x64 / Server 2003",
        (6, 0) => "Windows Vista / Server 2008",
        (6, 1) => "Windows 7 / Server 2008 R2",
        (6, 2) => "Windows 8 / Server 2012",
        (6, 3) => "Windows 8.1 / Server 2012 R2",
        (10, 0) => "Windows 10/11 / Server 2016+",
        _ => return None,
    })
}

/// Roles that server type flags announce.
const SERVER_TYPE_ROLES: &[(u32, &str)] = &[
    (0x0000_0008, "domain-controller"),
    (0x0000_0010, "domain-controller"),
    (0x0000_0020, "time-server"),
    (0x0000_0200, "print-server"),
    (0x0000_0400, "dial-in-server"),
    (0x0004_0000, "master-browser"),
    (0x0008_0000, "master-browser"),
];

/// The roles named by `server_type`'s flags.
pub(crate) fn roles(server_type: u32) -> impl Iterator<Item = &'static str> {
    SERVER_TYPE_ROLES.iter().filter(move |(bit, _)| server_type & bit != 0).map(|(_, role)| *role)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::parser::tests::encode;
    use super::*;

    /// A browser announcement with the given fields.
    pub(crate) fn announcement_bytes(opcode: u8, name: &str, os: (u8, u8), server_type: u32, comment: &str) -> Vec<u8> {
        let mut d = vec![opcode, 0, 0xa0, 0xbb, 0x0d, 0];
        let mut n = [0u8; 16];
        n[..name.len()].copy_from_slice(name.as_bytes());
        d.extend(n);
        d.extend([os.0, os.1]);
        d.extend(server_type.to_le_bytes());
        d.extend([15, 1, 0x55, 0xaa]);
        d.extend(comment.as_bytes());
        d.push(0);
        d
    }

    /// A broadcast datagram from `source` to `destination` carrying `data` in a mailslot write.
    pub(crate) fn datagram_bytes(source: (&str, u8), destination: (&str, u8), data: &[u8]) -> Vec<u8> {
        let mut smb = b"\xffSMB\x25".to_vec();
        smb.resize(32, 0);
        smb.push(17);
        let data_offset = 32 + 1 + 34 + 2 + 17;
        for w in [0u16, data.len() as u16, 0, 0, 0, 0, 1000, 0, 0, 0, 0, data.len() as u16, data_offset as u16, 3, 1, 1, 2] {
            smb.extend(w.to_le_bytes());
        }
        smb.extend(((17 + data.len()) as u16).to_le_bytes());
        smb.extend(b"\\MAILSLOT\\BROWSE\0");
        assert_eq!(smb.len(), data_offset);
        smb.extend(data);
        let mut names = encode(source.0, source.1);
        names.extend(encode(destination.0, destination.1));
        let mut p = vec![0x11, 0x02, 0xc2, 0xf4, 10, 0, 5, 9, 0, 138];
        p.extend(((names.len() + smb.len()) as u16).to_be_bytes());
        p.extend([0, 0]);
        p.extend(names);
        p.extend(smb);
        p
    }

    #[test]
    fn reads_a_host_announcement() {
        let data = announcement_bytes(HOST_ANNOUNCEMENT, "NVR9", (6, 1), 0x0005_1007, "cam room");
        let p = datagram_bytes(("NVR9", 0x20), ("VIGILANT_GROUP", 0x1d), &data);
        assert!(looks_like_datagram(&p));
        let d = data_datagram(&p).unwrap();
        assert_eq!(d.source_ip, Ipv4Addr::new(10, 0, 5, 9));
        assert_eq!((d.source.text(), d.destination.text(), d.destination.suffix), (Some("NVR9"), Some("VIGILANT_GROUP"), 0x1d));
        let a = announcement(browse_mailslot(d.user_data).unwrap()).unwrap();
        assert_eq!((a.opcode, a.name, a.os_major, a.os_minor, a.comment), (HOST_ANNOUNCEMENT, "NVR9", 6, 1, Some("cam room")));
        assert_eq!(roles(a.server_type).collect::<Vec<_>>(), vec!["master-browser"]);
        assert_eq!(windows_version(a.os_major, a.os_minor), Some("Windows 7 / Server 2008 R2"));
        assert!(!looks_like_datagram(&p[..p.len() - 1]));
    }

    #[test]
    fn other_types() {
        assert!(looks_like_datagram(&[0x13, 0x02, 0, 1, 10, 0, 0, 1, 0, 138, 0x82]));
        assert!(!looks_like_datagram(&[0x13, 0x02, 0, 1, 10, 0, 0, 1, 0, 138, 0x80]));
        let mut q = vec![0x14, 0x02, 0, 1, 10, 0, 0, 1, 0, 138];
        q.extend(encode("HOST", 0));
        assert!(looks_like_datagram(&q));
        q.push(0);
        assert!(!looks_like_datagram(&q));
        assert!(!looks_like_datagram(&[0u8; 100]));
    }

    #[test]
    fn non_browser_mailslots_are_ignored() {
        let p = datagram_bytes(("A", 0x20), ("B", 0x1d), &[1, 2, 3]);
        let d = data_datagram(&p).unwrap();
        let mut smb = d.user_data.to_vec();
        let at = smb.windows(6).position(|w| w == b"BROWSE").unwrap();
        smb[at..at + 6].copy_from_slice(b"LANMAN");
        assert_eq!(browse_mailslot(&smb), None);
        assert_eq!(announcement(&[HOST_ANNOUNCEMENT; 10]), None);
        assert_eq!(announcement(&announcement_bytes(0x08, "X", (6, 1), 0, "")), None);
    }
}
