//! The conversation on a ticket: customers' replies and staff messages.

use serde::de::IgnoredAny;

use super::notifications::{claimed, enqueue_sql, OutboxPolicy, Outgoing};
use super::rate_limits::{bucket_states, record_hits_sql, state_columns, BucketSql};
use super::rows::{Message, Notification, MESSAGE_COLUMNS};
use super::{int, prepare, status_in, text, time, Database, Params};
use crate::domain::abuse::{BucketState, Limit};
use crate::domain::lifecycle::{customer_reply_effect, statuses_where_reply, Action, ReplyEffect};
use crate::domain::notification::Kind;
use crate::domain::ticket::{Actor, MessageAuthor, Status};
use crate::domain::time::Timestamp;

pub enum ReplyOutcome {
    /// The message, whether the reply reopened the ticket, and the outbox rows to deliver.
    Added {
        message: Message,
        reopened: bool,
        notifications: Vec<Notification>,
    },
    Closed,
    /// A limit is full: every bucket's state, in the order of the limits.
    RateLimited(Vec<BucketState>),
}

/// A customer's reply, in one batch: reopens a resolved ticket (with an event),
/// adds the message, queues the team's notification and counts the reply against
/// the ticket's limit. Every statement checks the same guard (the status takes
/// replies, the bucket has room), evaluated before the hit is counted, so they all
/// agree. What a reply does in each status is the domain's (`customer_reply_effect`).
pub async fn customer_reply(
    db: &Database,
    ticket_id: i64,
    body: &str,
    limits: &[Limit],
    window_start: Timestamp,
    outbox: &OutboxPolicy,
) -> worker::Result<ReplyOutcome> {
    // Shared parameters: ?1 ticket, ?2 now, ?3 window start, then the buckets'.
    let mut p = Params::default();
    p.bind(int(Some(ticket_id)));
    p.bind(time(outbox.now));
    let start = p.bind(time(window_start));
    let buckets: Vec<BucketSql> = limits
        .iter()
        .map(|l| BucketSql::bind(&mut p, &l.bucket, l.max, &start))
        .collect();
    let shared = p.values;

    let room: Vec<String> = buckets.iter().map(BucketSql::has_room).collect();
    let guard = format!(
        "t.id = ?1 AND NOT {} AND {}",
        status_in(&statuses_where_reply(ReplyEffect::Refused)),
        room.join(" AND ")
    );
    let reopens = status_in(&statuses_where_reply(ReplyEffect::Reopens));
    let reopen_to = format!(
        "CASE WHEN t.assigned_to IS NULL THEN '{}' ELSE '{}' END",
        Action::Reopen.target(false).as_str(),
        Action::Reopen.target(true).as_str()
    );
    let reopen_event = format!(
        "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
         SELECT t.id, '{}', '{}', NULL,
                json_object('from', t.status, 'to', {reopen_to}, 'reason', 'customer_reply'), ?2
         FROM support_tickets t WHERE {guard} AND {reopens} RETURNING id",
        Action::Reopen.past_tense(),
        Actor::Customer.kind()
    );
    let touch = format!(
        "UPDATE support_tickets AS t SET
           status = CASE WHEN {reopens} THEN {reopen_to} ELSE t.status END,
           resolved_at = CASE WHEN {reopens} THEN NULL ELSE t.resolved_at END,
           version = t.version + 1, updated_at = ?2
         WHERE {guard} RETURNING status"
    );
    let mut p = Params {
        values: shared.clone(),
    };
    let body_param = p.bind(text(body));
    let insert = format!(
        "INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at)
         SELECT t.id, '{}', NULL, {body_param}, 0, ?2 FROM support_tickets t WHERE {guard}
         RETURNING {}",
        MessageAuthor::Customer.as_str(),
        MESSAGE_COLUMNS.as_str()
    );
    let insert_params = p.values;
    let mut p = Params {
        values: shared.clone(),
    };
    let notify = enqueue_sql(
        &mut p,
        &[Outgoing {
            kind: Kind::CustomerReply,
            recipient_sql: "NULL",
        }],
        &format!("FROM support_tickets t WHERE {guard}"),
        "(SELECT max(id) FROM ticket_messages WHERE ticket_id = ?1)",
        outbox,
    );
    let notify_params = p.values;
    let hit = record_hits_sql(
        &buckets,
        "?2",
        &format!("EXISTS (SELECT 1 FROM support_tickets t WHERE {guard})"),
    );
    let state = format!(
        "SELECT t.status, {} FROM support_tickets t WHERE t.id = ?1",
        state_columns(&buckets)
    );
    let results = db
        .batch(vec![
            prepare(db, &reopen_event, &shared)?,
            prepare(db, &touch, &shared)?,
            prepare(db, &insert, &insert_params)?,
            prepare(db, &notify, &notify_params)?,
            prepare(db, &hit, &shared)?,
            prepare(db, &state, &shared)?,
        ])
        .await?;
    if let Some(message) = results[2].rows::<Message>()?.into_iter().next() {
        let reopened = !results[0].rows::<IgnoredAny>()?.is_empty();
        return Ok(ReplyOutcome::Added {
            message,
            reopened,
            notifications: claimed(results[3].rows()?),
        });
    }
    let state: serde_json::Value = results[5].rows()?.into_iter().next().unwrap_or_default();
    let status = state["status"].as_str().and_then(Status::parse);
    if status.is_some_and(|s| customer_reply_effect(s) == ReplyEffect::Refused) {
        return Ok(ReplyOutcome::Closed);
    }
    Ok(ReplyOutcome::RateLimited(bucket_states(
        &state,
        limits.len(),
    )))
}

/// A staff reply (emailed to the customer) or internal note (never shown publicly).
/// `None` when the ticket does not exist.
pub async fn staff_message(
    db: &Database,
    ticket_id: i64,
    staff_id: i64,
    body: &str,
    internal: bool,
    outbox: &OutboxPolicy,
) -> worker::Result<Option<(Message, Vec<Notification>)>> {
    let insert = db.prepare(
        &format!(
            "INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at)
             SELECT t.id, '{}', ?2, ?3, ?4, ?5 FROM support_tickets t WHERE t.id = ?1
             RETURNING {}",
            MessageAuthor::Staff.as_str(),
            MESSAGE_COLUMNS.as_str()
        ),
        &[
            int(Some(ticket_id)),
            int(Some(staff_id)),
            text(body),
            int(Some(i64::from(internal))),
            time(outbox.now),
        ],
    )?;
    let touch = db.prepare(
        "UPDATE support_tickets SET updated_at = ?2 WHERE id = ?1",
        &[int(Some(ticket_id)), time(outbox.now)],
    )?;
    let mut statements = vec![insert, touch];
    if !internal {
        let mut p = Params::default();
        let id = p.bind(int(Some(ticket_id)));
        let sql = enqueue_sql(
            &mut p,
            &[Outgoing {
                kind: Kind::StaffReply,
                recipient_sql: "t.customer_email",
            }],
            &format!("FROM support_tickets t WHERE t.id = {id}"),
            &format!("(SELECT max(id) FROM ticket_messages WHERE ticket_id = {id})"),
            outbox,
        );
        statements.push(db.prepare(&sql, &p.values)?);
    }
    let results = db.batch(statements).await?;
    let Some(message) = results[0].rows::<Message>()?.into_iter().next() else {
        return Ok(None);
    };
    let notifications = match results.get(2) {
        Some(r) => claimed(r.rows()?),
        None => vec![],
    };
    Ok(Some((message, notifications)))
}
