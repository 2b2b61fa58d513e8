//! Rate limits in SQL: a bucket is a set of rows in `rate_limit_hits`, and a sliding
//! window is a count of the rows newer than its start. Every limit (creates, replies,
//! lookups) checks and counts through these expressions, on the
//! `(bucket, at)` index.

use serde_json::Value;

use super::{int, text, Params};
use crate::domain::abuse::BucketState;
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

/// `used_<i>, frees_<i>` columns of every bucket, for a statement that explains a
/// refusal (read back with `bucket_states`).
pub(super) fn state_columns(buckets: &[BucketSql]) -> String {
    buckets
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{} AS used_{i}, {} AS frees_{i}", b.used(), b.frees_at()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The buckets' states from a row with `state_columns`.
pub(super) fn bucket_states(row: &Value, count: usize) -> Vec<BucketState> {
    (0..count)
        .map(|i| BucketState {
            used: row[format!("used_{i}")].as_f64().unwrap_or(0.0) as u32,
            frees_at: row[format!("frees_{i}")]
                .as_str()
                .and_then(Timestamp::parse),
        })
        .collect()
}

/// Counts one hit in every bucket, at `now`, when `condition` holds.
pub(super) fn record_hits_sql(buckets: &[BucketSql], now: &str, condition: &str) -> String {
    let names: Vec<String> = buckets
        .iter()
        .map(|b| format!("SELECT {} AS b", b.bucket))
        .collect();
    format!(
        "INSERT INTO rate_limit_hits (bucket, at) SELECT b, {now} FROM ({}) WHERE {condition}",
        names.join(" UNION ALL ")
    )
}
