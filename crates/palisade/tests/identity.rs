//! Identity truth: what `MANIFEST.tsv` and `truth/*.truth.json` record about
//! the devices in the shared captures must appear on the right device in
//! `palisade devices --json`, as a fact from the right protocol. Rows whose
//! protocol this build does not dissect yet are reported and skipped.

use palisade_sensor::testdata::shared_dir;
use serde_json::Value;

mod common;

/// (capture, device selector: IP or MAC, fact field, expected value, protocol).
const EXPECTED: &[(&str, &str, &str, &str, &str)] = &[
    ("dhcp/tcpdump_dhcp_mud_raspberrypi.pcap", "b8:27:eb:", "hostname", "raspberrypi", "dhcp"),
    ("dhcp/tcpdump_dhcp_mud_raspberrypi.pcap", "b8:27:eb:", "vendor_class", "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709", "dhcp"),
    ("ethercat/ethercrab_twincat_scan_devices.pcapng", "169.254.78.37", "hostname", "Compube", "dhcp"),
    ("mdns/zeek_mdns.pcap", "10.0.2.7", "hostname", "johanna-QEMU-Virtual-Machine", "mdns"),
    ("modbus/icsnpp_modbus_example.pcap", "127.0.0.1", "vendor", "Zeek Modbus Test", "modbus"),
    ("modbus/icsnpp_modbus_example.pcap", "127.0.0.1", "firmware", "1.2.3.6", "modbus"),
    ("modbus/ndpi_umas_modicon.pcap", "", "model", "140 CPU 311 10", "modbus"),
    ("s7comm/icsnpp_s7comm_snap7_s300.pcap", "", "order_number", "6ES7 315-2EH14-0AB0", "s7comm"),
    ("s7comm/icsnpp_s7comm_snap7_s300.pcap", "", "serial", "S C-B1U393142011", "s7comm"),
    ("s7comm/icsnpp_s7comm_snap7_s300.pcap", "134.217.61.211", "device_name", "S7300/ET200M station_1", "s7comm"),
    ("s7comm/icsnpp_s7comm_snap7_s300.pcap", "134.217.61.211", "product_name", "CPU 315-2 PN/DP", "s7comm"),
    ("s7comm-plus/iti_s7_1200_hmi.pcap", "", "order_number", "6ES7 211-1BE31-0XB0", "s7comm-plus"),
    ("enip/iti_enip_listidentity_1756_enbt.pcap", "", "product_name", "1756-ENBT/A", "enip"),
    ("enip/iti_enip_listidentity_1756_enbt.pcap", "", "serial", "0x00524d8e", "enip"),
    ("enip/iti_enip_listidentity_1756_enbt.pcap", "", "firmware", "4.03", "enip"),
    ("enip/iti_openics_cip_program_upload.pcap", "", "product_name", "1756-L61/B LOGIX5561", "enip"),
    ("enip/iti_openics_cip_program_upload.pcap", "", "serial", "0x0051823f", "enip"),
    ("enip/iti_openics_cip_program_upload.pcap", "", "firmware", "16.20", "enip"),
    ("bacnet/icsnpp_bacnet_services.pcap", "", "vendor", "Lithonia Lighting, Inc.", "bacnet"),
    ("bacnet/icsnpp_bacnet_services.pcap", "", "model", "SYSC MLX", "bacnet"),
    ("bacnet/icsnpp_bacnet_services.pcap", "", "firmware", "2.62", "bacnet"),
    ("iec61850/iti_mms_identify_areva.pcap", "", "vendor", "AREVA T&D Corporation", "mms"),
    ("iec61850/iti_mms_identify_areva.pcap", "", "model", "e-terracomm", "mms"),
    ("iec61850/iti_mms_identify_areva.pcap", "", "firmware", "2.3.1", "mms"),
    ("profinet/iti_pn_dcp_change_ip.pcap", "", "device_name", "X208-BORD", "profinet"),
    ("profinet/iti_pn_dcp_identify.pcap", "", "device_name", "switch3", "profinet"),
    ("hart-ip/icsnpp_hart_ip.pcap", "", "device_name", "wihartgw", "hart-ip"),
    ("iec61850/iti_goose_ge_f650.pcap", "", "device_name", "GEDeviceF650", "goose"),
    ("omron-fins/icsnpp_omron_fins_udp.pcap", "", "model", "AAAAAAAAAAAAAAAAAAAA", "fins"),
    ("opcua/icsnpp_opcua_python_minimal.pcap", "", "product_name", "urn:freeopcua.github.io:python:server", "opcua"),
    ("lldp/zeek_lldp.pcap", "00:22:2d:81:db:10", "hostname", "SMCGS8P-Smart", "lldp"),
    ("cdp/tcpdump_lldp_and_cdp.pcap", "", "model", "cisco WS-C3560-24TS", "cdp"),
    ("snmp/zeek_snmpwalk_short.pcap", "", "hostname", "ubuntu-512mb-sfo2-01", "snmp"),
    ("http/zeek_http_get.pcap", "", "server", "Apache/2.4.3 (Fedora)", "http"),
    ("smb/arkime_smb_windows10.pcap", "", "os", "Windows 8.1", "smb"),
    ("ftp/zeek_ftp_ipv4.pcap", "", "server", "NetBSD-ftpd", "ftp"),
    ("mqtt/zeek_mqtt.pcap", "", "device_name", "paho/", "mqtt"),
];

fn selects(device: &Value, selector: &str) -> bool {
    if selector.is_empty() {
        return true;
    }
    let has = |key: &str| {
        device[key].as_array().is_some_and(|a| {
            a.iter().any(|v| v.as_str().is_some_and(|s| s == selector || (selector.ends_with(':') && s.starts_with(selector))))
        })
    };
    has("ips") || has("macs")
}

#[test]
fn identity_facts_land_on_the_right_device() {
    let Some(dir) = shared_dir() else { return };
    let registered = common::registered();
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, (capture, selector, field, value, protocol)) in EXPECTED.iter().enumerate() {
        if !registered.contains(protocol) {
            eprintln!("not yet dissected, skipped: {protocol} {field}={value} in {capture}");
            continue;
        }
        let list = common::analyze_and_list(&dir.join(capture), &tmp.path().join(format!("{i}.db")), &["devices"]);
        let found = list.iter().filter(|d| selects(d, selector)).any(|d| {
            d["facts"].as_array().is_some_and(|facts| {
                facts
                    .iter()
                    .any(|f| f["field"] == *field && f["source"] == *protocol && f["value"].as_str().is_some_and(|v| v.contains(value)))
            })
        });
        if !found {
            failures.push(format!(
                "{capture}: no device{} has {field} containing {value:?} from {protocol}",
                if selector.is_empty() { String::new() } else { format!(" {selector}") }
            ));
        }
        checked += 1;
    }
    eprintln!("{checked} identity facts checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
