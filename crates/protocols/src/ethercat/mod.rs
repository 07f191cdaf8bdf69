//! EtherCAT (ethertype 0x88A4): the master's cyclic frames of datagrams.
//!
//! Frames run at kHz rates, so the per-frame work is a walk over the
//! datagram headers: the sender is the master, broadcast reads and writes
//! tell how many slaves answered (their working counter), and the first
//! broadcast read of the slave controllers' type register is the master
//! scanning its segment.

mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{command, EcatError};

/// The EtherCAT ethertype.
pub const ETHERTYPE: u16 = 0x88a4;

/// EtherCAT flow state.
#[derive(Default)]
pub struct Ethercat {
    /// The slave count last reported (0: none yet).
    slaves: u16,
    /// The master role was reported, per direction.
    role: [bool; 2],
    /// The segment scan was reported.
    scanned: bool,
    /// A malformed frame was reported (once per flow: the traffic is cyclic).
    malformed: bool,
}

impl Dissector for Ethercat {
    const REGISTRATION: Registration = Registration { ethertypes: &[ETHERTYPE], ..Registration::new(Protocol::Ethercat) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        if let Some(done) = self.role.get_mut(ctx.dir.index()).filter(|d| !**d) {
            *done = true;
            ctx.sender_identity(IdentityField::Role, "ethercat-master");
        }
        let frame = match parser::frame(data) {
            Ok(f) => f,
            Err(e) => return self.malformed(ctx, e),
        };
        for datagram in frame.datagrams() {
            let d = match datagram {
                Ok(d) => d,
                Err(e) => return self.malformed(ctx, e),
            };
            if matches!(d.command, command::BRD | command::BWR) && d.wkc > 0 && d.wkc != self.slaves {
                self.slaves = d.wkc;
                ctx.sender_identity(IdentityField::Description, &format!("ethercat master, {} slaves", d.wkc));
            }
            if d.command == command::BRD && d.ado == 0 && !self.scanned {
                self.scanned = true;
                let result = if d.wkc > 0 { OperationResult::Success } else { OperationResult::Unknown };
                ctx.operation(OperationKind::Identify, u32::from(d.command), Some(format_args!("slave scan")), result);
            }
        }
    }
}

impl Ethercat {
    fn malformed(&mut self, ctx: &mut Ctx<'_>, e: EcatError) {
        if std::mem::replace(&mut self.malformed, true) {
            return;
        }
        match e {
            EcatError::Command(c) => ctx.violation(ViolationKind::IllegalFunction, format!("EtherCAT datagram with undefined command {c}")),
            EcatError::Length => ctx.violation(ViolationKind::LengthMismatch, "EtherCAT frame length runs past the frame"),
            EcatError::Truncated | EcatError::Datagram => ctx.violation(ViolationKind::Malformed, "truncated EtherCAT frame or datagram"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{field_values as facts, mac_ep, operation_events, violation_kinds, Flow};
    use palisade_model::{Event, MacAddr};

    /// Feeds frames the master sends.
    fn run(frames: &[Vec<u8>]) -> Vec<Event> {
        Flow::<Ethercat>::new(mac_ep(MacAddr([2, 0, 0, 0, 0, 0])), mac_ep(MacAddr([1, 1, 5, 1, 0, 0]))).client_sends(frames).events()
    }

    /// A command frame with one datagram of `len` zero bytes.
    fn frame(cmd: u8, ado: u16, len: u16, wkc: u16) -> Vec<u8> {
        let total = 12 + len;
        let mut f = (total | 0x1000).to_le_bytes().to_vec();
        f.extend_from_slice(&[cmd, 0, 0, 0]);
        f.extend_from_slice(&ado.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&[0, 0]);
        f.resize(f.len() + usize::from(len), 0);
        f.extend_from_slice(&wkc.to_le_bytes());
        f
    }

    #[test]
    fn counts_slaves_and_reports_scan() {
        let events =
            run(&[frame(command::BRD, 0, 2, 3), frame(command::BRD, 0, 2, 3), frame(4, 0x130, 6, 1), frame(command::BWR, 0x101, 1, 4)]);
        assert_eq!(
            facts(&events),
            vec![
                (IdentityField::Role, "ethercat-master".into()),
                (IdentityField::Description, "ethercat master, 3 slaves".into()),
                (IdentityField::Description, "ethercat master, 4 slaves".into()),
            ]
        );
        let ops: Vec<_> = operation_events(&events).into_iter().map(|o| (o.kind, o.target.clone(), o.result)).collect();
        assert_eq!(ops, vec![(OperationKind::Identify, Some("slave scan".into()), OperationResult::Success)]);
    }

    #[test]
    fn reports_malformed_once() {
        let mut bad = frame(command::BRD, 0, 2, 3);
        bad.truncate(10);
        let events = run(&[bad.clone(), bad, frame(0x20, 0, 1, 0)]);
        assert_eq!(violation_kinds(&events), vec![ViolationKind::LengthMismatch]);
    }
}
