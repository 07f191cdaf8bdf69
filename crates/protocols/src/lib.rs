//! Protocol dissectors.
//!
//! Each protocol lives in its own folder (`src/<name>/`): `mod.rs` holds the
//! [`Dissector`] implementation and its [`Registration`] (ports, ethertypes
//! and a payload probe), `parser.rs` the pure, zero-copy parsing, with unit
//! tests beside them. Adding a protocol is one folder plus one line in the
//! `registry!` list below (`module: Type`, or several types of one module).

mod ber;
mod context;
mod cotp;
pub mod fuzzing;
#[cfg(test)]
pub(crate) mod testing;
mod text;
#[macro_use]
mod registry;

pub use context::{Ctx, EventSink};
pub use registry::{Carrier, Dissector, Registration};

registry! {
    dhcp: Dhcp,
    dns: Dns,
    mdns: Mdns,
    llmnr: Llmnr,
    nbns: Nbns,
    modbus: Modbus,
    s7comm: S7comm,
    s7comm_plus: S7commPlus,
    dnp3: Dnp3,
    iec104: Iec104,
    bacnet: Bacnet,
    enip: Enip CipIo,
    opcua: Opcua,
    mms: Mms,
    goose: Goose,
    profinet: ProfinetDcp ProfinetRpc,
    ethercat: Ethercat,
    fins: Fins,
    http: Http,
    ssdp: Ssdp,
    tls: Tls,
    ssh: Ssh,
    smb: Smb,
    telnet: Telnet,
    ftp: Ftp,
    rdp: Rdp,
    vnc: Vnc,
    lldp: Lldp,
    cdp: Cdp,
    snmp: Snmp,
    hart_ip: HartIp,
    ntp: Ntp,
    mqtt: Mqtt,
    coap: Coap,
    dhcpv6: Dhcpv6,
}

pub mod arp;
