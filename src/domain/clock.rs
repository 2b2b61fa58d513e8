//! The worker's one clock. Every timestamp the service writes comes from here, as
//! RFC 3339 UTC with millisecond precision, so stored text sorts chronologically.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};

/// A point in time as the request sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now(DateTime<Utc>);

impl Now {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(at)
    }

    /// Reads a test clock override (`X-Test-Now: 2026-12-31T23:59:59Z`). The caller
    /// honours it only when the `ALLOW_TEST_CLOCK` var is set, never in production.
    pub fn parse_override(value: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(value.trim())
            .ok()
            .map(|t| Self(t.with_timezone(&Utc)))
    }

    pub fn plus_seconds(self, seconds: u64) -> Self {
        Self(
            self.0
                .checked_add_signed(seconds_delta(seconds))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    pub fn minus_seconds(self, seconds: u64) -> Self {
        Self(
            self.0
                .checked_sub_signed(seconds_delta(seconds))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        )
    }

    /// Whole seconds from `self` until `later` (0 if it has passed), rounded up.
    pub fn seconds_until(self, later: &str) -> u64 {
        Self::parse_override(later)
            .map(|later| (later.0 - self.0).num_milliseconds())
            .filter(|ms| *ms > 0)
            .map_or(0, |ms| (ms as u64).div_ceil(1000))
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    pub fn rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// Durations here come from clamped configuration; saturate rather than panic.
fn seconds_delta(seconds: u64) -> chrono::TimeDelta {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    chrono::TimeDelta::try_seconds(seconds).unwrap_or(chrono::TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_millis() {
        let now = Now::parse_override("2026-12-31T23:59:59.5+02:00").unwrap();
        assert_eq!(now.rfc3339(), "2026-12-31T21:59:59.500Z");
        assert_eq!(now.year(), 2026);
        let new_year = Now::parse_override("2027-01-01T00:00:00Z").unwrap();
        assert_eq!(new_year.year(), 2027);
        assert!(Now::parse_override("yesterday").is_none());
        assert_eq!(
            new_year.plus_seconds(90).rfc3339(),
            "2027-01-01T00:01:30.000Z"
        );
        assert_eq!(
            new_year.minus_seconds(1).rfc3339(),
            "2026-12-31T23:59:59.000Z"
        );
        assert_eq!(new_year.seconds_until("2027-01-01T00:00:01.200Z"), 2);
        assert_eq!(new_year.seconds_until("2026-01-01T00:00:00Z"), 0);
    }
}
