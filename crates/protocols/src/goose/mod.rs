//! IEC 61850 GOOSE (ethertype 0x88B8): multicast status messages published
//! by IEDs. The publisher's control block reference names the IED
//! (`DeviceName`, plus a `Description` with the whole reference) and makes
//! it an "ied". Per publisher (APPID and gocbRef), the state and sequence
//! numbers are tracked: a new `stNum` is a state change, reported as an
//! operation of kind `other` with the state number as code; a `sqNum` that
//! skips or goes back within one state, or a `stNum` that goes back, is
//! reported as an unexpected sequence. A publisher restart (stNum 1 with
//! sqNum 0 or 1) is not an anomaly.

mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};

/// GOOSE ethertype.
const ETHERTYPE: u16 = 0x88b8;
/// Publishers tracked per flow (source and destination MAC).
const PUBLISHERS: usize = 4;

/// Counters of one publisher.
#[derive(Clone, Copy, Debug)]
struct Publisher {
    key: u64,
    st_num: u32,
    sq_num: u32,
}

/// GOOSE dissector: per-flow publisher state.
#[derive(Default)]
pub struct Goose {
    publishers: [Option<Publisher>; PUBLISHERS],
    next: usize,
}

impl Dissector for Goose {
    const REGISTRATION: Registration = Registration { ethertypes: &[ETHERTYPE], ..Registration::new(Protocol::Goose) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let g = match parser::parse(data) {
            Ok(g) => g,
            Err(e) => return report_error(ctx, e),
        };
        let key = publisher_key(g.appid, g.gocb_ref);
        let Some(p) = self.publishers.iter_mut().flatten().find(|p| p.key == key) else {
            self.add(ctx, &g, key);
            return;
        };
        let (old_st, old_sq) = (p.st_num, p.sq_num);
        p.st_num = g.st_num;
        p.sq_num = g.sq_num;
        let test = if g.test { " (test mode)" } else { "" };
        let restart = g.st_num == 1 && g.sq_num <= 1;
        if g.st_num == old_st {
            let next = old_sq.checked_add(1);
            if g.sq_num == old_sq || Some(g.sq_num) == next || (next.is_none() && g.sq_num <= 1) || restart {
                return;
            }
            let how = if g.sq_num > old_sq { "jumped" } else { "went back" };
            let detail =
                format!("GOOSE sqNum {how} from {old_sq} to {} without a state change (stNum {old_st}, {}){test}", g.sq_num, g.gocb_ref);
            ctx.violation(ViolationKind::UnexpectedResponse, detail);
        } else if g.st_num > old_st || old_st == u32::MAX {
            let target = format_args!("goose stNum {} datSet {}{test}", g.st_num, g.dat_set);
            ctx.operation(OperationKind::Other, g.st_num, Some(target), OperationResult::Unknown);
        } else if g.st_num != 1 {
            let detail = format!("GOOSE stNum went back from {old_st} to {} ({}){test}", g.st_num, g.gocb_ref);
            ctx.violation(ViolationKind::UnexpectedResponse, detail);
        }
    }
}

impl Goose {
    /// Starts tracking a publisher and reports who it is.
    fn add(&mut self, ctx: &mut Ctx<'_>, g: &parser::Goose<'_>, key: u64) {
        let slot = self.publishers.iter().position(Option::is_none).unwrap_or(self.next);
        if let Some(s) = self.publishers.get_mut(slot) {
            *s = Some(Publisher { key, st_num: g.st_num, sq_num: g.sq_num });
        }
        self.next = (slot + 1) % PUBLISHERS;
        if let Some(name) = parser::device_name(g.gocb_ref) {
            ctx.sender_identity(IdentityField::DeviceName, name);
        }
        ctx.sender_identity(IdentityField::Description, &format!("goose gocbRef {}", g.gocb_ref));
        ctx.sender_identity(IdentityField::Role, "ied");
    }
}

/// Identifies a publisher by APPID and control block reference (FNV-1a).
fn publisher_key(appid: u16, gocb_ref: &str) -> u64 {
    let seed = 0xcbf2_9ce4_8422_2325u64 ^ u64::from(appid);
    gocb_ref.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn report_error(ctx: &mut Ctx<'_>, e: parser::Error) {
    match e {
        parser::Error::Length { declared, actual } => {
            ctx.violation(ViolationKind::LengthMismatch, format!("GOOSE length field {declared}, frame has {actual} bytes"))
        }
        parser::Error::Short => ctx.violation(ViolationKind::Malformed, "GOOSE frame shorter than its header"),
        parser::Error::Ber(b) => ctx.violation(ViolationKind::Malformed, format!("GOOSE PDU: {b}")),
        parser::Error::NotGoosePdu => ctx.violation(ViolationKind::Malformed, "GOOSE frame without a goosePdu"),
        parser::Error::Field(name) => ctx.violation(ViolationKind::Malformed, format!("GOOSE PDU without a valid {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::parser::tests::frame;
    use super::*;
    use crate::testing::{field_values, mac_ep, operation_events, violations, Flow};
    use palisade_model::{Event, MacAddr};

    /// Feeds frames the publisher sends, a second apart.
    fn run(frames: &[Vec<u8>]) -> Vec<Event> {
        let (publisher, group) = (MacAddr([0, 0xa0, 0xf4, 8, 0x2f, 0x77]), MacAddr([1, 0x0c, 0xcd, 1, 0, 1]));
        Flow::<Goose>::new(mac_ep(publisher), mac_ep(group)).every(1_000_000_000).client_sends(frames).events()
    }

    fn details(events: &[Event]) -> Vec<String> {
        violations(events).into_iter().map(|(_, detail)| detail).collect()
    }

    fn state_changes(events: &[Event]) -> Vec<(u32, String)> {
        operation_events(events).into_iter().map(|o| (o.code, o.target.clone().unwrap_or_default())).collect()
    }

    const REF: &str = "IED1/LLN0$GO$gcb01";

    #[test]
    fn identity_of_the_publisher() {
        let ev = run(&[frame(REF, 1, 1, false)]);
        let facts = field_values(&ev);
        assert!(facts.contains(&(IdentityField::DeviceName, "IED1".into())));
        assert!(facts.contains(&(IdentityField::Description, "goose gocbRef IED1/LLN0$GO$gcb01".into())));
        assert!(facts.contains(&(IdentityField::Role, "ied".into())));
    }

    #[test]
    fn state_changes_and_sequence_anomalies() {
        let ev = run(&[
            frame(REF, 4, 0, false),
            frame(REF, 4, 1, false),
            frame(REF, 4, 1, false), // duplicate (redundant network)
            frame(REF, 5, 0, false), // state change
            frame(REF, 5, 1, false),
            frame(REF, 5, 5, false), // jump
            frame(REF, 5, 2, true),  // goes back, test mode
            frame(REF, 3, 3, false), // stNum goes back
            frame(REF, 1, 1, false), // restart
            frame(REF, 1, 2, false),
        ]);
        assert_eq!(state_changes(&ev), vec![(5, "goose stNum 5 datSet IED1/LLN0$DS1".to_string())]);
        assert_eq!(
            details(&ev),
            vec![
                "GOOSE sqNum jumped from 1 to 5 without a state change (stNum 5, IED1/LLN0$GO$gcb01)",
                "GOOSE sqNum went back from 5 to 2 without a state change (stNum 5, IED1/LLN0$GO$gcb01) (test mode)",
                "GOOSE stNum went back from 5 to 3 (IED1/LLN0$GO$gcb01)",
            ]
        );
    }

    #[test]
    fn publishers_are_tracked_apart() {
        let ev = run(&[frame(REF, 2, 1, false), frame("IED2/LLN0$GO$gcb01", 9, 9, false), frame(REF, 2, 2, false)]);
        assert!(details(&ev).is_empty());
        assert!(state_changes(&ev).is_empty());
    }

    #[test]
    fn malformed_frames_are_reported() {
        let f = frame(REF, 1, 1, false);
        let ev = run(&[f[..4].to_vec(), f[..f.len() - 2].to_vec()]);
        assert_eq!(
            details(&ev),
            vec![
                "GOOSE frame shorter than its header".to_string(),
                format!("GOOSE length field {}, frame has {} bytes", f.len(), f.len() - 2)
            ]
        );
    }
}
