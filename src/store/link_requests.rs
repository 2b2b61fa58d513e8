//! "I lost my link": a lookup is counted against the email's and the client's limits
//! whether or not the email has tickets, and queues one email (with the links) when
//! it has. One batch.

use super::notifications::{claimed, enqueue_sql, OutboxPolicy, Outgoing};
use super::rate_limits::{all_have_room, bind_all, bucket_states, record_hits_sql, state_columns};
use super::rows::Notification;
use super::{prepare, text, time, Database, Params};
use crate::domain::abuse::{BucketState, Limit};
use crate::domain::notification::Kind;
use crate::domain::time::Timestamp;

pub enum LookupOutcome {
    /// Counted; the outbox rows to deliver (none when the email has no tickets).
    Accepted(Vec<Notification>),
    /// A limit is full: every bucket's state, in the order of the limits.
    RateLimited(Vec<BucketState>),
}

pub async fn request_links(
    db: &Database,
    email: &str,
    limits: &[Limit],
    window_start: Timestamp,
    outbox: &OutboxPolicy,
) -> worker::Result<LookupOutcome> {
    let mut p = Params::default();
    let window = p.bind(time(window_start));
    let email_p = p.bind(text(email));
    let now_p = p.bind(time(outbox.now));
    let buckets = bind_all(&mut p, limits, &window);
    let guard = all_have_room(&buckets);
    let check = format!("SELECT ({guard}) AS ok, {}", state_columns(&buckets));
    let notify = enqueue_sql(
        &mut p,
        &[Outgoing {
            kind: Kind::Lookup,
            recipient_sql: &email_p,
        }],
        &format!(
            "FROM (SELECT NULL AS id) t WHERE {guard}
             AND EXISTS (SELECT 1 FROM support_tickets WHERE customer_email = {email_p} COLLATE NOCASE)"
        ),
        "NULL",
        outbox,
    );
    let hits = record_hits_sql(&buckets, &now_p, &guard);
    // The check and the notification see the state before this lookup is counted.
    let results = db
        .batch(vec![
            prepare(db, &check, &p.values)?,
            prepare(db, &notify, &p.values)?,
            prepare(db, &hits, &p.values)?,
        ])
        .await?;
    let row: serde_json::Value = results[0].rows()?.into_iter().next().unwrap_or_default();
    if row["ok"].as_f64() == Some(1.0) {
        return Ok(LookupOutcome::Accepted(claimed(results[1].rows()?)));
    }
    Ok(LookupOutcome::RateLimited(bucket_states(
        &row,
        buckets.len(),
    )))
}
