//! The conversation on a ticket: customers' replies and staff messages, each with
//! the files it sends (see `attachments::Link`).

use serde::de::IgnoredAny;
use serde_json::Value;

use super::attachments::{first_unusable, Link};
use super::notifications::{claimed, enqueue_sql, OutboxPolicy, Outgoing};
use super::rate_limits::{all_have_room, bind_all, bucket_states, record_hits_sql, state_columns};
use super::rows::{Attachment, Message, Notification, MESSAGE_COLUMNS};
use super::{int, prepare, status_in, text, time, Database, Params, Statement};
use crate::domain::abuse::{BucketState, Limit};
use crate::domain::attachment::{Unusable, Uploader};
use crate::domain::lifecycle::{customer_reply_effect, statuses_where_reply, Action, ReplyEffect};
use crate::domain::notification::Kind;
use crate::domain::ticket::{Actor, MessageAuthor, Status};
use crate::domain::time::Timestamp;

pub enum ReplyOutcome {
    /// The message, the files sent with it, whether the reply reopened the ticket,
    /// and the outbox rows to deliver.
    Added {
        message: Message,
        attachments: Vec<Attachment>,
        reopened: bool,
        notifications: Vec<Notification>,
    },
    Closed,
    /// A referenced file cannot be sent (the first such id, and why); nothing was
    /// stored.
    Unusable(i64, Unusable),
    /// Some limit is full: every bucket's state, in the order of the limits.
    RateLimited(Vec<BucketState>),
}

/// A customer's reply, as the store takes it.
pub struct CustomerReply<'a> {
    pub ticket_id: i64,
    pub body: &'a str,
    /// Files the customer uploaded to this ticket, sent with the reply.
    pub attachment_ids: &'a [i64],
    /// The limits the reply counts against (per ticket and per client).
    pub limits: &'a [Limit],
    pub window_start: Timestamp,
    /// This request's id: marks the files this batch claims.
    pub claim: &'a str,
    /// Unsent files created at or before this are expired (the cron's).
    pub expired_at_or_before: Timestamp,
}

/// A customer's reply, in one batch: reopens a resolved ticket (with an event),
/// adds the message, sends its files, queues the team's notification and counts the
/// reply against its limits. Every statement checks the same guard (the status takes
/// replies, the buckets have room, every file was claimed), evaluated before the
/// hits are counted, so they all agree. What a reply does in each status is the
/// domain's (`customer_reply_effect`).
pub async fn customer_reply(
    db: &Database,
    reply: &CustomerReply<'_>,
    outbox: &OutboxPolicy,
) -> worker::Result<ReplyOutcome> {
    // Shared parameters: ?1 ticket, ?2 now, ?3 window start, then the buckets' and
    // the files'.
    let mut p = Params::default();
    p.bind(int(Some(reply.ticket_id)));
    p.bind(time(outbox.now));
    let start = p.bind(time(reply.window_start));
    let buckets = bind_all(&mut p, reply.limits, &start);
    let link = Link::bind(
        &mut p,
        reply.attachment_ids,
        reply.claim,
        Uploader::Customer,
        None,
        reply.expired_at_or_before,
    );
    let shared = p.values;

    let takes_replies = format!(
        "t.id = ?1 AND NOT {} AND {}",
        status_in(&statuses_where_reply(ReplyEffect::Refused)),
        all_have_room(&buckets)
    );
    let guard = match &link {
        Some(link) => format!("{takes_replies} AND {}", link.all_claimed()),
        None => takes_replies.clone(),
    };
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
    let body_param = p.bind(text(reply.body));
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
    let state = format!(
        "SELECT t.status, {} FROM support_tickets t WHERE t.id = ?1",
        state_columns(&buckets)
    );

    let mut statements = Vec::new();
    if let Some(link) = &link {
        statements.push(prepare(db, &link.claim("?1", &takes_replies), &shared)?);
    }
    let first = statements.len();
    statements.push(prepare(db, &reopen_event, &shared)?);
    statements.push(prepare(db, &touch, &shared)?);
    statements.push(prepare(db, &insert, &insert_params)?);
    statements.push(prepare(db, &notify, &notify_params)?);
    // The state (and the files' states) are read before the hits are counted and
    // the files sent: they explain a refusal.
    statements.push(prepare(db, &state, &shared)?);
    let link_states = link.as_ref().map(|_| statements.len());
    if let Some(link) = &link {
        statements.push(prepare(db, &link.states(), &shared)?);
    }
    let hits = record_hits_sql(
        &buckets,
        "?2",
        &format!("EXISTS (SELECT 1 FROM support_tickets t WHERE {guard})"),
    );
    statements.push(prepare(db, &hits, &shared)?);
    let finalize = link.as_ref().map(|_| statements.len());
    if let Some(link) = &link {
        statements.push(prepare(db, &link.finalize("?1", false), &shared)?);
    }
    let results = db.batch(statements).await?;
    if let Some(message) = results[first + 2].rows::<Message>()?.into_iter().next() {
        let reopened = !results[first].rows::<IgnoredAny>()?.is_empty();
        return Ok(ReplyOutcome::Added {
            message,
            attachments: match finalize {
                Some(i) => results[i].rows()?,
                None => vec![],
            },
            reopened,
            notifications: claimed(results[first + 3].rows()?),
        });
    }
    let state: Option<Value> = results[first + 4].rows()?.into_iter().next();
    let status = state
        .as_ref()
        .and_then(|s| s["status"].as_str())
        .and_then(Status::parse);
    if status.is_some_and(|s| customer_reply_effect(s) == ReplyEffect::Refused) {
        return Ok(ReplyOutcome::Closed);
    }
    if let Some(i) = link_states {
        let unusable = first_unusable(
            results[i].rows()?,
            reply.attachment_ids,
            reply.ticket_id,
            Uploader::Customer,
            None,
            reply.expired_at_or_before,
        );
        if let Some((id, why)) = unusable {
            return Ok(ReplyOutcome::Unusable(id, why));
        }
    }
    Ok(ReplyOutcome::RateLimited(bucket_states(
        &state.unwrap_or_default(),
        buckets.len(),
    )))
}

/// A staff message, as the store takes it.
pub struct StaffMessage<'a> {
    pub ticket_id: i64,
    pub staff_id: i64,
    pub body: &'a str,
    pub internal: bool,
    /// Files this staff member uploaded to this ticket, sent with the message (and
    /// internal when it is).
    pub attachment_ids: &'a [i64],
    pub claim: &'a str,
    pub expired_at_or_before: Timestamp,
}

pub enum StaffMessageOutcome {
    Added {
        message: Message,
        attachments: Vec<Attachment>,
        notifications: Vec<Notification>,
    },
    NoTicket,
    Unusable(i64, Unusable),
}

/// A staff reply (emailed to the customer) or internal note (never shown publicly),
/// with its files, in one batch.
pub async fn staff_message(
    db: &Database,
    m: &StaffMessage<'_>,
    outbox: &OutboxPolicy,
) -> worker::Result<StaffMessageOutcome> {
    // ?1 ticket, ?2 staff, ?3 body, ?4 internal, ?5 now, then the files'.
    let mut p = Params::default();
    let ticket = p.bind(int(Some(m.ticket_id)));
    p.bind(int(Some(m.staff_id)));
    p.bind(text(m.body));
    p.bind(int(Some(i64::from(m.internal))));
    p.bind(time(outbox.now));
    let link = Link::bind(
        &mut p,
        m.attachment_ids,
        m.claim,
        Uploader::Staff,
        Some(m.staff_id),
        m.expired_at_or_before,
    );
    let shared = p.values;
    let exists = "t.id = ?1".to_owned();
    let guard = match &link {
        Some(link) => format!("{exists} AND {}", link.all_claimed()),
        None => exists.clone(),
    };
    let insert = format!(
        "INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at)
         SELECT t.id, '{}', ?2, ?3, ?4, ?5 FROM support_tickets t WHERE {guard}
         RETURNING {}",
        MessageAuthor::Staff.as_str(),
        MESSAGE_COLUMNS.as_str()
    );
    let touch = format!("UPDATE support_tickets AS t SET updated_at = ?5 WHERE {guard}");
    let mut statements: Vec<Statement> = Vec::new();
    if let Some(link) = &link {
        statements.push(prepare(db, &link.claim(&ticket, &exists), &shared)?);
    }
    let first = statements.len();
    statements.push(prepare(db, &insert, &shared)?);
    statements.push(prepare(db, &touch, &shared)?);
    let notify = (!m.internal).then_some(statements.len());
    if !m.internal {
        let mut p = Params {
            values: shared.clone(),
        };
        let sql = enqueue_sql(
            &mut p,
            &[Outgoing {
                kind: Kind::StaffReply,
                recipient_sql: "t.customer_email",
            }],
            &format!("FROM support_tickets t WHERE {guard}"),
            &format!("(SELECT max(id) FROM ticket_messages WHERE ticket_id = {ticket})"),
            outbox,
        );
        statements.push(prepare(db, &sql, &p.values)?);
    }
    let checks = link.as_ref().map(|_| statements.len());
    if let Some(link) = &link {
        statements.push(prepare(
            db,
            "SELECT id FROM support_tickets WHERE id = ?1",
            &shared,
        )?);
        statements.push(prepare(db, &link.states(), &shared)?);
        statements.push(prepare(db, &link.finalize(&ticket, m.internal), &shared)?);
    }
    let results = db.batch(statements).await?;
    if let Some(message) = results[first].rows::<Message>()?.into_iter().next() {
        return Ok(StaffMessageOutcome::Added {
            message,
            attachments: match checks {
                Some(i) => results[i + 2].rows()?,
                None => vec![],
            },
            notifications: match notify {
                Some(i) => claimed(results[i].rows()?),
                None => vec![],
            },
        });
    }
    let Some(i) = checks else {
        return Ok(StaffMessageOutcome::NoTicket);
    };
    if results[i].rows::<IgnoredAny>()?.is_empty() {
        return Ok(StaffMessageOutcome::NoTicket);
    }
    let unusable = first_unusable(
        results[i + 1].rows()?,
        m.attachment_ids,
        m.ticket_id,
        Uploader::Staff,
        Some(m.staff_id),
        m.expired_at_or_before,
    );
    if let Some((id, why)) = unusable {
        return Ok(StaffMessageOutcome::Unusable(id, why));
    }
    Err(worker::Error::RustError(
        "a staff message was refused with every file usable".into(),
    ))
}
