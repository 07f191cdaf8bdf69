//! Names of BACnet object types and of the common property identifiers
//! (ANSI/ASHRAE 135 clause 21 enumerations), for operation targets such as
//! "analog-value,3 present-value".

use std::fmt;

/// Object type names, indexed by type (0 to 64).
const OBJECT_TYPES: &[&str] = &[
    "analog-input",
    "analog-output",
    "analog-value",
    "binary-input",
    "binary-output",
    "binary-value",
    "calendar",
    "command",
    "device",
    "event-enrollment",
    "file",
    "group",
    "loop",
    "multi-state-input",
    "multi-state-output",
    "notification-class",
    "program",
    "schedule",
    "averaging",
    "multi-state-value",
    "trend-log",
    "life-safety-point",
    "life-safety-zone",
    "accumulator",
    "pulse-converter",
    "event-log",
    "global-group",
    "trend-log-multiple",
    "load-control",
    "structured-view",
    "access-door",
    "timer",
    "access-credential",
    "access-point",
    "access-rights",
    "access-user",
    "access-zone",
    "credential-data-input",
    "network-security",
    "bitstring-value",
    "characterstring-value",
    "date-pattern-value",
    "date-value",
    "datetime-pattern-value",
    "datetime-value",
    "integer-value",
    "large-analog-value",
    "octetstring-value",
    "positive-integer-value",
    "time-pattern-value",
    "time-value",
    "notification-forwarder",
    "alert-enrollment",
    "channel",
    "lighting-output",
    "binary-lighting-output",
    "network-port",
    "elevator-group",
    "escalator",
    "lift",
    "staging",
    "audit-log",
    "audit-reporter",
    "color",
    "color-temperature",
];

/// `(property identifier, name)` of commonly used properties, sorted by id.
const PROPERTIES: &[(u32, &str)] = &[
    (4, "active-text"),
    (8, "all"),
    (12, "application-software-version"),
    (17, "notification-class"),
    (22, "cov-increment"),
    (24, "daylights-savings-status"),
    (28, "description"),
    (30, "device-address-binding"),
    (36, "event-state"),
    (44, "firmware-revision"),
    (56, "local-date"),
    (57, "local-time"),
    (58, "location"),
    (62, "max-apdu-length-accepted"),
    (63, "max-info-frames"),
    (64, "max-master"),
    (65, "max-pres-value"),
    (70, "model-name"),
    (72, "notify-type"),
    (74, "number-of-states"),
    (75, "object-identifier"),
    (76, "object-list"),
    (77, "object-name"),
    (79, "object-type"),
    (81, "out-of-service"),
    (85, "present-value"),
    (87, "priority-array"),
    (96, "protocol-object-types-supported"),
    (97, "protocol-services-supported"),
    (98, "protocol-version"),
    (103, "reliability"),
    (104, "relinquish-default"),
    (107, "segmentation-supported"),
    (111, "status-flags"),
    (112, "system-status"),
    (117, "units"),
    (120, "vendor-identifier"),
    (121, "vendor-name"),
    (139, "protocol-revision"),
    (155, "database-revision"),
    (168, "profile-name"),
    (371, "property-list"),
];

/// The standard name of an object type.
pub fn object_type(kind: u16) -> Option<&'static str> {
    OBJECT_TYPES.get(usize::from(kind)).copied()
}

/// A property identifier, shown by name when it is a common one.
pub struct Property(pub u32);

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match PROPERTIES.binary_search_by_key(&self.0, |&(id, _)| id) {
            Ok(i) => f.write_str(PROPERTIES.get(i).map_or("", |p| p.1)),
            Err(_) => write!(f, "property-{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(PROPERTIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(object_type(2), Some("analog-value"));
        assert_eq!(object_type(8), Some("device"));
        assert_eq!(object_type(999), None);
        assert_eq!(Property(85).to_string(), "present-value");
        assert_eq!(Property(9999).to_string(), "property-9999");
    }
}
