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

    pub fn year(self) -> i32 {
        self.0.year()
    }

    pub fn rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
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
    }
}
