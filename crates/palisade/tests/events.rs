//! `palisade events` shows what happened on the wire: for each shared
//! capture, the operations tshark also sees must be listed. Rows whose
//! protocol this build does not dissect yet are reported and skipped.

use palisade_sensor::testdata::shared_dir;

mod common;

/// (capture, protocol, operation kind, target substring, at least this many events).
const EXPECTED: &[(&str, &str, &str, &str, usize)] = &[
    ("enip/iti_openics_cip_program_upload.pcap", "cip", "program-upload", "", 1),
    ("modbus/ndpi_umas_modicon.pcap", "modbus", "program-upload", "umas:", 1),
    ("modbus/ndpi_umas_modicon.pcap", "modbus", "read", "umas:", 1),
    ("modbus/ndpi_modbus.pcap", "modbus", "read", "holding:", 1),
    ("modbus/icsnpp_modbus_example.pcap", "modbus", "identify", "", 1),
    ("modbus/icsnpp_modbus_example.pcap", "modbus", "write", "", 1),
    ("s7comm/icsnpp_s7comm_snap7_s300.pcap", "s7comm", "identify", "SZL 0x0011", 1),
    ("s7comm/icsnpp_s7comm_snap7_s300.pcap", "s7comm", "controller-stop", "", 1),
    ("s7comm/icsnpp_s7comm_snap7_s300.pcap", "s7comm", "program-upload", "", 1),
    ("s7comm/iti_wincc_s400_production.pcapng", "s7comm", "read", "DB", 1),
    ("dnp3/zeek_dnp3.pcap", "dnp3", "cold-restart", "", 1),
    ("dnp3/zeek_dnp3.pcap", "dnp3", "time-set", "", 1),
    ("dnp3/icsnpp_dnp3_example.pcap", "dnp3", "write", "CROB", 1),
    ("iec104/iti_iec104_090813_diverse.pcap", "iec104", "write", "ioa", 1),
    ("iec104/iti_iec104_090813_diverse.pcap", "iec104", "read", "", 1),
    ("bacnet/icsnpp_bacnet_services.pcap", "bacnet", "read", "", 1),
    ("bacnet/arkime_bacnet_stack_services.pcap", "bacnet", "configuration-change", "", 1),
    ("mqtt/zeek_mqtt.pcap", "mqtt", "session", "mqtt 3.1", 1),
    ("mqtt/zeek_mqtt.pcap", "mqtt", "read", "SampleTopic", 1),
    ("mqtt/zeek_mqtt.pcap", "mqtt", "write", "SampleTopic", 1),
    ("mqtt/suricata_mqtt5_pub_mosquittoprops.pcap", "mqtt", "login", "user", 1),
    ("mqtt/suricata_mqtt5_pub_mosquittoprops.pcap", "mqtt", "write", "topicX", 1),
    ("coap/ndpi_coap.pcap", "coap", "read", "/separate", 1),
    ("coap/ndpi_coap.pcap", "coap", "read", "/storage/myresource", 1),
    ("coap/ndpi_coap.pcap", "coap", "write", "/storage", 3),
    ("coap/ndpi_coap.pcap", "coap", "write", "/r/Bus17Cmd", 1),
    ("coap/ndpi_coap.pcap", "mqtt", "write", "Bus17Info", 1),
    ("coap/ndpi_coap.pcap", "mqtt", "read", "Bus17Cmd", 1),
    ("profinet/iti_pn_dcp_change_ip.pcap", "profinet", "configuration-change", "ip", 1),
    ("iec61850/iti_mms_identify_areva.pcap", "mms", "identify", "", 1),
    ("omron-fins/icsnpp_omron_fins_udp.pcap", "fins", "read", "", 1),
    ("opcua/icsnpp_opcua_python_minimal.pcap", "opcua", "read", "", 1),
    ("smb/arkime_smb_windows10.pcap", "smb", "session", "smb1", 1),
    ("smb/arkime_smb_windows10.pcap", "smb", "session", "smb 3.1.1", 1),
    ("smb/arkime_smb_windows10.pcap", "smb", "login", "DESKTOP-2AEFM7G\\", 3),
    ("smb/arkime_smb_windows10.pcap", "smb", "read", "IPC$", 2),
    ("hart-ip/icsnpp_hart_ip.pcap", "smb", "session", "smb1", 1),
    ("telnet/ndpi_telnet.pcap", "telnet", "login", "fake", 1),
    ("ftp/zeek_ftp_ipv4.pcap", "ftp", "login", "anonymous", 1),
    ("ftp/zeek_ftp_ipv4.pcap", "ftp", "read", "robots.txt", 1),
];

#[test]
fn operations_tshark_sees_are_listed() {
    let Some(dir) = shared_dir() else { return };
    let registered = common::registered();
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for (i, (capture, protocol, kind, target, at_least)) in EXPECTED.iter().enumerate() {
        let carrier = if *protocol == "cip" { "enip" } else { protocol };
        if !registered.contains(&carrier) {
            eprintln!("not yet dissected, skipped: {protocol} {kind} in {capture}");
            continue;
        }
        let list = common::analyze_and_list(&dir.join(capture), &tmp.path().join(format!("{i}.db")), &["events", "--type", "operation"]);
        for e in &list {
            for field in ["time", "type", "protocol", "kind", "count"] {
                assert!(!e[field].is_null(), "{capture}: event without {field}: {e}");
            }
        }
        let found = list
            .iter()
            .filter(|e| e["protocol"] == *protocol && e["kind"] == *kind && e["target"].as_str().unwrap_or_default().contains(target))
            .count();
        if found < *at_least {
            failures.push(format!(
                "{capture}: {found} {protocol} {kind} operations with target containing {target:?}, expected at least {at_least}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn clean_captures_have_no_violations() {
    let Some(dir) = shared_dir() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    for capture in [
        "enip/iti_enip_listidentity_1756_enbt.pcap",
        "s7comm/icsnpp_s7comm_snap7_s300.pcap",
        "dnp3/icsnpp_dnp3_example.pcap",
        "dhcp/tcpdump_dhcp_mud_raspberrypi.pcap",
    ] {
        let db = tmp.path().join("v.db");
        let _ = std::fs::remove_file(&db);
        let list = common::analyze_and_list(&dir.join(capture), &db, &["events", "--type", "violation"]);
        assert!(list.is_empty(), "{capture}: unexpected violations {list:?}");
    }
}
