//! IEC 60870-5-104 on TCP port 2404: APCI framing, STARTDT/STOPDT as
//! session operations, and control-direction ASDUs (commands, interrogation,
//! clock sync, reset) as operations confirmed by their activation
//! confirmation. Monitor-direction data is not reported per measurement.

mod parser;

use crate::dnp3::{operation_from, Reporter};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{cause, Apci, Apdu, Asdu, AsduError, UFunction};
use std::fmt;

/// Outstanding commands remembered per flow.
const PENDING: usize = 8;

/// Recognises an APDU with a valid control field.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    is_tcp && parser::looks_like_apdu(payload)
}

/// What a control-direction type does, if it is an operation.
fn command_kind(type_id: u8) -> Option<OperationKind> {
    Some(match type_id {
        45..=51 | 58..=64 => OperationKind::Write,
        100..=102 => OperationKind::Read,
        103 => OperationKind::TimeSet,
        104 | 106 | 107 => OperationKind::Diagnostics,
        105 => OperationKind::DeviceReset,
        110..=113 => OperationKind::ConfigurationChange,
        _ => return None,
    })
}

/// A command waiting for its confirmation.
#[derive(Clone, Copy)]
struct Pending {
    type_id: u8,
    /// Activation or deactivation.
    cause: u8,
    common_address: u16,
    ioa: u32,
    select: bool,
    test: bool,
    request_dir: Direction,
    request_ts: Timestamp,
    /// Order of arrival.
    stamp: u32,
}

impl fmt::Display for Pending {
    /// E.g. `ioa 4501 type C_SC_TA_1 select`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = parser::type_info(self.type_id).map_or("?", |(name, _)| name);
        write!(f, "ioa {} type {name}", self.ioa)?;
        if self.select {
            f.write_str(" select")?;
        }
        if self.cause == cause::DEACT {
            f.write_str(" cancel")?;
        }
        if self.test {
            f.write_str(" test")?;
        }
        Ok(())
    }
}

/// Per-flow IEC 104 state.
#[derive(Default)]
pub struct Iec104 {
    pending: [Option<Pending>; PENDING],
    /// Stamp of the latest command.
    stamp: u32,
    /// A command was seen, so unmatched confirmations are worth reporting.
    commands_seen: bool,
    /// STARTDT/STOPDT act outstanding from this direction.
    transfer: [Option<UFunction>; 2],
    /// The stream in this direction is at an APDU boundary.
    synced: [bool; 2],
    report: Reporter,
}

impl Iec104 {
    /// Handles a U-format frame: STARTDT and STOPDT become session operations.
    fn unnumbered(&mut self, ctx: &mut Ctx<'_>, function: UFunction) {
        let d = ctx.dir;
        match function {
            UFunction::StartAct | UFunction::StopAct => {
                self.report.role(ctx, "scada-client");
                self.transfer[d.index()] = Some(function);
            }
            UFunction::StartCon | UFunction::StopCon => {
                let (act, name) = match function {
                    UFunction::StartCon => (UFunction::StartAct, "startdt"),
                    _ => (UFunction::StopAct, "stopdt"),
                };
                if self.transfer[d.reverse().index()].take_if(|f| *f == act).is_some() {
                    let code = u32::from(act.code());
                    operation_from(ctx, d.reverse(), ctx.ts, OperationKind::Session, code, Some(&name), OperationResult::Success);
                }
            }
            UFunction::TestAct | UFunction::TestCon => {}
        }
    }

    /// Handles the ASDU of an I-format frame.
    fn information(&mut self, ctx: &mut Ctx<'_>, bytes: &[u8]) {
        let a = match parser::asdu(bytes) {
            Ok(a) => a,
            Err(AsduError::Short) => return self.report.flag(ctx, ViolationKind::Malformed, "IEC 104 ASDU shorter than its header"),
            Err(AsduError::UnknownType(t)) => {
                return self.report.flag(ctx, ViolationKind::ReservedValue, format!("unknown IEC 104 type id {t}"))
            }
            Err(AsduError::Length { expected, got }) => {
                let detail = format!("IEC 104 ASDU of {got} bytes where its type and object count need {expected}");
                return self.report.flag(ctx, ViolationKind::LengthMismatch, detail);
            }
        };
        if cause::reserved(a.cause) {
            self.report.flag(ctx, ViolationKind::ReservedValue, format!("reserved IEC 104 cause of transmission {}", a.cause));
        }
        let Some(kind) = command_kind(a.type_id) else {
            if a.type_id <= 40 || a.type_id == 70 {
                self.report.role(ctx, "controlled-station");
            }
            return;
        };
        match a.cause {
            cause::ACT | cause::DEACT if !a.negative => self.command(ctx, a),
            cause::ACT_CON | cause::DEACT_CON | cause::UNKNOWN_TYPE..=cause::UNKNOWN_IOA => self.confirmation(ctx, a, kind),
            _ => {}
        }
    }

    /// A command from the controlling station: remembered until confirmed.
    fn command(&mut self, ctx: &mut Ctx<'_>, a: Asdu) {
        self.report.role(ctx, "scada-client");
        self.commands_seen = true;
        self.stamp = self.stamp.wrapping_add(1);
        let new = Pending {
            type_id: a.type_id,
            cause: a.cause,
            common_address: a.common_address,
            ioa: a.ioa,
            select: a.select,
            test: a.test,
            request_dir: ctx.dir,
            request_ts: ctx.ts,
            stamp: self.stamp,
        };
        let slot = self.pending.iter().position(Option::is_none).or_else(|| self.oldest(|_| true));
        if let Some(old) = slot.and_then(|i| self.pending.get_mut(i)).and_then(|p| p.replace(new)) {
            let kind = command_kind(old.type_id).unwrap_or(OperationKind::Other);
            operation_from(ctx, old.request_dir, old.request_ts, kind, u32::from(old.type_id), Some(&old), OperationResult::Unknown);
        }
    }

    /// A confirmation from the controlled station: completes its command.
    fn confirmation(&mut self, ctx: &mut Ctx<'_>, a: Asdu, kind: OperationKind) {
        self.report.role(ctx, "controlled-station");
        let asked = if a.cause == cause::DEACT_CON { cause::DEACT } else { cause::ACT };
        let unknown = a.cause >= cause::UNKNOWN_TYPE;
        let found = self
            .oldest(|p| p.type_id == a.type_id && p.common_address == a.common_address && p.ioa == a.ioa && (unknown || p.cause == asked));
        let Some(p) = found.and_then(|i| self.pending.get_mut(i)).and_then(Option::take) else {
            if self.commands_seen {
                let detail = format!("IEC 104 confirmation of type {} for ioa {} matches no command", a.type_id, a.ioa);
                self.report.flag(ctx, ViolationKind::UnexpectedResponse, detail);
            }
            return;
        };
        let result = match a.negative || unknown {
            true => OperationResult::Error(u32::from(a.cause)),
            false => OperationResult::Success,
        };
        operation_from(ctx, p.request_dir, p.request_ts, kind, u32::from(p.type_id), Some(&p), result);
    }

    /// The slot of the oldest pending command that `matches`.
    fn oldest(&self, matches: impl Fn(&Pending) -> bool) -> Option<usize> {
        let candidates = self.pending.iter().enumerate().filter_map(|(i, p)| p.filter(|p| matches(p)).map(|p| (i, p.stamp)));
        candidates.max_by_key(|&(_, stamp)| self.stamp.wrapping_sub(stamp)).map(|(i, _)| i)
    }
}

impl Dissector for Iec104 {
    const REGISTRATION: Registration = Registration { tcp_ports: &[2404], probe: Some(probe), ..Registration::new(Protocol::Iec104) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut at = 0;
        while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
            match parser::apdu(rest) {
                Apdu::Whole { apci, asdu, used } => {
                    self.synced[d] = true;
                    match apci {
                        Apci::I => self.information(ctx, asdu),
                        Apci::S => {}
                        Apci::U(function) => self.unnumbered(ctx, function),
                    }
                    at += used;
                }
                Apdu::Incomplete => break,
                Apdu::Invalid => {
                    if std::mem::take(&mut self.synced[d]) {
                        self.report.flag(ctx, ViolationKind::Malformed, "bytes that do not start an IEC 104 APDU");
                    }
                    // Skip to the next start octet.
                    at += rest.iter().skip(1).position(|&b| b == parser::START).map_or(rest.len(), |i| i + 1);
                }
            }
        }
        at
    }

    fn gap(&mut self, dir: Direction) {
        self.synced[dir.index()] = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{field_values, operation_events, port_ep, violation_kinds, Flow};
    use palisade_model::Event;

    /// Runs `(direction, bytes)` pieces through one flow.
    fn run(pieces: &[(Direction, Vec<u8>)]) -> Vec<Event> {
        Flow::<Iec104>::new(port_ep(40000), port_ep(2404)).whole_streams(pieces).events()
    }

    /// An I frame around `asdu`.
    fn i_frame(asdu: &[u8]) -> Vec<u8> {
        let mut f = vec![0x68, (asdu.len() + 4) as u8, 0, 0, 0, 0];
        f.extend_from_slice(asdu);
        f
    }

    /// The operations as (kind, type id, target, result, client port).
    fn operations(events: &[Event]) -> Vec<(OperationKind, u32, Option<String>, OperationResult, u16)> {
        operation_events(events).into_iter().map(|o| (o.kind, o.code, o.target.clone(), o.result, o.client.port)).collect()
    }

    #[test]
    fn single_command_select_then_execute() {
        let sel = |cot: u8, q: u8| i_frame(&[45, 1, cot, 0, 3, 0, 0x94, 0x11, 0, q]);
        let events = run(&[
            (Direction::ToServer, sel(6, 0x81)),
            (Direction::ToClient, sel(7, 0x81)),
            (Direction::ToServer, sel(6, 0x01)),
            (Direction::ToClient, sel(0x47, 0x01)),
        ]);
        assert_eq!(
            operations(&events),
            vec![
                (OperationKind::Write, 45, Some("ioa 4500 type C_SC_NA_1 select".into()), OperationResult::Success, 40000),
                (OperationKind::Write, 45, Some("ioa 4500 type C_SC_NA_1".into()), OperationResult::Error(7), 40000),
            ]
        );
        let roles: Vec<_> = field_values(&events).into_iter().map(|(_, value)| value).collect();
        assert_eq!(roles, vec!["scada-client", "controlled-station"]);
    }

    #[test]
    fn commands_from_the_listening_side_and_startdt() {
        // The station on port 2404 is the controlling one here.
        let ic = |cot: u8| i_frame(&[100, 1, cot, 0, 3, 0, 0, 0, 0, 20]);
        let events = run(&[
            (Direction::ToClient, vec![0x68, 4, 0x07, 0, 0, 0]),
            (Direction::ToServer, vec![0x68, 4, 0x0b, 0, 0, 0]),
            (Direction::ToClient, ic(6)),
            (Direction::ToServer, [vec![0x68, 4, 0x01, 0, 2, 0], ic(7), ic(10)].concat()),
        ]);
        assert_eq!(
            operations(&events),
            vec![
                (OperationKind::Session, 7, Some("startdt".into()), OperationResult::Success, 2404),
                (OperationKind::Read, 100, Some("ioa 0 type C_IC_NA_1".into()), OperationResult::Success, 2404),
            ]
        );
    }

    #[test]
    fn monitor_data_is_not_an_operation_and_violations() {
        let spont = i_frame(&[13, 1, 3, 0, 3, 0, 0x15, 5, 0, 0, 0, 0x40, 0x41, 0]);
        let unknown_type = i_frame(&[99, 1, 6, 0, 3, 0, 0, 0, 0, 1]);
        let bad_len = i_frame(&[13, 2, 3, 0, 3, 0, 0x15, 5, 0, 0, 0, 0x40, 0x41, 0]);
        let reserved_cot = i_frame(&[1, 1, 15, 0, 3, 0, 1, 0, 0, 1]);
        let stray_con = i_frame(&[46, 1, 7, 0, 3, 0, 1, 0, 0, 1]);
        let command = i_frame(&[46, 1, 6, 0, 3, 0, 2, 0, 0, 1]);
        let events = run(&[
            (Direction::ToClient, [spont, unknown_type, bad_len, reserved_cot, vec![0xff, 0xfe]].concat()),
            (Direction::ToServer, command),
            (Direction::ToClient, stray_con),
        ]);
        assert!(operations(&events).is_empty());
        let kinds = violation_kinds(&events);
        assert_eq!(
            kinds,
            vec![
                ViolationKind::ReservedValue,
                ViolationKind::LengthMismatch,
                ViolationKind::ReservedValue,
                ViolationKind::Malformed,
                ViolationKind::UnexpectedResponse
            ]
        );
    }

    #[test]
    fn probe_is_strict() {
        assert!(probe(&[0x68, 4, 0x07, 0, 0, 0], true));
        assert!(probe(&i_frame(&[100, 1, 6, 0, 3, 0, 0, 0, 0, 20]), true));
        assert!(!probe(&[0x68, 4, 0x07, 0, 0, 0], false));
        assert!(!probe(b"hello world", true));
        assert!(!probe(&[0x68, 4, 0x08, 0, 0, 0], true));
    }
}
