//! Housekeeping run by the cron trigger: rows that can no longer matter.

use super::{time, Database};
use crate::domain::time::Timestamp;

/// Where each kind of row stops mattering.
pub struct Cutoffs {
    pub now: Timestamp,
    /// Rate-limit hits at or before it are out of every window.
    pub rate_window_start: Timestamp,
    /// Login throttle windows that started at or before it are over.
    pub login_window_start: Timestamp,
    /// Sent and skipped notifications last touched before it are pruned.
    pub notifications_before: Timestamp,
}

/// What was removed, per table.
#[derive(serde::Serialize)]
pub struct Cleanup {
    pub rate_limit_hits: usize,
    pub idempotency_keys: usize,
    pub revoked_sessions: usize,
    pub login_attempts: usize,
    pub notifications: usize,
}

/// Deletes expired rate-limit hits, idempotency records, revoked-session markers,
/// login throttle windows and old delivered notifications, in one batch.
pub async fn clean_up(db: &Database, c: &Cutoffs) -> worker::Result<Cleanup> {
    let statements = [
        (
            "DELETE FROM rate_limit_hits WHERE at <= ?1",
            c.rate_window_start,
        ),
        ("DELETE FROM idempotency_keys WHERE expires_at <= ?1", c.now),
        ("DELETE FROM revoked_sessions WHERE expires_at <= ?1", c.now),
        (
            "DELETE FROM login_attempts WHERE window_started_at <= ?1",
            c.login_window_start,
        ),
        (
            "DELETE FROM notifications WHERE status IN ('sent', 'skipped') AND updated_at < ?1",
            c.notifications_before,
        ),
    ]
    .into_iter()
    .map(|(sql, cutoff)| db.prepare(sql, &[time(cutoff)]))
    .collect::<worker::Result<Vec<_>>>()?;
    let results = db.batch(statements).await?;
    let changes = |i: usize| results.get(i).map_or(0, |r| r.changes());
    Ok(Cleanup {
        rate_limit_hits: changes(0),
        idempotency_keys: changes(1),
        revoked_sessions: changes(2),
        login_attempts: changes(3),
        notifications: changes(4),
    })
}
