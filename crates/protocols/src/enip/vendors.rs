//! CIP vendor ids (assigned by ODVA) of common industrial vendors, as
//! `(id, name)` pairs sorted by id. Each entry was checked against the
//! public vendor list that Wireshark's CIP dissector carries; ids not listed
//! here yield no vendor fact rather than a guess.

/// `(vendor id, vendor name)`, sorted by id for binary search.
const VENDORS: &[(u16, &str)] = &[
    (1, "Rockwell Automation/Allen-Bradley"),
    (2, "Namco Controls Corp."),
    (3, "Honeywell International Inc."),
    (4, "Parker Hannifin Corporation"),
    (5, "Rockwell Automation/Reliance Elec."),
    (7, "SMC Corporation"),
    (8, "Molex Incorporated"),
    (12, "Banner Engineering Corporation"),
    (13, "Belden Wire & Cable Company"),
    (26, "Festo"),
    (40, "WAGO Corporation"),
    (43, "BALLUFF"),
    (44, "Yaskawa America, Inc."),
    (45, "Eurotherm by Schneider Electric"),
    (46, "ABB, Inc."),
    (47, "Omron Corporation"),
    (48, "TURCK"),
    (50, "Real Time Automation"),
    (56, "Softing"),
    (57, "Pepperl+Fuchs"),
    (58, "Spectrum Controls, Inc."),
    (68, "Eaton Electrical"),
    (71, "Toshiba Corporation"),
    (74, "Hitachi, Ltd."),
    (75, "ABB Robotics"),
    (77, "Rockwell Software, Inc."),
    (81, "IXXAT Automation GmbH"),
    (82, "Mitsubishi Electric Automation, Inc."),
    (83, "OPTO 22"),
    (90, "HMS Networks"),
    (94, "Advantech Corporation"),
    (95, "Square D Company"),
    (97, "Danfoss Drives A/S"),
    (108, "Beckhoff Automation"),
    (109, "National Instruments"),
    (121, "KUKA Deutschland GmbH"),
    (143, "GE Industrial Systems"),
    (145, "Siemens Energy & Automation/Drives"),
    (153, "Watlow"),
    (161, "Mitsubishi Electric Corporation"),
    (170, "Pyramid Solutions, Inc."),
    (176, "Red Lion"),
    (181, "Pilz GmbH & Co KG"),
    (209, "Contemporary Controls"),
    (243, "Schneider Electric"),
    (250, "Yokogawa Electric Corporation"),
    (255, "Bosch Rexroth"),
    (257, "Control Techniques PLC"),
    (259, "LS ELECTRIC"),
    (283, "Hilscher GmbH"),
    (287, "Bosch Rexroth AG"),
    (309, "ProSoft Technology"),
    (315, "SEW Eurodrive GmbH"),
    (319, "Fuji Electric Group"),
    (322, "ifm electronic gmbh"),
    (326, "Intelligent Platforms, LLC."),
    (345, "Endress + Hauser"),
    (356, "FANUC Robotics America"),
    (367, "Keyence Corporation"),
    (445, "Lenze Drive Systems GmbH"),
    (452, "Kollmorgen"),
    (501, "YASKAWA Europe (formerly VIPA GmbH)"),
    (511, "SICK Stegmann GmbH"),
    (524, "Leuze Electronic GmbH & Co. KG"),
    (562, "Phoenix Contact"),
    (587, "Lenze"),
    (591, "FANUC CORPORATION"),
    (593, "ABB AG"),
    (634, "Hirschmann, a Belden brand"),
    (640, "Murrelektronik GmbH"),
    (660, "Automationdirect.com"),
    (666, "Mettler-Toledo"),
    (678, "Cognex Corporation"),
    (680, "Weidmuller, Inc."),
    (796, "Siemens Industry, Inc."),
    (799, "Delta Electronics, Inc."),
    (805, "Digi International, Inc."),
    (808, "SICK AG"),
    (853, "WEG"),
    (865, "Schweitzer Engineering Laboratories"),
    (887, "Bernecker + Rainer Industrie-Elektronik GmbH"),
    (903, "Emerson Process Management Power & Water Solutions"),
    (925, "HIMA Paul Hildebrandt GmbH"),
    (928, "GE Multilin"),
    (939, "Cisco Systems"),
    (947, "Belden"),
    (991, "Moxa, Inc."),
    (1006, "N-Tron Corporation, a Red Lion Company"),
    (1015, "Weidmueller Group"),
    (1109, "Inductive Automation"),
    (1168, "Kunbus GmbH Industrial Communication"),
    (1182, "Endress+Hauser"),
    (1225, "Rosemount Inc."),
];

/// The vendor's name for a CIP vendor id, if it is in the table.
pub(crate) fn vendor_name(id: u16) -> Option<&'static str> {
    VENDORS.binary_search_by_key(&id, |&(v, _)| v).ok().and_then(|i| VENDORS.get(i)).map(|&(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_found() {
        assert!(VENDORS.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)));
        assert_eq!(vendor_name(1), Some("Rockwell Automation/Allen-Bradley"));
        assert_eq!(vendor_name(47), Some("Omron Corporation"));
        assert_eq!(vendor_name(562), Some("Phoenix Contact"));
        assert_eq!(vendor_name(6), None);
        assert_eq!(vendor_name(u16::MAX), None);
    }
}
