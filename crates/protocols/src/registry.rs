//! The dissector trait and the registry that chooses a dissector per flow.

use crate::{Ctx, FlowDissector};
use palisade_flow::Direction;
use palisade_model::{Protocol, ProtocolSet};

/// How a flow's payload is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// A TCP byte stream.
    Tcp,
    /// UDP datagrams.
    Udp,
    /// Layer-2 frames of an ethertype.
    Ethertype(u16),
    /// 802.2 LLC frames with a SNAP organisation code and protocol id.
    Snap(u32, u16),
}

/// How a protocol is recognised.
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    /// The protocol's stable name.
    pub protocol: Protocol,
    /// Well-known TCP ports.
    pub tcp_ports: &'static [u16],
    /// Well-known UDP ports.
    pub udp_ports: &'static [u16],
    /// Ethertypes.
    pub ethertypes: &'static [u16],
    /// SNAP (organisation code, protocol id) pairs.
    pub snap: &'static [(u32, u16)],
    /// Recognises the protocol from the first payload of a flow on any port
    /// (`is_tcp` tells the transport). Must be strict: a false match hides
    /// the real protocol.
    pub probe: Option<fn(payload: &[u8], is_tcp: bool) -> bool>,
}

impl Registration {
    /// A registration with nothing set, to fill with struct-update syntax.
    pub const fn new(protocol: Protocol) -> Self {
        Registration { protocol, tcp_ports: &[], udp_ports: &[], ethertypes: &[], snap: &[], probe: None }
    }

    fn carries(&self, carrier: Carrier, ports: (u16, u16)) -> bool {
        let has = |list: &[u16]| list.contains(&ports.0) || list.contains(&ports.1);
        match carrier {
            Carrier::Tcp => has(self.tcp_ports),
            Carrier::Udp => has(self.udp_ports),
            Carrier::Ethertype(t) => self.ethertypes.contains(&t),
            Carrier::Snap(oui, pid) => self.snap.contains(&(oui, pid)),
        }
    }

    fn probes(&self, carrier: Carrier) -> Option<fn(&[u8], bool) -> bool> {
        match carrier {
            Carrier::Tcp if !self.tcp_ports.is_empty() => self.probe,
            Carrier::Udp if !self.udp_ports.is_empty() => self.probe,
            _ => None,
        }
    }
}

/// Which registration handles each port.
struct PortTable {
    tcp: [u8; 65536],
    udp: [u8; 65536],
}

/// A protocol dissector: per-flow state plus the code that reads it.
///
/// Implementations must never panic on any input and should keep their
/// state small (it lives inline in every flow that uses the protocol).
pub trait Dissector: Default + Send + 'static {
    /// How the protocol is recognised.
    const REGISTRATION: Registration;

    /// In-order bytes of one TCP direction (`ctx.dir`); returns how many
    /// were consumed. Unconsumed bytes come back with more on the next call.
    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let _ = ctx;
        data.len()
    }

    /// One datagram: a UDP payload or a layer-2 frame's payload.
    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let _ = (ctx, data);
    }

    /// Bytes were lost in direction `dir` before what comes next.
    fn gap(&mut self, dir: Direction) {
        let _ = dir;
    }

    /// The flow ended (timeout, close or end of input): report requests
    /// still waiting for their responses, with an unknown result.
    fn end(&mut self, ctx: &mut Ctx<'_>) {
        let _ = ctx;
    }

    /// True once the flow needs no more payload (only counting goes on).
    fn finished(&self) -> bool {
        false
    }
}

/// Declares the protocol modules and generates [`FlowDissector`], the
/// per-flow state of whichever dissector a flow uses, with static dispatch.
/// Each entry is a module and the dissector types it registers:
/// `module: TypeA TypeB,`.
macro_rules! registry {
    ($($module:ident : $($ty:ident)+),* $(,)?) => {
        $(pub mod $module;)*

        /// The dissector state of one flow.
        #[derive(Default)]
        pub enum FlowDissector {
            /// No dissector chosen.
            #[default]
            None,
            $($(
                #[doc = concat!("A `", stringify!($module), "::", stringify!($ty), "` flow.")]
                $ty($module::$ty),
            )+)*
        }

        impl FlowDissector {
            /// Every registration, in registry order.
            pub const REGISTRATIONS: &'static [Registration] = &[$($(<$module::$ty as Dissector>::REGISTRATION,)+)*];

            fn create(index: usize) -> FlowDissector {
                let mut i = 0;
                $($(
                    if i == index {
                        return FlowDissector::$ty(Default::default());
                    }
                    i += 1;
                )+)*
                let _ = i;
                FlowDissector::None
            }

            /// The protocol, if a dissector is chosen.
            pub fn protocol(&self) -> Option<palisade_model::Protocol> {
                match self {
                    FlowDissector::None => None,
                    $($(FlowDissector::$ty(_) => Some(<$module::$ty as Dissector>::REGISTRATION.protocol),)+)*
                }
            }

            /// Passes in-order stream bytes on; returns how many were consumed.
            pub fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
                match self {
                    FlowDissector::None => data.len(),
                    $($(FlowDissector::$ty(d) => d.stream(ctx, data),)+)*
                }
            }

            /// Passes a datagram on.
            pub fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
                match self {
                    FlowDissector::None => {}
                    $($(FlowDissector::$ty(d) => d.datagram(ctx, data),)+)*
                }
            }

            /// Reports lost bytes.
            pub fn gap(&mut self, dir: palisade_flow::Direction) {
                match self {
                    FlowDissector::None => {}
                    $($(FlowDissector::$ty(d) => d.gap(dir),)+)*
                }
            }

            /// The flow ended: report what is still pending.
            pub fn end(&mut self, ctx: &mut Ctx<'_>) {
                match self {
                    FlowDissector::None => {}
                    $($(FlowDissector::$ty(d) => d.end(ctx),)+)*
                }
            }

            /// True when no more payload is needed.
            pub fn finished(&self) -> bool {
                match self {
                    FlowDissector::None => true,
                    $($(FlowDissector::$ty(d) => d.finished(),)+)*
                }
            }
        }
    };
}

impl FlowDissector {
    /// The index of the first registration for each TCP and UDP port
    /// (`u8::MAX` for none), built once.
    fn port_table() -> &'static PortTable {
        static TABLE: std::sync::OnceLock<Box<PortTable>> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            let mut table = Box::new(PortTable { tcp: [u8::MAX; 65536], udp: [u8::MAX; 65536] });
            for (i, r) in Self::REGISTRATIONS.iter().enumerate().rev() {
                let i = u8::try_from(i).unwrap_or(u8::MAX);
                for &p in r.tcp_ports {
                    table.tcp[usize::from(p)] = i;
                }
                for &p in r.udp_ports {
                    table.udp[usize::from(p)] = i;
                }
            }
            table
        })
    }

    /// The registration index for `port` on `carrier`, if any.
    fn registered_at(carrier: Carrier, port: u16) -> Option<usize> {
        let index = match carrier {
            Carrier::Tcp => Self::port_table().tcp[usize::from(port)],
            Carrier::Udp => Self::port_table().udp[usize::from(port)],
            _ => return Self::REGISTRATIONS.iter().position(|r| r.carries(carrier, (port, port))),
        };
        (index != u8::MAX).then_some(usize::from(index))
    }

    /// The dissector registered for the carrier and either port (the
    /// server's first), if any, among the `enabled` protocols.
    pub fn by_port(carrier: Carrier, server_port: u16, client_port: u16, enabled: ProtocolSet) -> FlowDissector {
        let on = |i: &usize| Self::REGISTRATIONS.get(*i).is_some_and(|r| enabled.contains(r.protocol));
        let found = Self::registered_at(carrier, server_port).filter(on).or_else(|| Self::registered_at(carrier, client_port).filter(on));
        found.map_or(FlowDissector::None, Self::create)
    }

    /// True if some dissector is registered for `port` on `carrier`.
    pub fn known_port(carrier: Carrier, port: u16) -> bool {
        Self::registered_at(carrier, port).is_some()
    }

    /// The dissector, among the `enabled` protocols, whose probe recognises `payload`, if any.
    pub fn by_payload(carrier: Carrier, payload: &[u8], enabled: ProtocolSet) -> FlowDissector {
        let is_tcp = carrier == Carrier::Tcp;
        Self::REGISTRATIONS
            .iter()
            .position(|r| enabled.contains(r.protocol) && r.probes(carrier).is_some_and(|probe| probe(payload, is_tcp)))
            .map_or(FlowDissector::None, Self::create)
    }

    /// True if this flow's dissector has a probe and it rejects `payload`.
    pub fn rejects(&self, carrier: Carrier, payload: &[u8]) -> bool {
        let Some(protocol) = self.protocol() else { return false };
        Self::REGISTRATIONS
            .iter()
            .find(|r| r.protocol == protocol)
            .and_then(|r| r.probes(carrier))
            .is_some_and(|probe| !probe(payload, carrier == Carrier::Tcp))
    }
}
