//! EtherNet/IP encapsulation: the 24-byte header, the common packet format
//! (CPF) item list, and class-1 I/O datagrams. Pure, zero-copy parsing.

use palisade_decode::{le16, le32};

/// Length of the encapsulation header.
pub(crate) const HEADER_LEN: usize = 24;

/// Encapsulation commands.
pub(crate) mod command {
    /// No operation.
    pub(crate) const NOP: u16 = 0x0000;
    /// ListServices.
    pub(crate) const LIST_SERVICES: u16 = 0x0004;
    /// ListIdentity.
    pub(crate) const LIST_IDENTITY: u16 = 0x0063;
    /// ListInterfaces.
    pub(crate) const LIST_INTERFACES: u16 = 0x0064;
    /// RegisterSession.
    pub(crate) const REGISTER_SESSION: u16 = 0x0065;
    /// UnRegisterSession.
    pub(crate) const UNREGISTER_SESSION: u16 = 0x0066;
    /// SendRRData (unconnected explicit messages).
    pub(crate) const SEND_RR_DATA: u16 = 0x006F;
    /// SendUnitData (connected explicit messages).
    pub(crate) const SEND_UNIT_DATA: u16 = 0x0070;
    /// IndicateStatus.
    pub(crate) const INDICATE_STATUS: u16 = 0x0072;
    /// Cancel.
    pub(crate) const CANCEL: u16 = 0x0073;
}

/// CPF item types.
pub(crate) mod item {
    /// ListIdentity reply: CIP identity.
    pub(crate) const IDENTITY: u16 = 0x000C;
    /// Connected address (connection id).
    pub(crate) const CONNECTED_ADDRESS: u16 = 0x00A1;
    /// Connected data (sequence count + CIP message, or I/O data).
    pub(crate) const CONNECTED_DATA: u16 = 0x00B1;
    /// Unconnected data (a CIP message).
    pub(crate) const UNCONNECTED_DATA: u16 = 0x00B2;
    /// Socket address, originator to target.
    pub(crate) const SOCKADDR_O_T: u16 = 0x8000;
    /// Socket address, target to originator.
    pub(crate) const SOCKADDR_T_O: u16 = 0x8001;
    /// Sequenced address (connection id + sequence number), for I/O.
    pub(crate) const SEQUENCED_ADDRESS: u16 = 0x8002;
}

/// The encapsulation header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Command code.
    pub(crate) command: u16,
    /// Length of the data after the header.
    pub(crate) length: u16,
    /// Status (0 = success).
    pub(crate) status: u32,
    /// Sender context, echoed by the target.
    pub(crate) context: u64,
    /// Options (must be 0).
    pub(crate) options: u32,
}

impl Header {
    /// Total message length, header included.
    pub(crate) fn total(&self) -> usize {
        HEADER_LEN + usize::from(self.length)
    }

    /// True for a command this dissector knows.
    pub(crate) fn known_command(&self) -> bool {
        use command::*;
        matches!(
            self.command,
            NOP | LIST_SERVICES
                | LIST_IDENTITY
                | LIST_INTERFACES
                | REGISTER_SESSION
                | UNREGISTER_SESSION
                | SEND_RR_DATA
                | SEND_UNIT_DATA
                | INDICATE_STATUS
                | CANCEL
        )
    }

    /// True for a status the specification defines.
    pub(crate) fn known_status(&self) -> bool {
        matches!(self.status, 0x0000..=0x0003 | 0x0064 | 0x0065 | 0x0069)
    }

    /// True if this looks like the start of an encapsulation message
    /// (used to find message boundaries and to recognise the protocol).
    pub(crate) fn plausible(&self) -> bool {
        self.known_command() && self.known_status() && self.options == 0
    }

    /// True if this plausibly starts an exchange: a plausible header other
    /// than NOP, IndicateStatus or Cancel (runs of zeros look like a NOP).
    pub(crate) fn starts_exchange(&self) -> bool {
        self.plausible() && !matches!(self.command, command::NOP | command::INDICATE_STATUS | command::CANCEL)
    }
}

/// Reads the encapsulation header at the start of `b`.
pub(crate) fn header(b: &[u8]) -> Option<Header> {
    let context = b.get(12..20)?;
    let mut ctx = [0u8; 8];
    ctx.copy_from_slice(context);
    Some(Header { command: le16(b, 0)?, length: le16(b, 2)?, status: le32(b, 8)?, context: u64::from_le_bytes(ctx), options: le32(b, 20)? })
}

/// One CPF item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item<'a> {
    /// Item type.
    pub(crate) kind: u16,
    /// Item data.
    pub(crate) data: &'a [u8],
}

/// Iterator over the items of a CPF list; check [`Items::malformed`] after.
pub(crate) struct Items<'a> {
    rest: &'a [u8],
    left: u16,
    malformed: bool,
}

impl<'a> Items<'a> {
    /// True if an item ran past the end of the data.
    pub(crate) fn malformed(&self) -> bool {
        self.malformed
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        if self.left == 0 || self.malformed {
            return None;
        }
        let parsed = (|| {
            let kind = le16(self.rest, 0)?;
            let len = usize::from(le16(self.rest, 2)?);
            let data = self.rest.get(4..4 + len)?;
            Some((Item { kind, data }, 4 + len))
        })();
        match parsed {
            Some((item, used)) => {
                self.left -= 1;
                self.rest = self.rest.get(used..).unwrap_or_default();
                Some(item)
            }
            None => {
                self.malformed = true;
                None
            }
        }
    }
}

/// The CPF item list in `b` (item count, then items). `None` if even the
/// count is missing.
pub(crate) fn items(b: &[u8]) -> Option<Items<'_>> {
    Some(Items { left: le16(b, 0)?, rest: b.get(2..)?, malformed: false })
}

/// The CPF list of a SendRRData / SendUnitData body (after the interface
/// handle and timeout).
pub(crate) fn send_data_items(body: &[u8]) -> Option<Items<'_>> {
    items(body.get(6..)?)
}

/// The data of a ListIdentity identity item after its encapsulation version
/// and socket address: the CIP identity attributes.
pub(crate) fn identity_item_attributes(data: &[u8]) -> Option<&[u8]> {
    data.get(18..)
}

/// True if `b` is a class-1 (implicit I/O) datagram: a CPF list of an
/// address item (sequenced or connected address) and a connected data item,
/// optionally followed by socket address items, using every byte.
pub(crate) fn is_io_packet(b: &[u8]) -> bool {
    let Some(mut list) = items(b) else { return false };
    if !(2..=4).contains(&le16(b, 0).unwrap_or(0)) {
        return false;
    }
    let address_ok = match list.next() {
        Some(Item { kind: item::SEQUENCED_ADDRESS, data }) => data.len() == 8,
        Some(Item { kind: item::CONNECTED_ADDRESS, data }) => data.len() == 4,
        _ => false,
    };
    let data_ok = matches!(list.next(), Some(Item { kind: item::CONNECTED_DATA, .. }));
    let tail_ok = list.all(|i| matches!(i.kind, item::SOCKADDR_O_T | item::SOCKADDR_T_O) && i.data.len() == 16);
    address_ok && data_ok && tail_ok && !list.malformed() && list.rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn list_identity_reply_header_and_items() {
        let b = hex("63003300000000000000000000000000c1debed10000000001000c002d0001000002af120a0101a4000000000000000001000c003a00040330008e4d52000b313735362d454e42542f4103");
        let h = header(&b).unwrap();
        assert_eq!(h.command, command::LIST_IDENTITY);
        assert_eq!(h.total(), b.len());
        assert!(h.plausible());
        let mut it = items(&b[HEADER_LEN..]).unwrap();
        let first = it.next().unwrap();
        assert_eq!(first.kind, item::IDENTITY);
        assert_eq!(identity_item_attributes(first.data).unwrap()[..2], [1, 0]);
        assert!(it.next().is_none());
        assert!(!it.malformed());
    }

    #[test]
    fn truncated_items_are_malformed() {
        let b = hex("0100b2000a000102");
        let mut it = items(&b).unwrap();
        assert!(it.next().is_none());
        assert!(it.malformed());
    }

    #[test]
    fn io_packets() {
        assert!(is_io_packet(&hex("0200028008000b408e008f150500b10002000100")));
        assert!(is_io_packet(&hex("02000280080003064b00db943f00b1000600a587e80f0300")));
        assert!(!is_io_packet(&hex("02000280080003064b00db943f00b1000600a587e80f03")));
        assert!(!is_io_packet(&hex("0100028008000b408e008f150500")));
        assert!(!is_io_packet(b"GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn implausible_headers() {
        let mut b = vec![0u8; 24];
        b[0] = 0x99;
        assert!(!header(&b).unwrap().plausible());
        b[0] = 0x65;
        b[20] = 1;
        assert!(!header(&b).unwrap().plausible());
        assert!(header(&b[..23]).is_none());
    }
}
