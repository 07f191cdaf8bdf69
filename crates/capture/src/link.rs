//! Link types.

/// The link-layer framing of captured packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II / 802.3 (LINKTYPE_ETHERNET = 1).
    Ethernet,
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL = 113).
    LinuxSll,
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2 = 276).
    LinuxSll2,
    /// Raw IP, version from the first nibble (LINKTYPE_RAW = 101, DLT_RAW = 12/14).
    RawIp,
    /// Raw IPv4 (LINKTYPE_IPV4 = 228).
    Ipv4,
    /// Raw IPv6 (LINKTYPE_IPV6 = 229).
    Ipv6,
    /// BSD loopback with a 4-byte host-order family (LINKTYPE_NULL = 0).
    Null,
    /// OpenBSD loopback with a 4-byte network-order family (LINKTYPE_LOOP = 108).
    Loop,
}

impl LinkType {
    /// Maps a pcap/pcapng link type number, or `None` if unsupported.
    pub fn from_number(n: u32) -> Option<Self> {
        Some(match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// The LINKTYPE number written in pcap files.
    pub fn number(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
        }
    }
}
