//! Rate limits in SQL: a bucket is a set of rows in `rate_limit_hits`, and a sliding
//! window is a count of the rows newer than its start. Every limit (creates, replies,
//! lookups) checks and counts through these expressions, on the
//! `(bucket, at)` index.

use super::{int, text, Params};

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
