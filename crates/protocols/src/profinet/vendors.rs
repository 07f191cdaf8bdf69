//! PROFINET vendor ids (as in DCP Device ID blocks, I&M0 records and PNIO
//! object UUIDs) of common manufacturers. Checked against public GSDML
//! device description file names and their DeviceIdentity vendor ids.

/// The manufacturer's name for a PROFINET vendor id, if known.
pub fn vendor_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x001a => "ABB",
        0x002a => "Siemens",
        0x005d => "Pepperl+Fuchs",
        0x0083 => "SMC",
        0x00b0 => "Phoenix Contact",
        0x0101 => "SICK",
        0x0106 => "Lenze",
        0x010a => "SEW-Eurodrive",
        0x010c => "HMS Industrial Networks",
        0x011e => "Hilscher",
        0x011f => "Bosch Rexroth",
        0x0120 => "Beckhoff",
        0x012f => "Murrelektronik",
        0x0134 => "Weidmüller",
        0x0135 => "Euchner",
        0x0136 => "ifm electronic",
        0x0137 => "Cognex",
        0x014d => "Festo",
        0x0152 => "Leuze electronic",
        0x019b => "KUKA",
        0x01b7 => "FANUC",
        0x01fd => "Keyence",
        0x0378 => "Balluff",
        0x0493 => "RT-Labs",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_vendors() {
        assert_eq!(vendor_name(0x002a), Some("Siemens"));
        assert_eq!(vendor_name(0x00b0), Some("Phoenix Contact"));
        assert_eq!(vendor_name(0xffff), None);
    }
}
