//! FTP control lines (RFC 959): commands and replies, pure functions.

use crate::http::parser::contains_ignore_case;

/// A command the dissector follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    /// USER: the user name.
    User,
    /// PASS: the password (never kept).
    Pass,
    /// RETR: a download.
    Retr,
    /// STOR, STOU, APPE: an upload.
    Store,
    /// DELE: a deletion.
    Dele,
    /// RNFR: the name a rename starts from.
    Rnfr,
    /// RNTO: the new name of a rename.
    Rnto,
    /// MKD: a new directory.
    Mkd,
    /// RMD: a directory removed.
    Rmd,
    /// SYST: the server's system type.
    Syst,
    /// AUTH: a switch to TLS.
    Auth,
    /// Any other command (it still gets a reply).
    Other,
}

/// A command line: its verb and argument (without the line end).
pub(crate) fn command(line: &[u8]) -> Option<(Verb, &[u8])> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let (word, arg) = line.split_at(end);
    if !(3..=4).contains(&word.len()) || !word.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    const VERBS: [(&[u8], Verb); 13] = [
        (b"USER", Verb::User),
        (b"PASS", Verb::Pass),
        (b"RETR", Verb::Retr),
        (b"STOR", Verb::Store),
        (b"STOU", Verb::Store),
        (b"APPE", Verb::Store),
        (b"DELE", Verb::Dele),
        (b"RNFR", Verb::Rnfr),
        (b"RNTO", Verb::Rnto),
        (b"MKD", Verb::Mkd),
        (b"RMD", Verb::Rmd),
        (b"SYST", Verb::Syst),
        (b"AUTH", Verb::Auth),
    ];
    let verb = VERBS.iter().find(|(name, _)| word.eq_ignore_ascii_case(name)).map_or(Verb::Other, |&(_, v)| v);
    Some((verb, arg.strip_prefix(b" ").unwrap_or(arg)))
}

/// A reply line: its code, whether more lines follow (`ddd-`), and text.
pub(crate) fn reply(line: &[u8]) -> Option<(u16, bool, &[u8])> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || !(b'1'..=b'5').contains(digits.first()?) {
        return None;
    }
    let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let text = line.get(4..).unwrap_or_default();
    match line.get(3) {
        None | Some(b' ') => Some((code, false, text)),
        Some(b'-') => Some((code, true, text)),
        Some(_) => None,
    }
}

/// Recognises an FTP server greeting: a 220 line of printable text that
/// names FTP (and is not an SMTP greeting).
pub(crate) fn probe(payload: &[u8], is_tcp: bool) -> bool {
    let Some(end) = payload.iter().position(|&b| b == b'\n') else { return false };
    let line = payload.get(..end).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    is_tcp
        && matches!(reply(line), Some((220, _, _)))
        && line.iter().all(|b| (0x20..0x7f).contains(b))
        && contains_ignore_case(line, b"ftp")
        && !contains_ignore_case(line, b"smtp")
}

/// The operating system a SYST reply names, if any.
pub(crate) fn system_os(text: &str) -> Option<&'static str> {
    const SYSTEMS: [(&str, &str); 5] = [("UNIX", "Unix"), ("MACOS", "macOS"), ("MVS", "z/OS"), ("OS/400", "IBM i"), ("VMS", "OpenVMS")];
    if contains_ignore_case(text.as_bytes(), b"emulated") {
        return None;
    }
    crate::ssh::os_hint(text).or_else(|| SYSTEMS.iter().find(|(word, _)| text.starts_with(word)).map(|&(_, os)| os))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_replies() {
        assert_eq!(command(b"USER anonymous\r"), Some((Verb::User, &b"anonymous"[..])));
        assert_eq!(command(b"retr dir/robots.txt"), Some((Verb::Retr, &b"dir/robots.txt"[..])));
        assert_eq!(command(b"PASV\r"), Some((Verb::Other, &b""[..])));
        assert_eq!(command(b"\x16\x03\x01"), None);
        assert_eq!(reply(b"220 ready\r"), Some((220, false, &b"ready"[..])));
        assert_eq!(reply(b"230-Welcome"), Some((230, true, &b"Welcome"[..])));
        assert_eq!(reply(b"226"), Some((226, false, &b""[..])));
        assert_eq!(reply(b"    The NetBSD Project"), None);
        assert_eq!(reply(b"600 x"), None);
    }

    #[test]
    fn probe_and_system() {
        assert!(probe(b"220 ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready.\r\n", true));
        assert!(probe(b"220 (vsFTPd 3.0.3)\r\n", true));
        assert!(!probe(b"220 mail.example.com ESMTP Postfix (ftp relay)\r\n", true));
        assert!(!probe(b"220 Welcome\r\n", true));
        assert!(!probe(b"220 (vsFTPd 3.0.3)", true));
        assert!(!probe(b"220 (vsFTPd 3.0.3)\r\n", false));
        assert_eq!(system_os("UNIX Type: L8 Version: NetBSD-ftpd 20100320"), Some("NetBSD"));
        assert_eq!(system_os("UNIX Type: L8"), Some("Unix"));
        assert_eq!(system_os("Windows_NT"), Some("Windows"));
        assert_eq!(system_os("UNIX emulated by FileZilla"), None);
    }
}
