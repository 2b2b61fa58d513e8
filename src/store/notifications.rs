//! The notification outbox: rows written in the same batch as the change that
//! causes them, claimed by deliverers with a lease, and their outcomes.

use super::guard::{Guard, Guarded};
use super::rows::{MessageFacts, Notification, Ticket, NOTIFICATION_COLUMNS, T_TICKET_COLUMNS};
use super::{int, opt_text, text, time, Database, Params};
use crate::domain::notification::{Channel, DeliveryStatus, Kind};
use crate::domain::time::Timestamp;

/// One outbox row to write in the same batch as the change that causes it.
pub struct Outgoing<'a> {
    pub kind: Kind,
    /// SQL for the recipient (e.g. `t.customer_email`), or NULL.
    pub recipient_sql: &'a str,
}

/// How new outbox rows start. A row for a configured target is written already
/// claimed by the request that causes it (one attempt counted, leased until
/// `lease_until`), so the delivery right after the response needs no claim of its
/// own; if that delivery never happens, the lease runs out and the cron takes over.
/// A row for an unconfigured target is written as skipped, with the reason.
pub struct OutboxPolicy {
    pub now: Timestamp,
    pub lease_until: Timestamp,
    /// The configured base of status links (`PUBLIC_BASE_URL`), kept with each row
    /// for the record; emails build their links from the configuration.
    pub link_base: Option<&'static str>,
    pub email_skip: Option<&'static str>,
    pub webhook_skip: Option<&'static str>,
}

impl OutboxPolicy {
    /// Why rows for `channel` are written as skipped, if they are.
    pub fn skip_reason(&self, channel: Channel) -> Option<&'static str> {
        match channel {
            Channel::Email => self.email_skip,
            Channel::Webhook => self.webhook_skip,
        }
    }
}

/// `INSERT ... SELECT` of outbox rows for the ticket the `from_where` clause selects
/// (as alias `t`; a clause without a ticket selects `NULL AS id`). `message_sql` gives
/// the message id or NULL.
pub(super) fn enqueue_sql(
    p: &mut Params,
    rows: &[Outgoing<'_>],
    from_where: &str,
    message_sql: &str,
    policy: &OutboxPolicy,
) -> String {
    let now = p.bind(time(policy.now));
    let lease = p.bind(time(policy.lease_until));
    let link_base = p.bind(opt_text(policy.link_base));
    let selects: Vec<String> = rows
        .iter()
        .map(|o| {
            let channel = o.kind.channel();
            let kind = p.bind(text(o.kind.as_str()));
            let channel_p = p.bind(text(channel.as_str()));
            let state = match policy.skip_reason(channel) {
                Some(reason) => format!(
                    "'{}', 0, {now}, {}",
                    DeliveryStatus::Skipped.as_str(),
                    p.bind(text(reason))
                ),
                None => format!("'{}', 1, {lease}, NULL", DeliveryStatus::Pending.as_str()),
            };
            format!(
                "SELECT {kind}, {channel_p}, t.id, {message_sql}, {}, {link_base}, {state}, {now}, {now} {from_where}",
                o.recipient_sql
            )
        })
        .collect();
    format!(
        "INSERT INTO notifications (kind, channel, ticket_id, message_id, recipient, link_base, status, attempts,
            next_attempt_at, last_error, created_at, updated_at) {} RETURNING {NOTIFICATION_COLUMNS}",
        selects.join(" UNION ALL ")
    )
}

/// The rows a batch wrote that the request itself must deliver.
pub fn claimed(rows: Vec<Notification>) -> Vec<Notification> {
    rows.into_iter()
        .filter(|n| n.status == DeliveryStatus::Pending)
        .collect()
}

/// Claims due rows, up to `limit`: counts the attempt and pushes `next_attempt_at`
/// to `lease_until`, so a second deliverer does not take them while this one works.
/// A deliverer that dies leaves them due again later; a row due again that has used
/// all `max_attempts` (its deliverer died each time, or its facts could not be read)
/// is given up as failed instead of being tried forever. One batch. Answers the
/// claimed rows and how many were given up.
pub async fn claim_due(
    db: &Database,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    max_attempts: u32,
) -> worker::Result<(Vec<Notification>, usize)> {
    let pending = DeliveryStatus::Pending.as_str();
    let params = [
        time(now),
        time(lease_until),
        int(Some(limit.into())),
        int(Some(max_attempts.into())),
    ];
    let give_up = format!(
        "UPDATE notifications SET status = '{}',
           last_error = COALESCE(last_error, 'no delivery finished within its lease'), updated_at = ?1
         WHERE status = '{pending}' AND next_attempt_at <= ?1 AND attempts >= ?4",
        DeliveryStatus::Failed.as_str()
    );
    let claim = format!(
        "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?2, updated_at = ?1
         WHERE id IN (SELECT id FROM notifications
                      WHERE status = '{pending}' AND next_attempt_at <= ?1 AND attempts < ?4
                      ORDER BY id LIMIT ?3)
         RETURNING {NOTIFICATION_COLUMNS}"
    );
    let results = db
        .batch(vec![
            db.prepare(&give_up, &params)?,
            db.prepare(&claim, &params)?,
        ])
        .await?;
    Ok((results[1].rows()?, results[0].changes()))
}

/// What claimed rows talk about: their tickets, messages (with staff names) and,
/// for lookups, each recipient's recent tickets.
pub struct OutboxFacts {
    pub tickets: Vec<Ticket>,
    pub messages: Vec<MessageFacts>,
    pub by_email: Vec<(String, Vec<Ticket>)>,
}

impl OutboxFacts {
    pub fn ticket(&self, id: Option<i64>) -> Option<&Ticket> {
        self.tickets.iter().find(|t| Some(t.id) == id)
    }

    pub fn message(&self, id: Option<i64>) -> Option<&MessageFacts> {
        self.messages.iter().find(|m| Some(m.id) == id)
    }

    /// The recent tickets of a lookup's recipient.
    pub fn tickets_of(&self, email: &str) -> &[Ticket] {
        self.by_email
            .iter()
            .find(|(e, _)| e == email)
            .map_or(&[][..], |(_, t)| t.as_slice())
    }
}

/// How many tickets a "lost my link" email lists.
const LOOKUP_TICKETS: u32 = 20;

/// The facts of every claimed row, in one round trip.
pub async fn facts(db: &Database, claimed: &[Notification]) -> worker::Result<OutboxFacts> {
    let ticket_ids: Vec<i64> = claimed.iter().filter_map(|n| n.ticket_id).collect();
    let message_ids: Vec<i64> = claimed.iter().filter_map(|n| n.message_id).collect();
    let lookup_emails: Vec<String> = claimed
        .iter()
        .filter(|n| n.kind == Kind::Lookup)
        .filter_map(|n| n.recipient.clone())
        .collect();
    let columns = T_TICKET_COLUMNS.as_str();
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
    Ok(OutboxFacts {
        tickets: results[0].rows()?,
        messages: results[1].rows()?,
        by_email,
    })
}

/// How one delivery went.
pub enum Delivery {
    Sent,
    /// The target is not configured, or nothing is left to send.
    Skipped(String),
    /// Failed; retried at `retry_at`, or given up when `None`.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// Records the outcomes of a delivery round, in one batch.
pub async fn record(
    db: &Database,
    outcomes: &[(i64, Delivery)],
    now: Timestamp,
) -> worker::Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let statements = outcomes
        .iter()
        .map(|(id, outcome)| {
            let (status, error, next, sent_at) = match outcome {
                Delivery::Sent => (DeliveryStatus::Sent, None, None, Some(now)),
                Delivery::Skipped(why) => (DeliveryStatus::Skipped, Some(why.as_str()), None, None),
                Delivery::Failed {
                    error,
                    retry_at: Some(at),
                } => (
                    DeliveryStatus::Pending,
                    Some(error.as_str()),
                    Some(*at),
                    None,
                ),
                Delivery::Failed {
                    error,
                    retry_at: None,
                } => (DeliveryStatus::Failed, Some(error.as_str()), None, None),
            };
            db.prepare(
                "UPDATE notifications SET status = ?2, last_error = ?3,
                   next_attempt_at = COALESCE(?4, next_attempt_at),
                   sent_at = COALESCE(?5, sent_at), updated_at = ?6
                 WHERE id = ?1",
                &[
                    int(Some(*id)),
                    text(status.as_str()),
                    opt_text(error),
                    next.map_or(serde_json::Value::Null, time),
                    sent_at.map_or(serde_json::Value::Null, time),
                    time(now),
                ],
            )
        })
        .collect::<worker::Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

/// The outbox, newest first, optionally of one status.
pub async fn list(
    db: &Database,
    guard: &Guard<'_>,
    status: Option<DeliveryStatus>,
    limit: u32,
) -> worker::Result<Guarded<Vec<Notification>>> {
    let mut params = vec![
        opt_text(status.map(DeliveryStatus::as_str)),
        int(Some(limit.into())),
    ];
    let sql = format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE (?1 IS NULL OR status = ?1)
           AND {}
         ORDER BY id DESC LIMIT ?2",
        guard.condition(&mut params)
    );
    let list = db.prepare(&sql, &params)?;
    guard.run(db, vec![list]).await?.read(|r| r[0].rows())
}

/// Gives a failed or skipped row a fresh set of attempts, claimed by the caller
/// (who delivers it at once) with a lease, as new rows are.
pub async fn retry(
    db: &Database,
    guard: &Guard<'_>,
    id: i64,
    now: Timestamp,
    lease_until: Timestamp,
) -> worker::Result<Guarded<Option<Notification>>> {
    let mut params = vec![int(Some(id)), time(now), time(lease_until)];
    let sql = format!(
        "UPDATE notifications SET status = '{}', attempts = 1, next_attempt_at = ?3,
           updated_at = ?2
         WHERE id = ?1 AND status IN ('{}', '{}') AND {} RETURNING {NOTIFICATION_COLUMNS}",
        DeliveryStatus::Pending.as_str(),
        DeliveryStatus::Failed.as_str(),
        DeliveryStatus::Skipped.as_str(),
        guard.condition(&mut params)
    );
    let update = db.prepare(&sql, &params)?;
    guard
        .run(db, vec![update])
        .await?
        .read(|r| Ok(r[0].rows()?.into_iter().next()))
}
