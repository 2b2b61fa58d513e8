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

/// Every limit's placeholders; `window_start` is a placeholder already bound.
pub(super) fn bind_all(p: &mut Params, limits: &[Limit], window_start: &str) -> Vec<BucketSql> {
    limits
        .iter()
        .map(|l| BucketSql::bind(p, &l.bucket, l.max, window_start))
        .collect()
}

/// True while every bucket has room (always, without buckets).
pub(super) fn all_have_room(buckets: &[BucketSql]) -> String {
    if buckets.is_empty() {
        return "1".to_owned();
    }
    buckets
        .iter()
        .map(BucketSql::has_room)
        .collect::<Vec<_>>()
        .join(" AND ")
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

/// Counts one hit at `now` in each bucket of `list` (a bound JSON array of bucket
/// names) when `condition` holds, and returns each bucket's state after it: the hits
/// in the window (this one included) and the oldest of them, whose expiry frees a
/// slot (a bucket that took a hit had room, so the next slot is the oldest hit's).
/// Read back with `returned_states`.
pub(super) fn record_hits_returning_states(
    list: &str,
    now: &str,
    window_start: &str,
    condition: &str,
) -> String {
    let in_window = format!(
        "FROM rate_limit_hits w WHERE w.bucket = rate_limit_hits.bucket AND w.at > {window_start}"
    );
    format!(
        "INSERT INTO rate_limit_hits (bucket, at)
             SELECT b.value, {now} FROM json_each({list}) b WHERE {condition}
             RETURNING bucket, (SELECT count(*) {in_window}) AS used, (SELECT min(w.at) {in_window}) AS frees"
    )
}

/// The buckets' states from `record_hits_returning_states`' rows, in the order of
/// `limits`.
pub(super) fn returned_states(rows: &[Value], limits: &[Limit]) -> Vec<BucketState> {
    limits
        .iter()
        .map(|limit| {
            let row = rows
                .iter()
                .find(|r| r["bucket"].as_str() == Some(limit.bucket.as_str()));
            BucketState {
                used: row.and_then(|r| r["used"].as_f64()).unwrap_or(0.0) as u32,
                frees_at: row
                    .and_then(|r| r["frees"].as_str())
                    .and_then(Timestamp::parse),
            }
        })
        .collect()
}
