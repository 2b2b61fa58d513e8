//! Housekeeping run by the cron trigger: rows that can no longer matter.

use super::{time, Database};
use crate::domain::time::Timestamp;

/// What was removed, per table.
pub struct Cleanup {
    pub rate_limit_hits: usize,
    pub idempotency_keys: usize,
    pub revoked_sessions: usize,
    pub login_attempts: usize,
}

/// Deletes expired rate-limit hits, idempotency records, revoked-session markers and
/// login throttle windows, in one batch.
pub async fn clean_up(
    db: &Database,
    now: Timestamp,
    rate_window_start: Timestamp,
    login_window_start: Timestamp,
) -> worker::Result<Cleanup> {
    let statements = [
        (
            "DELETE FROM rate_limit_hits WHERE at <= ?1",
            rate_window_start,
        ),
        ("DELETE FROM idempotency_keys WHERE expires_at <= ?1", now),
        ("DELETE FROM revoked_sessions WHERE expires_at <= ?1", now),
        (
            "DELETE FROM login_attempts WHERE window_started_at <= ?1",
            login_window_start,
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
    })
}
