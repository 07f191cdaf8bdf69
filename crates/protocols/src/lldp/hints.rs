//! Hints read from free-text system descriptions, shared by LLDP, CDP and
//! SNMP (the LLDP system description and the CDP software version carry
//! the same text as SNMP's sysDescr).

use crate::Ctx;
use palisade_model::{Endpoint, IdentityField};

/// Reports on `subject` the operating system and firmware that its system
/// description clearly names.
pub(crate) fn report(ctx: &mut Ctx<'_>, subject: Endpoint, description: &str) {
    if let Some(os) = os(description) {
        ctx.identity(subject, IdentityField::Os, os);
    }
    if let Some(version) = cisco_version(description) {
        ctx.identity(subject, IdentityField::Firmware, version);
    }
}

/// The operating system a system description names, if it clearly does.
pub(crate) fn os(description: &str) -> Option<&'static str> {
    let d = description;
    if d.contains("Cisco IOS XE") || d.contains("IOS-XE") {
        Some("Cisco IOS XE")
    } else if d.contains("Cisco IOS") {
        Some("Cisco IOS")
    } else if d.contains("Cisco NX-OS") {
        Some("Cisco NX-OS")
    } else if d.contains("JUNOS") {
        Some("Junos")
    } else if d.starts_with("Linux ") {
        Some("Linux")
    } else if d.contains("Software: Windows") {
        Some("Windows")
    } else {
        None
    }
}

/// The version of a Cisco description ("Cisco IOS Software, ... Version
/// 12.2(44)SE, RELEASE SOFTWARE" gives "12.2(44)SE"), only when it reads
/// cleanly.
pub(crate) fn cisco_version(description: &str) -> Option<&str> {
    if !description.contains("Cisco") {
        return None;
    }
    let at = description.find("Version ")? + "Version ".len();
    let tail = description.get(at..)?;
    let end = tail.find(|c: char| c == ',' || c.is_whitespace()).unwrap_or(tail.len());
    let version = tail.get(..end)?;
    let clean = version.len() <= 32
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_alphanumeric() || ".()-_:".contains(c));
    clean.then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IOS: &str = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)\nCopyright (c) 1986-2008 by Cisco Systems, Inc.";

    #[test]
    fn operating_systems() {
        assert_eq!(os(IOS), Some("Cisco IOS"));
        assert_eq!(os("Linux ubuntu-512mb-sfo2-01 4.4.0-31-generic #50~14.04.1-Ubuntu SMP x86_64"), Some("Linux"));
        assert_eq!(os("Hardware: Intel64 Family 6 - Software: Windows Version 6.3 (Build 9600 Multiprocessor Free)"), Some("Windows"));
        assert_eq!(os("ProCurve J8762A Switch 2600-8-PWR, revision H.08.89"), None);
    }

    #[test]
    fn cisco_versions() {
        assert_eq!(cisco_version(IOS), Some("12.2(44)SE"));
        assert_eq!(cisco_version("Summit300-48 - Version 7.4e.1 (Build 5)"), None);
        assert_eq!(cisco_version("Cisco Version unknown"), None);
        assert_eq!(cisco_version("Cisco Version "), None);
    }
}
