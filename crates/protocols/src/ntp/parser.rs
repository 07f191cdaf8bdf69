//! NTP packet layouts, pure and zero-copy: the time packet of modes 1 to 5
//! (RFC 5905), the control messages of mode 6 (RFC 9327) and ntpd's private
//! mode 7 requests.

use palisade_decode::{be16, be32};
use std::fmt;

/// Mode 1: symmetric active (a peer).
pub(crate) const MODE_SYMMETRIC_ACTIVE: u8 = 1;
/// Mode 2: symmetric passive (a peer).
pub(crate) const MODE_SYMMETRIC_PASSIVE: u8 = 2;
/// Mode 3: a client asking for the time.
pub(crate) const MODE_CLIENT: u8 = 3;
/// Mode 4: a server's answer.
pub(crate) const MODE_SERVER: u8 = 4;
/// Mode 5: a broadcast (or multicast) server.
pub(crate) const MODE_BROADCAST: u8 = 5;
/// Mode 6: control messages (ntpq).
pub(crate) const MODE_CONTROL: u8 = 6;
/// Mode 7: ntpd's private messages (ntpdc, monlist).
pub(crate) const MODE_PRIVATE: u8 = 7;

/// Length of the time packet without extensions or MAC.
const TIME_LEN: usize = 48;
/// Length of a mode 6 header.
const CONTROL_LEN: usize = 12;
/// Length of a mode 7 header.
const PRIVATE_LEN: usize = 8;
/// Longest time packet accepted by the probe (extension fields and a MAC included).
const MAX_TIME_LEN: usize = 1024;
/// Largest poll exponent (RFC 5905 MAXPOLL).
const MAX_POLL: u8 = 17;
/// Largest stratum (16 means unsynchronised).
const MAX_STRATUM: u8 = 16;

/// A time packet (modes 1 to 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Time {
    /// Protocol version (1 to 4).
    pub version: u8,
    /// Association mode (1 to 5).
    pub mode: u8,
    /// Stratum: 0 unspecified (or a kiss-o'-death), 1 primary, 2-15 secondary, 16 unsynchronised.
    pub stratum: u8,
    /// Reference id: a clock name at stratum 1, a kiss code at stratum 0, an upstream id above.
    pub reference: [u8; 4],
}

/// A mode 6 control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Control {
    /// A response (R bit).
    pub response: bool,
    /// An error response (E bit).
    pub error: bool,
    /// The operation code (5 bits).
    pub opcode: u8,
    /// Status word: for an error response, the error code in its high byte.
    pub status: u16,
}

/// A mode 7 private message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Private {
    /// A response (R bit).
    pub response: bool,
    /// Request code (monlist is 42).
    pub request: u8,
    /// Error code of a response (0 for none).
    pub error: u8,
}

/// One NTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Packet {
    /// Modes 1 to 5.
    Time(Time),
    /// Mode 6.
    Control(Control),
    /// Mode 7.
    Private(Private),
}

/// What is wrong with an NTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Shorter than the header its mode needs.
    Truncated { mode: u8, len: usize },
    /// A version outside 1 to 4.
    Version(u8),
    /// Mode 0 is reserved.
    ReservedMode,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated { mode, len } => write!(f, "NTP mode {mode} packet of {len} bytes is shorter than its header"),
            Problem::Version(v) => write!(f, "NTP version {v} is not 1 to 4"),
            Problem::ReservedMode => f.write_str("NTP mode 0 is reserved"),
        }
    }
}

/// Reads a packet's header.
pub(crate) fn parse(data: &[u8]) -> Result<Packet, Problem> {
    let (&first, len) = (data.first().ok_or(Problem::Truncated { mode: 0, len: 0 })?, data.len());
    let version = (first >> 3) & 0x07;
    let mode = first & 0x07;
    if !(1..=4).contains(&version) {
        return Err(Problem::Version(version));
    }
    let truncated = Problem::Truncated { mode, len };
    match mode {
        0 => Err(Problem::ReservedMode),
        MODE_CONTROL => {
            let (Some(&flags), Some(status)) = (data.get(1), be16(data, 4)) else { return Err(truncated) };
            if len < CONTROL_LEN {
                return Err(truncated);
            }
            Ok(Packet::Control(Control { response: flags & 0x80 != 0, error: flags & 0x40 != 0, opcode: flags & 0x1f, status }))
        }
        MODE_PRIVATE => {
            let (Some(&request), Some(err_items)) = (data.get(3), be16(data, 4)) else { return Err(truncated) };
            if len < PRIVATE_LEN {
                return Err(truncated);
            }
            // The byte 0 of mode 7 also holds R (0x80) and M (0x40) above the version.
            let error = u8::try_from(err_items >> 12).unwrap_or(0);
            Ok(Packet::Private(Private { response: first & 0x80 != 0, request, error }))
        }
        _ => {
            let (Some(&stratum), Some(reference)) = (data.get(1), be32(data, 12)) else { return Err(truncated) };
            if len < TIME_LEN {
                return Err(truncated);
            }
            Ok(Packet::Time(Time { version, mode, stratum, reference: reference.to_be_bytes() }))
        }
    }
}

/// True if `data` is an NTP packet beyond reasonable doubt: a time packet
/// of 48 bytes plus whole 32-bit words whose stratum, poll, precision and
/// root delay and dispersion are in range (and whose transmit time is set
/// in a server's answer), or a mode 6 or 7 request with sound lengths.
pub(crate) fn looks_like_ntp(data: &[u8]) -> bool {
    match parse(data) {
        Ok(Packet::Time(t)) => {
            let (Some(&poll), Some(&precision), Some(delay), Some(dispersion), Some(sent)) =
                (data.get(2), data.get(3), be16(data, 4), be16(data, 8), data.get(40..48))
            else {
                return false;
            };
            let answer = matches!(t.mode, MODE_SERVER | MODE_BROADCAST);
            data.len() <= MAX_TIME_LEN
                && data.len().is_multiple_of(4)
                && t.stratum <= MAX_STRATUM
                && poll <= MAX_POLL
                && (precision == 0 || precision >= 0xe0)
                && delay < 0x100
                && dispersion < 0x100
                && (!answer || sent.iter().any(|&b| b != 0))
        }
        Ok(Packet::Control(c)) => {
            let (Some(offset), Some(count)) = (be16(data, 8), be16(data, 10)) else { return false };
            !c.response
                && !c.error
                && data.get(1).is_some_and(|&flags| flags & 0x20 == 0)
                && (1..=12).contains(&c.opcode)
                && offset == 0
                && CONTROL_LEN + usize::from(count) <= data.len()
        }
        Ok(Packet::Private(p)) => {
            let (Some(&implementation), Some(items), Some(size)) = (data.get(2), be16(data, 4), be16(data, 6)) else { return false };
            // The top four bits of the item size must be zero.
            let fits = PRIVATE_LEN + usize::from(items & 0x0fff) * usize::from(size) <= data.len();
            !p.response && p.error == 0 && matches!(implementation, 0 | 2 | 3) && p.request <= 45 && size & 0xf000 == 0 && fits
        }
        Err(_) => false,
    }
}

/// The name of a mode 6 operation code.
pub(crate) fn control_name(opcode: u8) -> Option<&'static str> {
    Some(match opcode {
        1 => "readstat",
        2 => "readvar",
        3 => "writevar",
        4 => "readclock",
        5 => "writeclock",
        6 => "settrap",
        7 => "asyncmsg",
        8 => "configure",
        9 => "saveconfig",
        10 => "readmru",
        11 => "readordlist",
        12 => "reqnonce",
        31 => "unsettrap",
        _ => return None,
    })
}

/// True for the mode 6 operations that change the server's configuration.
pub(crate) fn control_changes_configuration(opcode: u8) -> bool {
    matches!(opcode, 3 | 5 | 6 | 8 | 9 | 31)
}

/// The name of a mode 7 request code.
pub(crate) fn private_name(request: u8) -> Option<&'static str> {
    Some(match request {
        0 => "peer_list",
        1 => "peer_list_sum",
        2 => "peer_info",
        4 => "sys_info",
        5 => "sys_stats",
        6 => "io_stats",
        7 => "mem_stats",
        8 => "loop_info",
        9 => "timer_stats",
        20 => "mon_getlist",
        42 => "monlist",
        _ => return None,
    })
}

/// The reference clock name of a stratum 1 server ("GPS", "PPS"...): up to
/// four printable ASCII characters, NUL padded.
pub(crate) fn clock_name(reference: &[u8; 4]) -> Option<&str> {
    let end = reference.iter().position(|&b| b == 0).unwrap_or(reference.len());
    let name = reference.get(..end)?;
    (!name.is_empty() && name.iter().all(|b| b.is_ascii_graphic())).then(|| std::str::from_utf8(name).ok()).flatten()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 48-byte time packet with LI 0, the given version, mode and
    /// stratum, poll 6, precision -20 and a transmit time.
    pub(crate) fn time_packet(version: u8, mode: u8, stratum: u8, reference: &[u8; 4]) -> Vec<u8> {
        let mut p = vec![0u8; TIME_LEN];
        p[0] = (version << 3) | mode;
        p[1] = stratum;
        p[2] = 6;
        p[3] = 0xec;
        p[12..16].copy_from_slice(reference);
        p[40..48].copy_from_slice(&[0xe9, 0x1c, 0x2a, 0x10, 0x80, 0, 0, 0]);
        p
    }

    #[test]
    fn time_packets() {
        let p = time_packet(4, MODE_SERVER, 1, b"GPS\0");
        assert_eq!(parse(&p), Ok(Packet::Time(Time { version: 4, mode: 4, stratum: 1, reference: *b"GPS\0" })));
        assert!(looks_like_ntp(&p));
        assert_eq!(clock_name(b"GPS\0"), Some("GPS"));
        assert_eq!(clock_name(b"GOOG"), Some("GOOG"));
        assert_eq!(clock_name(&[10, 0, 0, 1]), None);
        assert_eq!(clock_name(&[0; 4]), None);
        // An SNTP request: everything zero but the first byte.
        let mut sntp = vec![0u8; TIME_LEN];
        sntp[0] = 0x1b;
        assert!(looks_like_ntp(&sntp));
        // With a 20-byte MAC (key id and MD5 digest).
        let mut mac = time_packet(4, MODE_CLIENT, 0, &[0; 4]);
        mac.extend_from_slice(&[0; 20]);
        assert!(looks_like_ntp(&mac));
    }

    #[test]
    fn probe_rejects_what_is_not_ntp() {
        let good = time_packet(4, MODE_SERVER, 2, &[192, 168, 1, 1]);
        for (at, value) in [(0, 0x04), (0, 0x2c), (1, 17), (2, 18), (3, 0x10), (4, 1), (8, 2)] {
            let mut p = good.clone();
            p[at] = value;
            assert!(!looks_like_ntp(&p), "byte {at} = {value}");
        }
        let mut unsent = good.clone();
        unsent[40..48].fill(0);
        assert!(!looks_like_ntp(&unsent));
        assert!(!looks_like_ntp(&good[..47]));
        let mut odd = good.clone();
        odd.push(0);
        assert!(!looks_like_ntp(&odd));
        assert!(!looks_like_ntp(&[0u8; 48]));
        assert!(!looks_like_ntp(&[0xffu8; 48]));
        assert!(!looks_like_ntp(b""));
    }

    #[test]
    fn control_and_private_requests() {
        let readvar = [0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&readvar), Ok(Packet::Control(Control { response: false, error: false, opcode: 2, status: 0 })));
        assert!(looks_like_ntp(&readvar));
        let error = [0x16, 0xc2, 0, 1, 0x04, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&error), Ok(Packet::Control(Control { response: true, error: true, opcode: 2, status: 0x0400 })));
        assert!(!looks_like_ntp(&error));
        let mut long_count = readvar;
        long_count[11] = 1;
        assert!(!looks_like_ntp(&long_count));
        let mut monlist = vec![0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
        monlist.extend_from_slice(&[0; 40]);
        assert_eq!(parse(&monlist), Ok(Packet::Private(Private { response: false, request: 42, error: 0 })));
        assert!(looks_like_ntp(&monlist));
        let answer = [0x97, 0x00, 0x03, 0x2a, 0x50, 0, 0, 0];
        assert_eq!(parse(&answer), Ok(Packet::Private(Private { response: true, request: 42, error: 5 })));
        assert!(!looks_like_ntp(&answer));
        assert_eq!(private_name(42), Some("monlist"));
        assert_eq!(control_name(2), Some("readvar"));
        assert!(control_changes_configuration(8));
    }

    #[test]
    fn problems() {
        assert_eq!(parse(&[]), Err(Problem::Truncated { mode: 0, len: 0 }));
        assert_eq!(parse(&[0x23; 20]), Err(Problem::Truncated { mode: 3, len: 20 }));
        assert_eq!(parse(&[0x16; 11]), Err(Problem::Truncated { mode: 6, len: 11 }));
        assert_eq!(parse(&[0x17, 0, 3]), Err(Problem::Truncated { mode: 7, len: 3 }));
        assert_eq!(parse(&[0x03; 48]), Err(Problem::Version(0)));
        assert_eq!(parse(&[0x38; 48]), Err(Problem::Version(7)));
        assert_eq!(parse(&[0x20; 48]), Err(Problem::ReservedMode));
        assert!(Problem::Version(0).to_string().contains("version 0"));
    }
}
