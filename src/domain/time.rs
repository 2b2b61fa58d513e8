//! Time as the service writes it: RFC 3339 UTC with millisecond precision
//! (`2026-12-31T23:59:59.500Z`), the one format every stored timestamp has, so stored
//! text sorts chronologically and compares as text inside SQL.
//!
//! A `Timestamp` is a count of milliseconds. Rows carry several timestamps each and
//! a list reads dozens of rows, so the canonical form is read and written by hand
//! (a fixed layout of digits); any other RFC 3339 form (an offset, more or fewer
//! fraction digits) goes through chrono.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_DAY: i64 = 86_400_000;

/// A point in time, to the millisecond, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time (the runtime's clock; in Workers it only advances across I/O).
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    /// Milliseconds since the Unix epoch (the runtime's `Date.now()` form).
    pub fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Reads any RFC 3339 timestamp (offsets are converted to UTC, digits past the
    /// millisecond dropped). Used for stored values, query parameters and the test
    /// clock alike.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        parse_canonical(text.as_bytes()).or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| Self(t.timestamp_millis()))
        })
    }

    pub fn plus_seconds(self, seconds: u64) -> Self {
        Self(self.0.saturating_add(seconds_to_ms(seconds)))
    }

    pub fn minus_seconds(self, seconds: u64) -> Self {
        Self(self.0.saturating_sub(seconds_to_ms(seconds)))
    }

    /// Whole seconds from `self` until `later` (0 if it has passed), rounded up.
    pub fn seconds_until(self, later: Timestamp) -> u64 {
        let ms = later.0.saturating_sub(self.0);
        if ms <= 0 {
            0
        } else {
            (ms as u64).div_ceil(MS_PER_SECOND as u64)
        }
    }

    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> u64 {
        u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0)
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(MS_PER_SECOND)
    }

    pub fn year(self) -> i32 {
        self.date().year()
    }

    fn date(self) -> NaiveDate {
        let days = self.0.div_euclid(MS_PER_DAY);
        i32::try_from(days)
            .ok()
            .and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + UNIX_EPOCH_DAYS_FROM_CE))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The canonical text: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn rfc3339(self) -> String {
        let date = self.date();
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let year = date.year();
        if !(0..=9999).contains(&year) {
            // Outside four-digit years (never written by the service): chrono's form.
            return DateTime::<Utc>::from_timestamp_millis(self.0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default();
        }
        let mut out = *b"0000-00-00T00:00:00.000Z";
        write_digits(&mut out[0..4], year as u32);
        write_digits(&mut out[5..7], date.month());
        write_digits(&mut out[8..10], date.day());
        let seconds = (ms_of_day / MS_PER_SECOND) as u32;
        write_digits(&mut out[11..13], seconds / 3600);
        write_digits(&mut out[14..16], seconds / 60 % 60);
        write_digits(&mut out[17..19], seconds % 60);
        write_digits(&mut out[20..23], (ms_of_day % MS_PER_SECOND) as u32);
        // Only ASCII digits and separators were written.
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }

    /// For a person reading a page: `2 Dec 2026, 08:24 UTC`.
    pub fn human(self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let date = self.date();
        let minutes = self.0.rem_euclid(MS_PER_DAY) / 60_000;
        format!(
            "{} {} {}, {:02}:{:02} UTC",
            date.day(),
            MONTHS[date.month0() as usize],
            date.year(),
            minutes / 60,
            minutes % 60
        )
    }
}

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

fn seconds_to_ms(seconds: u64) -> i64 {
    i64::try_from(seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(MS_PER_SECOND)
}

fn write_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The canonical form only; `None` sends anything else to chrono.
fn parse_canonical(b: &[u8]) -> Option<Timestamp> {
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_milli_opt(
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        number(20..23)?,
    )?;
    let days = i64::from(date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE);
    let ms = i64::from(time.num_seconds_from_midnight()) * MS_PER_SECOND
        + i64::from(time.nanosecond() / 1_000_000);
    Some(Timestamp(days * MS_PER_DAY + ms))
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn a_person_reads_day_month_year_and_minutes_in_utc() {
        assert_eq!(
            at("2026-12-02T08:04:59.999Z").human(),
            "2 Dec 2026, 08:04 UTC"
        );
        assert_eq!(
            at("2027-01-31T23:59:00.000Z").human(),
            "31 Jan 2027, 23:59 UTC"
        );
    }

    #[test]
    fn formats_utc_with_millis() {
        let t = at("2026-12-31T23:59:59.5+02:00");
        assert_eq!(t.rfc3339(), "2026-12-31T21:59:59.500Z");
        assert_eq!(t.year(), 2026);
        let new_year = at("2027-01-01T00:00:00Z");
        assert_eq!(new_year.year(), 2027);
        assert!(Timestamp::parse("yesterday").is_none());
        assert!(Timestamp::parse("2026-02-30T00:00:00.000Z").is_none());
        assert_eq!(
            new_year.plus_seconds(90).rfc3339(),
            "2027-01-01T00:01:30.000Z"
        );
        assert_eq!(
            new_year.minus_seconds(1).rfc3339(),
            "2026-12-31T23:59:59.000Z"
        );
        assert_eq!(new_year.seconds_until(at("2027-01-01T00:00:01.200Z")), 2);
        assert_eq!(new_year.seconds_until(at("2026-01-01T00:00:00Z")), 0);
        assert_eq!(new_year.unix_seconds(), 1_798_761_600);
    }

    #[test]
    fn the_canonical_form_round_trips_and_agrees_with_chrono() {
        for text in [
            "1970-01-01T00:00:00.000Z",
            "2000-02-29T12:34:56.789Z",
            "2026-11-24T11:37:00.360Z",
            "1969-12-31T23:59:59.999Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            let fast = at(text);
            let slow = DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_millis();
            assert_eq!(fast.0, slow, "{text}");
            assert_eq!(fast.rfc3339(), text);
        }
        // Sub-millisecond digits are dropped, not rounded.
        assert_eq!(
            at("2026-01-01T00:00:00.123999Z").rfc3339(),
            "2026-01-01T00:00:00.123Z"
        );
    }

    #[test]
    fn serde_uses_the_canonical_text() {
        let t: Timestamp = serde_json::from_str("\"2026-01-02T03:04:05.006Z\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-01-02T03:04:05.006Z\""
        );
        assert!(serde_json::from_str::<Timestamp>("\"soon\"").is_err());
    }

    #[test]
    fn arithmetic_saturates() {
        let t = at("2026-01-01T00:00:00Z");
        assert!(t.plus_seconds(u64::MAX) > t);
        assert!(t.minus_seconds(u64::MAX) < t);
    }
}
