//! SSDP dissector over the shared real capture (values from `tshark -Y ssdp`).

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{ip, ip_facts, shared_events};

#[test]
fn suricata_ssdp_notify_names_the_router() {
    let Some(ev) = shared_events("ssdp/suricata_ssdp_notify.pcap") else { return };
    let f = ip_facts(&ev, Protocol::Ssdp);
    let router = ip("192.168.1.1");
    assert!(
        f.contains(&(router, IdentityField::Server, "UPnP/Tomato 1.28.7500 MIPSR2Toastman-RT K26 USB Ext UPnP/1.0 MiniUPnPd/1.6")),
        "{f:?}"
    );
    assert!(f.contains(&(router, IdentityField::Service, "upnp description http://192.168.1.1:7406/rootDesc.xml")), "{f:?}");
}
