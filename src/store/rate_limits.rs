//! Rate limits in SQL: a bucket is a set of rows in `rate_limit_hits`, and a sliding
//! window is a count of the rows newer than its start. Every limit (creates, replies,
//! lookups) checks and counts through these expressions, on the
//! `(bucket, at)` index.

use serde_json::Value;

use super::{int, text, Params};
use crate::domain::abuse::{BucketState, Limit};
use crate::domain::time::Timestamp;

/// One bucket's placeholders inside a statement.
pub(super) struct BucketSql {
    bucket: String,
    max: String,
    /// The window's start (hits at or before it no longer count).
    window_start: String,
}

impl BucketSql {
    /// Binds the bucket and its maximum; `window_start` is a placeholder already bound
    /// (statements share it across buckets).
    pub(super) fn bind(p: &mut Params, bucket: &str, max: u32, window_start: &str) -> Self {
        BucketSql {
            bucket: p.bind(text(bucket)),
            max: p.bind(int(Some(max.into()))),
            window_start: window_start.to_owned(),
        }
    }

    /// The bucket's name (for recording a hit).
    pub(super) fn bucket(&self) -> &str {
        &self.bucket
    }

    fn hits(&self) -> String {
        format!(
            "FROM rate_limit_hits WHERE bucket = {} AND at > {}",
            self.bucket, self.window_start
        )
    }

    /// How many hits are in the window.
    pub(super) fn used(&self) -> String {
        format!("(SELECT count(*) {})", self.hits())
    }

    /// Whether one more hit fits.
    pub(super) fn has_room(&self) -> String {
        format!("{} < {}", self.used(), self.max)
    }

    /// The hit whose expiry frees the next slot: for a full bucket, the one that must
    /// leave the window before another fits; for a bucket with room, the oldest.
    pub(super) fn frees_at(&self) -> String {
        let hits = self.hits();
        format!(
            "(SELECT at {hits} ORDER BY at LIMIT 1 OFFSET max(0, (SELECT count(*) {hits}) - {}))",
            self.max
        )
    }
}

/// Several buckets checked, counted and reported together (a customer's reply or
/// upload counts against its ticket's and its IP's).
pub(super) struct Buckets(Vec<BucketSql>);

impl Buckets {
    pub(super) fn bind(p: &mut Params, limits: &[Limit], window_start: &str) -> Self {
        Buckets(
            limits
                .iter()
                .map(|l| BucketSql::bind(p, &l.bucket, l.max, window_start))
                .collect(),
        )
    }

    /// Whether each bucket has room for one more hit (`1` without buckets).
    pub(super) fn have_room(&self) -> String {
        if self.0.is_empty() {
            return "1".to_owned();
        }
        self.0
            .iter()
            .map(BucketSql::has_room)
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// Records one hit in every bucket when `condition` holds (`None` without buckets).
    pub(super) fn record(&self, now: &str, condition: &str) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let names: Vec<String> = self
            .0
            .iter()
            .map(|b| format!("SELECT {} AS b", b.bucket()))
            .collect();
        Some(format!(
            "INSERT INTO rate_limit_hits (bucket, at) SELECT b, {now} FROM ({}) WHERE {condition}",
            names.join(" UNION ALL ")
        ))
    }

    /// `used_0, frees_0, ...` columns for a state query (`NULL AS no_buckets` without).
    pub(super) fn state_columns(&self) -> String {
        if self.0.is_empty() {
            return "NULL AS no_buckets".to_owned();
        }
        self.0
            .iter()
            .enumerate()
            .map(|(i, b)| format!("{} AS used_{i}, {} AS frees_{i}", b.used(), b.frees_at()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The buckets' states from a row with `state_columns`.
    pub(super) fn states(&self, row: &Value) -> Vec<BucketState> {
        (0..self.0.len())
            .map(|i| BucketState {
                used: row[format!("used_{i}")].as_f64().unwrap_or(0.0) as u32,
                frees_at: row[format!("frees_{i}")]
                    .as_str()
                    .and_then(Timestamp::parse),
            })
            .collect()
    }
}
