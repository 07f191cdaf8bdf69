//! BACnet/IP: Who-Is / I-Am discovery and ReadProperty of device identity and present values.

use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};

/// BACnet/IP UDP port.
const PORT: u16 = 47808;

/// BACnet object types and properties used here.
const OBJ_ANALOG_INPUT: u32 = 0;
const OBJ_DEVICE: u32 = 8;
const PROP_FIRMWARE_REVISION: u8 = 44;
const PROP_MODEL_NAME: u8 = 70;
const PROP_OBJECT_NAME: u8 = 77;
const PROP_PRESENT_VALUE: u8 = 85;
const PROP_VENDOR_NAME: u8 = 121;

/// A BACnet controller and what it says about itself.
struct Controller {
    host: Host,
    instance: u32,
    vendor_id: u8,
    vendor: &'static str,
    model: &'static str,
    firmware: &'static str,
    name: &'static str,
}

const CONTROLLERS: [Controller; 3] = [
    Controller {
        host: plant::BACNET_DELTA,
        instance: 1301,
        vendor_id: 8,
        vendor: "Delta Controls",
        model: "eBCON",
        firmware: "4.40.1101",
        name: "AHU-1 Controller",
    },
    Controller {
        host: plant::BACNET_JCI,
        instance: 20131,
        vendor_id: 5,
        vendor: "Johnson Controls, Inc.",
        model: "MS-FEC2611-0",
        firmware: "10.1.0.6000",
        name: "Boiler Room FEC",
    },
    Controller {
        host: plant::BACNET_JACE,
        instance: 36001,
        vendor_id: 36,
        vendor: "Tridium",
        model: "JACE-8000",
        firmware: "4.10.0.154",
        name: "JACE_Building_A",
    },
];

/// BVLC header (`function` 0x0a unicast, 0x0b broadcast) and an NPDU without addressing.
fn bvlc(function: u8, expecting_reply: bool, apdu: &[u8]) -> Vec<u8> {
    let mut out = vec![0x81, function];
    out.extend_from_slice(&((apdu.len() + 6) as u16).to_be_bytes());
    out.push(0x01);
    out.push(if expecting_reply { 0x04 } else { 0x00 });
    out.extend_from_slice(apdu);
    out
}

/// BACnet object identifier.
fn object_id(kind: u32, instance: u32) -> [u8; 4] {
    ((kind << 22) | (instance & 0x3f_ffff)).to_be_bytes()
}

/// Context-tagged object identifier (tag 0) and property identifier (tag 1).
fn object_property(kind: u32, instance: u32, property: u8) -> Vec<u8> {
    let mut out = vec![0x0c];
    out.extend_from_slice(&object_id(kind, instance));
    out.extend_from_slice(&[0x19, property]);
    out
}

/// Application-tagged character string (UTF-8).
fn character_string(text: &str) -> Vec<u8> {
    let len = text.len() + 1;
    let mut out = if len <= 4 { vec![0x70 | len as u8] } else { vec![0x75, len as u8] };
    out.push(0);
    out.extend_from_slice(text.as_bytes());
    out
}

/// I-Am of a controller.
fn i_am(c: &Controller) -> Vec<u8> {
    let mut apdu = vec![0x10, 0x00, 0xc4];
    apdu.extend_from_slice(&object_id(OBJ_DEVICE, c.instance));
    apdu.extend_from_slice(&[0x22, 0x05, 0xc4, 0x91, 0x00, 0x21, c.vendor_id]);
    bvlc(0x0b, false, &apdu)
}

/// ReadProperty request and its ComplexAck carrying `value` (already application-tagged).
fn read_property(sim: &mut Sim, ts: i64, client: &Host, c: &Controller, object: (u32, u32), property: u8, value: &[u8]) {
    let invoke = sim.rng.u16() as u8;
    let mut req = vec![0x00, 0x05, invoke, 0x0c];
    req.extend(object_property(object.0, object.1, property));
    let mut ack = vec![0x30, invoke, 0x0c];
    ack.extend(object_property(object.0, object.1, property));
    ack.push(0x3e);
    ack.extend_from_slice(value);
    ack.push(0x3f);
    let delay = sim.jitter(3 * MS, 25 * MS);
    sim.udp_exchange(ts, (client.ip, PORT), (c.host.ip, PORT), &bvlc(0x0a, true, &req), &bvlc(0x0a, false, &ack), delay);
}

/// Schedules the BACnet traffic of the whole capture: the historian discovers the
/// controllers, reads their identity and then trends one analog input of each.
pub(crate) fn generate(sim: &mut Sim) {
    let reader = plant::HISTORIAN;
    let mut t = sim.start + sim.jitter(SEC, 4 * SEC);
    let who_is = bvlc(0x0b, false, &[0x10, 0x08]);
    sim.udp(t, (reader.ip, PORT), (plant::PLANT.broadcast(), PORT), &who_is);
    for c in &CONTROLLERS {
        let delay = sim.jitter(5 * MS, 300 * MS);
        sim.udp(t + delay, (c.host.ip, PORT), (plant::PLANT.broadcast(), PORT), &i_am(c));
    }
    t += SEC;
    for c in &CONTROLLERS {
        let device = (OBJ_DEVICE, c.instance);
        for (property, text) in
            [(PROP_OBJECT_NAME, c.name), (PROP_VENDOR_NAME, c.vendor), (PROP_MODEL_NAME, c.model), (PROP_FIRMWARE_REVISION, c.firmware)]
        {
            read_property(sim, t, &reader, c, device, property, &character_string(text));
            t += sim.jitter(30 * MS, 80 * MS);
        }
    }
    while t < sim.end - SEC {
        for c in &CONTROLLERS {
            let value = 18.0f32 + sim.rng.range(0, 600) as f32 / 100.0;
            let mut real = vec![0x44];
            real.extend_from_slice(&value.to_be_bytes());
            read_property(sim, t, &reader, c, (OBJ_ANALOG_INPUT, 1), PROP_PRESENT_VALUE, &real);
            t += sim.jitter(20 * MS, 60 * MS);
        }
        t += 10 * SEC;
    }
    // Controllers re-announce themselves now and then.
    let mut t = sim.at(0.5);
    for c in &CONTROLLERS {
        t += sim.jitter(SEC, 20 * SEC);
        sim.udp(t, (c.host.ip, PORT), (plant::PLANT.broadcast(), PORT), &i_am(c));
    }
}
