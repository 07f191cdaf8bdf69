//! SSDP dissector over the shared real capture (values from `tshark -Y ssdp`).

use palisade_model::{Event, IdentityField, Protocol};
use std::path::PathBuf;

/// Analyses a shared capture, or `None` when the shared data is absent.
fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

/// (subject ip, field, value) of the facts from `protocol`.
fn facts(ev: &[Event], protocol: Protocol) -> Vec<(String, IdentityField, String)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Identity(f) if f.protocol == protocol => {
                Some((f.subject.ip.map(|i| i.to_string()).unwrap_or_default(), f.field, f.value.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn suricata_ssdp_notify_names_the_router() {
    let Some(ev) = events("ssdp/suricata_ssdp_notify.pcap") else { return };
    let f = facts(&ev, Protocol::Ssdp);
    let router = "192.168.1.1".to_string();
    assert!(
        f.contains(&(
            router.clone(),
            IdentityField::Server,
            "UPnP/Tomato 1.28.7500 MIPSR2Toastman-RT K26 USB Ext UPnP/1.0 MiniUPnPd/1.6".into()
        )),
        "{f:?}"
    );
    assert!(f.contains(&(router, IdentityField::Service, "upnp description http://192.168.1.1:7406/rootDesc.xml".into())), "{f:?}");
}
