//! The notification outbox.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::tickets::Ticket;
use super::{int, opt_text, text, Database, Params};
use crate::domain::notification::Kind;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub channel: String,
    pub ticket_id: Option<i64>,
    pub message_id: Option<i64>,
    pub recipient: Option<String>,
    pub link_base: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub sent_at: Option<String>,
}

const COLUMNS: &str =
    "id, kind, channel, ticket_id, message_id, recipient, link_base, status, attempts, \
    next_attempt_at, last_error, created_at, updated_at, sent_at";

/// One outbox row to write in the same batch as the change that causes it.
pub struct Outgoing<'a> {
    pub kind: &'a str,
    pub channel: &'a str,
    /// SQL for the recipient (e.g. `t.customer_email`), or NULL.
    pub recipient_sql: &'a str,
}

/// How new outbox rows start. A row for a configured target is written already
/// claimed by the request that causes it (one attempt counted, leased until
/// `lease_until`), so the delivery right after the response needs no claim of its
/// own; if that delivery never happens, the lease runs out and the cron takes over.
/// A row for an unconfigured target is written as skipped, with the reason.
pub struct OutboxPolicy {
    pub now: String,
    pub lease_until: String,
    /// The base of status links in these notifications.
    pub link_base: String,
    pub email_skip: Option<&'static str>,
    pub webhook_skip: Option<&'static str>,
}

/// `INSERT ... SELECT` of outbox rows for the ticket the `from_where` clause selects
/// (as alias `t`; a clause without a ticket selects `NULL AS id`). `message_sql` gives
/// the message id or NULL.
pub fn enqueue_sql(
    p: &mut Params,
    rows: &[Outgoing<'_>],
    from_where: &str,
    message_sql: &str,
    policy: &OutboxPolicy,
) -> String {
    let now = p.bind(text(&policy.now));
    let lease = p.bind(text(&policy.lease_until));
    let link_base = p.bind(text(&policy.link_base));
    let selects: Vec<String> = rows
        .iter()
        .map(|o| {
            let kind = p.bind(text(o.kind));
            let channel = p.bind(text(o.channel));
            let skip = if o.channel == "webhook" {
                policy.webhook_skip
            } else {
                policy.email_skip
            };
            let state = match skip {
                Some(reason) => format!("'skipped', 0, {now}, {}", p.bind(text(reason))),
                None => format!("'pending', 1, {lease}, NULL"),
            };
            format!(
                "SELECT {kind}, {channel}, t.id, {message_sql}, {}, {link_base}, {state}, {now}, {now} {from_where}",
                o.recipient_sql
            )
        })
        .collect();
    format!(
        "INSERT INTO notifications (kind, channel, ticket_id, message_id, recipient, link_base, status, attempts,
            next_attempt_at, last_error, created_at, updated_at) {} RETURNING {COLUMNS}",
        selects.join(" UNION ALL ")
    )
}

/// The rows a batch wrote that the request itself must deliver.
pub fn claimed(rows: Vec<Notification>) -> Vec<Notification> {
    rows.into_iter().filter(|n| n.status == "pending").collect()
}

/// Claims due rows, up to `limit`: counts the attempt and pushes `next_attempt_at`
/// to `lease_until`, so a second deliverer does not take them while this one works.
/// A deliverer that dies leaves them due again later.
pub async fn claim_due(
    db: &Database,
    now: &str,
    lease_until: &str,
    limit: u32,
) -> worker::Result<Vec<Notification>> {
    let sql = format!(
        "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?2, updated_at = ?1
         WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= ?1
                      ORDER BY id LIMIT ?3)
         RETURNING {COLUMNS}"
    );
    db.prepare(
        &sql,
        &[text(now), text(lease_until), int(Some(limit.into()))],
    )?
    .all()
    .await
}

/// What the claimed rows talk about: their tickets, messages (with staff names) and,
/// for lookups, each recipient's recent tickets. One round trip.
pub struct Context {
    pub tickets: Vec<Ticket>,
    pub messages: Vec<Value>,
    pub by_email: Vec<(String, Vec<Ticket>)>,
}

/// How many tickets a "lost my link" email lists.
const LOOKUP_TICKETS: u32 = 20;

pub async fn context(db: &Database, claimed: &[Notification]) -> worker::Result<Context> {
    let ticket_ids: Vec<i64> = claimed.iter().filter_map(|n| n.ticket_id).collect();
    let message_ids: Vec<i64> = claimed.iter().filter_map(|n| n.message_id).collect();
    let lookup_emails: Vec<String> = claimed
        .iter()
        .filter(|n| n.kind == Kind::Lookup.as_str())
        .filter_map(|n| n.recipient.clone())
        .collect();
    let columns = super::tickets::T_TICKET_COLUMNS.as_str();
    let ids = |ids: &[i64]| text(&serde_json::to_string(ids).unwrap_or_default());
    let tickets = format!(
        "SELECT {columns} FROM support_tickets t WHERE t.id IN (SELECT value FROM json_each(?1))"
    );
    let messages = "SELECT m.id, m.body, m.author_type, s.name AS staff_name FROM ticket_messages m
        LEFT JOIN crm_staff s ON s.id = m.staff_id
        WHERE m.id IN (SELECT value FROM json_each(?1))";
    let mut statements = vec![
        db.prepare(&tickets, &[ids(&ticket_ids)])?,
        db.prepare(messages, &[ids(&message_ids)])?,
    ];
    for email in &lookup_emails {
        statements.push(db.prepare(
            &format!(
                "SELECT {columns} FROM support_tickets t WHERE t.customer_email = ?1 COLLATE NOCASE
                 ORDER BY t.id DESC LIMIT ?2"
            ),
            &[text(email), int(Some(LOOKUP_TICKETS.into()))],
        )?);
    }
    let results = db.batch(statements).await?;
    let mut by_email = Vec::new();
    for (email, result) in lookup_emails.into_iter().zip(&results[2..]) {
        by_email.push((email, result.rows()?));
    }
    Ok(Context {
        tickets: results[0].rows()?,
        messages: results[1].rows()?,
        by_email,
    })
}

/// How one delivery went.
pub enum Delivery {
    Sent,
    /// The target is not configured.
    Skipped(String),
    /// Failed; retried at `retry_at`, or given up when `None`.
    Failed {
        error: String,
        retry_at: Option<String>,
    },
}

/// Records the outcomes of a delivery round, in one batch.
pub async fn record(db: &Database, outcomes: &[(i64, Delivery)], now: &str) -> worker::Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let statements = outcomes
        .iter()
        .map(|(id, outcome)| {
            let (status, error, next, sent_at) = match outcome {
                Delivery::Sent => ("sent", None, None, Some(now)),
                Delivery::Skipped(why) => ("skipped", Some(why.as_str()), None, None),
                Delivery::Failed {
                    error,
                    retry_at: Some(at),
                } => ("pending", Some(error.as_str()), Some(at.as_str()), None),
                Delivery::Failed {
                    error,
                    retry_at: None,
                } => ("failed", Some(error.as_str()), None, None),
            };
            db.prepare(
                "UPDATE notifications SET status = ?2, last_error = ?3,
                   next_attempt_at = COALESCE(?4, next_attempt_at),
                   sent_at = COALESCE(?5, sent_at), updated_at = ?6
                 WHERE id = ?1",
                &[
                    int(Some(*id)),
                    text(status),
                    opt_text(error),
                    opt_text(next),
                    opt_text(sent_at),
                    text(now),
                ],
            )
        })
        .collect::<worker::Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

pub async fn list(
    db: &Database,
    status: Option<&str>,
    limit: u32,
) -> worker::Result<Vec<Notification>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE ?1 IS NULL OR status = ?1
         ORDER BY id DESC LIMIT ?2"
    );
    db.prepare(&sql, &[opt_text(status), int(Some(limit.into()))])?
        .all()
        .await
}

/// Gives a failed or skipped row a fresh set of attempts, claimed by the caller
/// (who delivers it at once) with a lease, as new rows are.
pub async fn retry(
    db: &Database,
    id: i64,
    now: &str,
    lease_until: &str,
) -> worker::Result<Option<Notification>> {
    let sql = format!(
        "UPDATE notifications SET status = 'pending', attempts = 1, next_attempt_at = ?3,
           updated_at = ?2
         WHERE id = ?1 AND status IN ('failed', 'skipped') RETURNING {COLUMNS}"
    );
    db.prepare(&sql, &[int(Some(id)), text(now), text(lease_until)])?
        .first()
        .await
}
