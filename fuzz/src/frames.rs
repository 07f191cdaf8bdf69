//! Turns arbitrary bytes into a sequence of captured frames that mostly have
//! valid headers (Ethernet, VLAN, LLC/SNAP, ARP, IPv4 with fragments, IPv6,
//! TCP, UDP, Linux cooked, loopback) between a few hosts on well-known
//! industrial and IT ports, with the remaining bytes as payload. Shared by
//! the `sensor_packets` fuzz target and the sensor's garbage test (which
//! includes this file by path), so both reach flows, reassembly and the
//! dissectors instead of stopping at the first header check.

use palisade_capture::LinkType;
use palisade_model::Timestamp;

/// Every link type a capture can carry.
pub const LINK_TYPES: [LinkType; 8] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::RawIp,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Null,
    LinkType::Loop,
];

/// Ports the dissectors and probes listen on, so flows get dissected.
const PORTS: [u16; 24] = [
    53, 67, 68, 80, 102, 137, 161, 443, 502, 1883, 1911, 2222, 2404, 4840, 5353, 5355, 9600, 20000, 34962, 34964, 44818, 47808, 4000, 5683,
];

/// Ethertypes of layer-2 industrial protocols.
const ETHERTYPES: [u16; 6] = [0x88cc, 0x8892, 0x88b8, 0x88ba, 0x88a4, 0x22f0];

/// One synthesised frame.
#[derive(Clone, Debug)]
pub struct SynthFrame {
    /// Capture time (never decreasing by much, sometimes jumping minutes).
    pub ts: Timestamp,
    /// Link type of the frame.
    pub link_type: LinkType,
    /// The frame's bytes.
    pub data: Vec<u8>,
}

/// Reads frames out of fuzz input; see the module comment.
pub struct Frames<'a> {
    data: &'a [u8],
    ts: i64,
}

impl<'a> Frames<'a> {
    /// Starts at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Frames { data, ts: 1_700_000_000_000_000_000 }
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// A port: mostly a well-known one, sometimes any.
    fn port(&mut self) -> Option<u16> {
        let b = self.byte()?;
        if b < 200 {
            Some(PORTS[usize::from(b) % PORTS.len()])
        } else {
            self.u16()
        }
    }

    /// A payload whose length comes from the input.
    fn payload(&mut self) -> Option<&'a [u8]> {
        let len = usize::from(self.byte()?);
        let len = if len == 255 { usize::from(self.u16()?) } else { len };
        Some(self.take(len))
    }
}

fn mac(host: u8) -> [u8; 6] {
    [0x00, 0x1b, 0x1b, 0x00, 0x00, host]
}

fn ipv4_addr(host: u8) -> [u8; 4] {
    [192, 168, 0, host]
}

fn ethernet(src: u8, dst: u8, vlan: Option<u16>, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = if dst == 0xff { vec![0xff; 6] } else { mac(dst).to_vec() };
    f.extend_from_slice(&mac(src));
    if let Some(tci) = vlan {
        f.extend_from_slice(&0x8100u16.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4(src: u8, dst: u8, protocol: u8, id: u16, frag: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, protocol, 0, 0]);
    p.extend_from_slice(&ipv4_addr(src));
    p.extend_from_slice(&ipv4_addr(dst));
    p.extend_from_slice(payload);
    p
}

fn ipv6(src: u8, dst: u8, next: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    for host in [src, dst] {
        p.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]);
    }
    p.extend_from_slice(payload);
    p
}

fn tcp(src_port: u16, dst_port: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&src_port.to_be_bytes());
    t.extend_from_slice(&dst_port.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&src_port.to_be_bytes());
    u.extend_from_slice(&dst_port.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

impl Frames<'_> {
    /// The next frame, or `None` when the input is used up.
    fn next_frame(&mut self) -> Option<SynthFrame> {
        let control = self.byte()?;
        let step = self.byte()?;
        // Mostly sub-second steps; a high byte jumps minutes (flow timeouts).
        self.ts += if step >= 0xf0 { i64::from(step - 0xef) * 60_000_000_000 } else { i64::from(step) * 1_000_000 };
        let ts = Timestamp(self.ts);
        // Hosts 1..=4: few enough that flows meet again.
        let (a, b) = (1 + ((control >> 3) & 3), 1 + ((control >> 5) & 3));
        let (frame, link_type) = match control & 7 {
            0 => {
                let link = LINK_TYPES[usize::from(control >> 3) % LINK_TYPES.len()];
                (self.payload()?.to_vec(), link)
            }
            1 => {
                let (sp, dp) = (self.port()?, self.port()?);
                let (seq, flags) = (self.u16()?, self.byte()?);
                let tcp = tcp(sp, dp, 1000 + u32::from(seq), 5000, flags, self.payload()?);
                (ethernet(a, b, None, 0x0800, &ipv4(a, b, 6, 0, 0x4000, &tcp)), LinkType::Ethernet)
            }
            2 => {
                let (sp, dp) = (self.port()?, self.port()?);
                let udp = udp(sp, dp, self.payload()?);
                let dst = if control & 0x80 != 0 { 0xff } else { b };
                (ethernet(a, dst, None, 0x0800, &ipv4(a, b, 17, 0, 0, &udp)), LinkType::Ethernet)
            }
            3 => {
                let (sp, dp, kind) = (self.port()?, self.port()?, self.byte()?);
                let payload = self.payload()?;
                let (next, body) = match kind % 3 {
                    0 => (6, tcp(sp, dp, 1000 + u32::from(kind), 5000, kind, payload)),
                    1 => (17, udp(sp, dp, payload)),
                    _ => (58, payload.to_vec()),
                };
                (ethernet(a, b, None, 0x86dd, &ipv6(a, b, next, &body)), LinkType::Ethernet)
            }
            4 => {
                let op = u16::from(self.byte()? & 3);
                let mut arp = vec![0, 1, 8, 0, 6, 4];
                arp.extend_from_slice(&op.to_be_bytes());
                arp.extend_from_slice(&mac(a));
                arp.extend_from_slice(&ipv4_addr(a));
                arp.extend_from_slice(&mac(b));
                arp.extend_from_slice(&ipv4_addr(b));
                arp.extend_from_slice(self.payload()?);
                (ethernet(a, 0xff, None, 0x0806, &arp), LinkType::Ethernet)
            }
            5 => {
                // IPv4 fragments of a few datagrams, offsets from the input.
                let (id, frag, protocol) = (u16::from(self.byte()? & 3), self.u16()?, if control & 0x80 != 0 { 17 } else { 6 });
                let payload = self.payload()?;
                let link = if control & 0x40 != 0 { LinkType::RawIp } else { LinkType::Ethernet };
                let packet = ipv4(a, b, protocol, id, frag & 0x20ff, payload);
                if link == LinkType::RawIp {
                    (packet, link)
                } else {
                    (ethernet(a, b, None, 0x0800, &packet), link)
                }
            }
            6 => {
                let ethertype = ETHERTYPES[usize::from(self.byte()?) % ETHERTYPES.len()];
                let vlan = (control & 0x80 != 0).then_some(u16::from(a));
                (ethernet(a, 0xff, vlan, ethertype, self.payload()?), LinkType::Ethernet)
            }
            _ => {
                // Linux cooked, loopback or 802.3 LLC/SNAP around a UDP datagram or a tail.
                let (sp, dp, kind) = (self.port()?, self.port()?, self.byte()?);
                let payload = self.payload()?;
                let packet = ipv4(a, b, 17, 0, 0, &udp(sp, dp, payload));
                match kind % 3 {
                    0 => {
                        let mut f = vec![0, 0, 0, 1, 0, 6];
                        f.extend_from_slice(&mac(a));
                        f.extend_from_slice(&[0, 0, 8, 0]);
                        f.extend_from_slice(&packet);
                        (f, LinkType::LinuxSll)
                    }
                    1 => {
                        let mut f = 2u32.to_le_bytes().to_vec();
                        f.extend_from_slice(&packet);
                        (f, LinkType::Null)
                    }
                    _ => {
                        let mut llc = vec![0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];
                        llc.extend_from_slice(payload);
                        let len = u16::try_from(llc.len()).unwrap_or(1500).min(1500);
                        (ethernet(a, 0xff, None, len, &llc), LinkType::Ethernet)
                    }
                }
            }
        };
        Some(SynthFrame { ts, link_type, data: frame })
    }
}

impl Iterator for Frames<'_> {
    type Item = SynthFrame;

    fn next(&mut self) -> Option<SynthFrame> {
        self.next_frame()
    }
}
