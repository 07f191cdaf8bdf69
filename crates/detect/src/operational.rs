//! The operational engine: risky operations on controllers and devices
//! (stop and start, programming, firmware, restarts, configuration and time
//! changes) and credentials sent in the clear.

use crate::baseline::BaselineKey;
use crate::detector::{Check, Detector, Ev};
use crate::dispatch::{draft, who};
use crate::host::HostKey;
use palisade_model::{AlertCategory, Operation, OperationKind, OperationResult, Protocol, Severity};

/// Protocols whose logins carry the credentials in the clear.
fn cleartext_login(p: Protocol) -> bool {
    matches!(p, Protocol::Telnet | Protocol::Ftp | Protocol::Http | Protocol::Snmp)
}

/// True for the SMBv1 session the SMB dissector reports.
fn smb1(op: &Operation) -> bool {
    op.protocol == Protocol::Smb && op.kind == OperationKind::Session && op.target.as_deref() == Some("smb1")
}

/// File name extensions of firmware images (WAGO, generic update and DFU images).
const FIRMWARE_EXTENSIONS: &[&str] = &["wup", "fw", "dfu", "upd", "ipk", "hex", "img", "firmware"];

/// True for a file written to a device whose name says it is a firmware image
/// (over FTP, HTTP or an industrial protocol's file services).
fn firmware_transfer(op: &Operation) -> bool {
    let file_protocol = matches!(op.protocol, Protocol::Ftp | Protocol::Http) || op.protocol.is_industrial();
    let writes = matches!(op.kind, OperationKind::Write | OperationKind::ProgramDownload);
    file_protocol && writes && op.target.as_deref().is_some_and(looks_like_firmware)
}

/// True for a file name that names a firmware image.
fn looks_like_firmware(target: &str) -> bool {
    let name = target.rsplit(['/', '\\', ' ']).next().unwrap_or(target).to_ascii_lowercase();
    let extension = name.rsplit_once('.').map(|(_, e)| e);
    name.contains("firmware")
        || name.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == "fw")
        || extension.is_some_and(|e| FIRMWARE_EXTENSIONS.contains(&e))
}

/// The operational category of an operation, if it is a risky one.
pub(crate) fn operational_category(op: &Operation) -> Option<AlertCategory> {
    use OperationKind::*;
    if firmware_transfer(op) {
        return Some(AlertCategory::FirmwareUpdate);
    }
    Some(match op.kind {
        ControllerStop => AlertCategory::PlcStop,
        ControllerStart => AlertCategory::PlcStart,
        ProgramDownload | ProgramDelete => AlertCategory::ProgramDownload,
        ProgramUpload => AlertCategory::ProgramUpload,
        FirmwareUpdate => AlertCategory::FirmwareUpdate,
        ColdRestart | WarmRestart | DeviceReset => AlertCategory::DeviceRestart,
        ConfigurationChange | TimeSet => AlertCategory::ConfigurationChange,
        Login if cleartext_login(op.protocol) => AlertCategory::CleartextCredentials,
        Session if smb1(op) => AlertCategory::CleartextCredentials,
        _ => return None,
    })
}

impl Detector {
    /// Raises an alert for each risky operation. Critical ones (stop,
    /// program download, firmware update) always alert, even while
    /// learning; the others only when the baseline has not seen the same
    /// operation between the same hosts.
    pub(crate) fn operational(&mut self, op: &Operation, ck: Option<HostKey>, sk: Option<HostKey>, learning: bool, ev: Ev<'_>) {
        let Some(category) = operational_category(op) else { return };
        let key = match (ck, sk) {
            (Some(c), Some(s)) => Some(BaselineKey::Operation(c, s, op.protocol, op.kind, op.code)),
            _ => None,
        };
        if let Some(k) = &key {
            if !op.protocol.is_industrial() {
                self.baseline.observe(k.clone(), op.ts, learning);
            }
        }
        let (src, dst, proto) = (who(&op.client), who(&op.server), op.protocol);
        let target = op.target.as_deref().filter(|t| !t.is_empty());
        let on = target.map(|t| format!(" ({t})")).unwrap_or_default();
        let title = match op.kind {
            _ if category == AlertCategory::FirmwareUpdate => format!("Firmware update of {dst} from {src} ({proto}){on}"),
            OperationKind::ControllerStop => format!("Controller stop: {src} stopped {dst} ({proto})"),
            OperationKind::ControllerStart => format!("Controller start: {src} started {dst} ({proto})"),
            OperationKind::ProgramDownload => format!("Program download from {src} to {dst} ({proto})"),
            OperationKind::ProgramDelete => format!("Program deleted on {dst} by {src} ({proto})"),
            OperationKind::ProgramUpload => format!("Program upload from {dst} to {src} ({proto})"),
            OperationKind::ColdRestart => format!("Cold restart of {dst} requested by {src} ({proto})"),
            OperationKind::WarmRestart => format!("Warm restart of {dst} requested by {src} ({proto})"),
            OperationKind::DeviceReset => format!("Reset of {dst} requested by {src} ({proto})"),
            OperationKind::TimeSet => format!("Time set on {dst} by {src} ({proto})"),
            OperationKind::ConfigurationChange => format!("Configuration change on {dst} by {src} ({proto}){on}"),
            _ if smb1(op) => format!("Obsolete SMBv1 in use between {src} and {dst}"),
            _ => format!("Cleartext {proto} login from {src} to {dst}"),
        };
        let outcome = match op.result {
            OperationResult::Success => "it succeeded".to_string(),
            OperationResult::Error(code) => format!("it was refused (error {code})"),
            OperationResult::Unknown => "no answer was seen".to_string(),
        };
        let what = if smb1(op) {
            format!("{src} and {dst} negotiated SMB version 1, which allows weak (LM/NTLMv1) authentication and is what WannaCry and NotPetya spread over")
        } else if category == AlertCategory::CleartextCredentials {
            format!(
                "{src} logged in to {dst} over {proto}{}, which sends the credentials unencrypted",
                target.map(|t| format!(" as {t}")).unwrap_or_default()
            )
        } else {
            format!("{src} asked {dst} for a {} operation over {proto} (function code {}){on}", op.kind, op.code)
        };
        let critical = super::alert::default_severity(category) == Severity::Critical;
        let baseline_note = if critical || !self.clock.has_baseline() { "" } else { "; the baseline never saw it between these hosts" };
        let repeats = if op.count > 1 { format!(" ({} times)", op.count) } else { String::new() };
        let description = format!("{what}{repeats}; {outcome}{baseline_note}.");
        let mut d = draft(category, op.ts, &op.client, &op.server, Some(proto), title, description);
        d.detail = if smb1(op) { "smb1".into() } else { category.as_str().into() };
        d.count = u64::from(op.count.max(1));
        let mut checks = Vec::new();
        if let Some(k) = key {
            d.baseline_items = vec![k.text()];
            if !critical && self.clock.has_baseline() {
                checks.push(Check::NotLearned(k));
            }
        }
        self.propose(d, ev, learning, checks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firmware_names() {
        for name in ["PFC200_firmware_04.02.13.wup", "/upload/fw_v2.bin", "C:\\x\\update.dfu", "file firmware.bin"] {
            assert!(looks_like_firmware(name), "{name}");
        }
        for name in ["report.xlsx", "backup.bin", "/index.html", "fwd.txt"] {
            assert!(!looks_like_firmware(name), "{name}");
        }
    }
}
