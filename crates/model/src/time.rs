//! Capture timestamps.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A capture timestamp in nanoseconds since the Unix epoch (UTC).
///
/// Times in Palisade are the times written in the capture, never the wall
/// clock, so analysing the same file twice gives the same answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from seconds and nanoseconds.
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(i64::from(nanos)))
    }

    /// Whole seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// Nanoseconds since the epoch.
    pub fn nanos(self) -> i64 {
        self.0
    }

    /// RFC 3339 form with microsecond precision, e.g. `2025-01-14T10:00:00.000000Z`.
    pub fn to_rfc3339(self) -> String {
        let secs = self.secs();
        let nanos = self.0.rem_euclid(1_000_000_000) as u32;
        match chrono::DateTime::from_timestamp(secs, nanos) {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            None => String::from("1970-01-01T00:00:00.000000Z"),
        }
    }

    /// Parses an RFC 3339 time (as written by [`Timestamp::to_rfc3339`]).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
        Some(Timestamp::from_parts(t.timestamp(), t.timestamp_subsec_nanos()))
    }

    /// The later of two timestamps.
    pub fn max(self, other: Self) -> Self {
        if other.0 > self.0 {
            other
        } else {
            self
        }
    }

    /// The earlier of two timestamps.
    pub fn min(self, other: Self) -> Self {
        if other.0 < self.0 {
            other
        } else {
            self
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&text).ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::from_parts(1_736_848_800, 123_456_000);
        assert_eq!(t.to_rfc3339(), "2025-01-14T10:00:00.123456Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
    }
}
