//! PROFINET real-time frames (ethertype 0x8892) and the DCP messages they
//! carry: pure, zero-copy parsing.

use std::net::Ipv4Addr;

/// Frame id of a DCP Hello request.
pub const FRAME_HELLO: u16 = 0xfefc;
/// Frame id of DCP Get and Set requests and responses.
pub const FRAME_GET_SET: u16 = 0xfefd;
/// Frame id of a DCP Identify request.
pub const FRAME_IDENTIFY_REQUEST: u16 = 0xfefe;
/// Frame id of a DCP Identify response.
pub const FRAME_IDENTIFY_RESPONSE: u16 = 0xfeff;

/// DCP service ids.
pub mod service {
    /// Get: reads options of one device.
    pub const GET: u8 = 3;
    /// Set: writes options (IP, name of station, control).
    pub const SET: u8 = 4;
    /// Identify: finds devices (all, or by name, alias, id...).
    pub const IDENTIFY: u8 = 5;
    /// Hello: a device announces itself.
    pub const HELLO: u8 = 6;
}

/// DCP service types.
pub mod service_type {
    /// A request.
    pub const REQUEST: u8 = 0;
    /// A successful response.
    pub const SUCCESS: u8 = 1;
    /// A response refusing an unsupported request.
    pub const NOT_SUPPORTED: u8 = 5;
}

/// DCP options (the first byte of a block).
pub mod option {
    /// IP: MAC address, IP parameter, full IP suite.
    pub const IP: u8 = 1;
    /// Device properties: type of station, name of station, ids, role...
    pub const DEVICE: u8 = 2;
    /// DHCP parameters.
    pub const DHCP: u8 = 3;
    /// Control: transactions, signal, response, factory resets.
    pub const CONTROL: u8 = 5;
}

/// Suboptions of [`option::IP`].
pub mod ip {
    /// IP address, subnet mask and gateway.
    pub const PARAMETER: u8 = 2;
    /// IP parameter plus DNS servers.
    pub const FULL_SUITE: u8 = 3;
}

/// Suboptions of [`option::DEVICE`].
pub mod device {
    /// Manufacturer specific "type of station" text.
    pub const TYPE_OF_STATION: u8 = 1;
    /// The name of station.
    pub const NAME_OF_STATION: u8 = 2;
    /// Vendor id and device id.
    pub const DEVICE_ID: u8 = 3;
    /// Device role bits.
    pub const ROLE: u8 = 4;
}

/// Suboptions of [`option::CONTROL`].
pub mod control {
    /// Start of a set transaction.
    pub const START: u8 = 1;
    /// End of a set transaction.
    pub const END: u8 = 2;
    /// Signal: flash the device's LED.
    pub const SIGNAL: u8 = 3;
    /// Per-block result of a Set.
    pub const RESPONSE: u8 = 4;
    /// Reset factory settings.
    pub const FACTORY_RESET: u8 = 5;
    /// Reset to factory.
    pub const RESET_TO_FACTORY: u8 = 6;
}

/// What a PROFINET real-time frame is, from its frame id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A DCP message.
    Dcp,
    /// Cyclic process data (RT class 1 to 3) or sync/alarm frames: counted only.
    Other,
}

/// Classifies a frame by its id.
pub fn frame_kind(frame_id: u16) -> FrameKind {
    match frame_id {
        FRAME_HELLO | FRAME_GET_SET | FRAME_IDENTIFY_REQUEST | FRAME_IDENTIFY_RESPONSE => FrameKind::Dcp,
        _ => FrameKind::Other,
    }
}

/// Why a DCP message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcpError {
    /// Shorter than the 10-byte DCP header.
    Truncated,
    /// The DCP data length runs past the frame.
    Length,
    /// A block runs past the DCP data.
    Block,
}

/// A DCP message: header fields and its blocks.
#[derive(Clone, Copy, Debug)]
pub struct Dcp<'a> {
    /// Service id ([`service`]).
    pub service: u8,
    /// Service type ([`service_type`]).
    pub service_type: u8,
    /// Transaction id pairing a response with its request.
    pub xid: u32,
    /// The blocks (see [`Dcp::blocks`]).
    pub data: &'a [u8],
}

impl<'a> Dcp<'a> {
    /// The blocks. A Get request lists bare option/suboption pairs instead,
    /// which this does not read. Identify and Get responses, Hello requests
    /// and Set requests start each block's value with a 2-byte BlockInfo or
    /// BlockQualifier; Identify requests do not.
    pub fn blocks(&self) -> Blocks<'a> {
        Blocks { rest: self.data }
    }
}

/// Splits a PROFINET frame into its frame id and the rest.
pub fn frame(data: &[u8]) -> Option<(u16, &[u8])> {
    Some((be16(data, 0)?, data.get(2..)?))
}

/// Reads a DCP message (the bytes after the frame id). Ethernet padding
/// after the DCP data is ignored.
pub fn dcp(data: &[u8]) -> Result<Dcp<'_>, DcpError> {
    let Some(&[service, service_type, x0, x1, x2, x3, _, _, l0, l1]) = data.get(..10) else { return Err(DcpError::Truncated) };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    let body = data.get(10..10 + len).ok_or(DcpError::Length)?;
    Ok(Dcp { service, service_type, xid: u32::from_be_bytes([x0, x1, x2, x3]), data: body })
}

/// One DCP block: option, suboption and its value (with the BlockInfo or
/// BlockQualifier prefix where the message has one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// Option ([`option`]).
    pub option: u8,
    /// Suboption.
    pub suboption: u8,
    /// The block's value.
    pub value: &'a [u8],
}

impl<'a> Block<'a> {
    /// The value after a 2-byte BlockInfo/BlockQualifier and that prefix.
    pub fn split_prefix(&self) -> Option<(u16, &'a [u8])> {
        Some((be16(self.value, 0)?, self.value.get(2..)?))
    }
}

/// Iterator over DCP blocks; yields an error (then stops) when a block runs
/// past the data.
pub struct Blocks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<Block<'a>, DcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            let option = *self.rest.first()?;
            let suboption = *self.rest.get(1)?;
            let len = usize::from(be16(self.rest, 2)?);
            let value = self.rest.get(4..4 + len)?;
            // Blocks are padded to an even length.
            let next = (4 + len + (len & 1)).min(self.rest.len());
            Some((Block { option, suboption, value }, next))
        })();
        match parsed {
            Some((block, next)) => {
                self.rest = self.rest.get(next..).unwrap_or_default();
                Some(Ok(block))
            }
            None => {
                self.rest = &[];
                Some(Err(DcpError::Block))
            }
        }
    }
}

/// IP address, subnet mask and standard gateway of an IP parameter block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpParameter {
    /// The address.
    pub ip: Ipv4Addr,
    /// The subnet mask.
    pub mask: Ipv4Addr,
    /// The standard gateway.
    pub gateway: Ipv4Addr,
}

/// Reads an IP parameter value (after its BlockInfo/BlockQualifier).
pub fn ip_parameter(value: &[u8]) -> Option<IpParameter> {
    let addr = |at: usize| value.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(Ipv4Addr::from);
    Some(IpParameter { ip: addr(0)?, mask: addr(4)?, gateway: addr(8)? })
}

/// What a device says about itself in an Identify or Get response or a
/// Hello request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo<'a> {
    /// Name of station.
    pub name: Option<&'a [u8]>,
    /// Manufacturer's "type of station" text.
    pub type_of_station: Option<&'a [u8]>,
    /// Vendor id and device id.
    pub ids: Option<(u16, u16)>,
    /// Role bits (0x01 IO device, 0x02 IO controller, 0x04 multidevice, 0x08 supervisor).
    pub role: Option<u8>,
    /// IP parameter.
    pub ip: Option<IpParameter>,
}

/// Collects the device properties of a message whose blocks carry a
/// BlockInfo; returns the first malformed block's error too.
pub fn device_info<'a>(msg: &Dcp<'a>) -> (DeviceInfo<'a>, Option<DcpError>) {
    let mut info = DeviceInfo::default();
    for block in msg.blocks() {
        let block = match block {
            Ok(b) => b,
            Err(e) => return (info, Some(e)),
        };
        let Some((_, value)) = block.split_prefix() else { continue };
        match (block.option, block.suboption) {
            (option::IP, ip::PARAMETER | ip::FULL_SUITE) => info.ip = ip_parameter(value),
            (option::DEVICE, device::TYPE_OF_STATION) => info.type_of_station = Some(value),
            (option::DEVICE, device::NAME_OF_STATION) => info.name = Some(value),
            (option::DEVICE, device::DEVICE_ID) => info.ids = be16(value, 0).zip(be16(value, 2)),
            (option::DEVICE, device::ROLE) => info.role = value.first().copied(),
            _ => {}
        }
    }
    (info, None)
}

/// The Set result carried by a Control/Response block: the option and
/// suboption it answers and the block error (0 = ok).
pub fn set_result(block: &Block<'_>) -> Option<(u8, u8, u8)> {
    if (block.option, block.suboption) != (option::CONTROL, control::RESPONSE) {
        return None;
    }
    match block.value {
        [option, suboption, error, ..] => Some((*option, *suboption, *error)),
        _ => None,
    }
}

/// A readable name for an option/suboption pair.
pub fn option_name(option: u8, suboption: u8) -> &'static str {
    match (option, suboption) {
        (0xff, 0xff) => "all",
        (option::IP, 1) => "mac address",
        (option::IP, ip::PARAMETER) => "ip",
        (option::IP, ip::FULL_SUITE) => "full ip suite",
        (option::DEVICE, device::TYPE_OF_STATION) => "type of station",
        (option::DEVICE, device::NAME_OF_STATION) => "name of station",
        (option::DEVICE, device::DEVICE_ID) => "device id",
        (option::DEVICE, device::ROLE) => "device role",
        (option::DEVICE, 5) => "device options",
        (option::DEVICE, 6) => "alias name",
        (option::DEVICE, 7) => "device instance",
        (option::DEVICE, 8) => "oem device id",
        (option::DHCP, _) => "dhcp",
        (option::CONTROL, control::SIGNAL) => "signal",
        (option::CONTROL, control::FACTORY_RESET | control::RESET_TO_FACTORY) => "reset to factory",
        (option::CONTROL, _) => "control",
        (6, _) => "device initiative",
        (0x80..=0xfe, _) => "manufacturer specific option",
        _ => "reserved option",
    }
}

/// Big-endian u16 at `at`.
pub fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// Big-endian u32 at `at`.
pub fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Identify response of the X208 switch (frame 2 of the Set IP capture), after the frame id.
    const X208_IDENTIFY: &[u8] = &[
        0x05, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x36, // header, 54 bytes of blocks
        0x02, 0x01, 0x00, 0x05, 0x00, 0x00, b'I', b'N', b'C', 0x00, // type of station + pad
        0x02, 0x02, 0x00, 0x0b, 0x00, 0x00, b'X', b'2', b'0', b'8', b'-', b'B', b'O', b'R', b'D', 0x00, // name + pad
        0x02, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x2a, 0x0a, 0x01, // device id
        0x01, 0x02, 0x00, 0x0e, 0x00, 0x01, 192, 168, 0, 6, 255, 255, 255, 0, 192, 168, 0, 1, // IP
    ];

    #[test]
    fn classifies_frames() {
        assert_eq!(frame_kind(0xfefe), FrameKind::Dcp);
        assert_eq!(frame_kind(0x8000), FrameKind::Other);
        assert_eq!(frame_kind(0xfc01), FrameKind::Other);
        assert_eq!(frame(&[0xfe]), None);
    }

    #[test]
    fn reads_identify_response() {
        let mut frame = X208_IDENTIFY.to_vec();
        frame.extend_from_slice(&[0; 6]); // Ethernet padding
        let msg = dcp(&frame).unwrap();
        assert_eq!((msg.service, msg.service_type, msg.xid), (service::IDENTIFY, service_type::SUCCESS, 0x0100_0001));
        let (info, err) = device_info(&msg);
        assert_eq!(err, None);
        assert_eq!(info.name, Some(&b"X208-BORD"[..]));
        assert_eq!(info.type_of_station, Some(&b"INC"[..]));
        assert_eq!(info.ids, Some((0x002a, 0x0a01)));
        let ip = info.ip.unwrap();
        assert_eq!(
            (ip.ip, ip.mask, ip.gateway),
            (Ipv4Addr::new(192, 168, 0, 6), Ipv4Addr::new(255, 255, 255, 0), Ipv4Addr::new(192, 168, 0, 1))
        );
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(dcp(&[5, 0, 0, 0]).err(), Some(DcpError::Truncated));
        assert_eq!(dcp(&[5, 0, 0, 0, 0, 1, 0, 1, 0, 9, 2, 2]).err(), Some(DcpError::Length));
        let msg = dcp(&[4, 1, 0, 0, 0, 1, 0, 0, 0, 6, 5, 4, 0, 9, 1, 2]).unwrap();
        assert_eq!(msg.blocks().collect::<Vec<_>>(), vec![Err(DcpError::Block)]);
    }

    #[test]
    fn reads_set_response() {
        let msg = dcp(&[4, 1, 1, 0, 0, 1, 0, 0, 0, 8, 5, 4, 0, 3, 1, 2, 0, 0]).unwrap();
        let block = msg.blocks().next().unwrap().unwrap();
        assert_eq!(set_result(&block), Some((option::IP, ip::PARAMETER, 0)));
    }
}
