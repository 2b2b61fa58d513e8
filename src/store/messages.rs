//! The conversation on a ticket, and what customers can see of it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::notification::Kind;

use super::notifications::{claimed, enqueue_sql, Notification, OutboxPolicy, Outgoing};
use super::tickets::{Ticket, T_TICKET_COLUMNS};
use super::{int, prepare, text, Database, Params};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    pub author_type: String,
    pub staff_id: Option<i64>,
    pub body: String,
    #[serde(deserialize_with = "super::sqlite_bool")]
    pub internal: bool,
    pub created_at: String,
}

const COLUMNS: &str = "m.id, m.author_type, m.staff_id, m.body, m.internal, m.created_at";

/// A ticket by number with its public messages (never internal notes). One round trip.
pub async fn public_view(
    db: &Database,
    number: &str,
) -> worker::Result<Option<(Ticket, Vec<Message>)>> {
    let ticket = db.prepare(
        &format!(
            "SELECT {} FROM support_tickets t WHERE t.ticket_number = ?1",
            T_TICKET_COLUMNS.as_str()
        ),
        &[text(number)],
    )?;
    let messages = db.prepare(
        &format!(
            "SELECT {COLUMNS} FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id
             WHERE t.ticket_number = ?1 AND m.internal = 0 ORDER BY m.id"
        ),
        &[text(number)],
    )?;
    let results = db.batch(vec![ticket, messages]).await?;
    let Some(ticket) = results[0].rows::<Ticket>()?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some((ticket, results[1].rows()?)))
}

pub enum ReplyOutcome {
    /// The message, whether the reply reopened the ticket, and the outbox rows to deliver.
    Added {
        message: Message,
        reopened: bool,
        notifications: Vec<Notification>,
    },
    Closed,
    RateLimited {
        frees_at: Option<String>,
    },
}

/// A customer's reply, in one batch: reopens a resolved ticket (with an event),
/// adds the message, queues the team's notification and counts the reply against
/// the ticket's limit. Every statement checks the same guard (not closed, under the
/// limit), evaluated before the hit is counted, so they all agree.
pub async fn customer_reply(
    db: &Database,
    ticket_id: i64,
    body: &str,
    limit: u32,
    window_start: &str,
    outbox: &OutboxPolicy,
) -> worker::Result<ReplyOutcome> {
    let now = outbox.now.as_str();
    let bucket = format!("reply:{ticket_id}");
    let base = || {
        let mut p = Params::default();
        p.bind(int(Some(ticket_id)));
        p.bind(text(now));
        p.bind(text(&bucket));
        p.bind(text(window_start));
        p.bind(int(Some(limit.into())));
        p
    };
    let guard = "t.id = ?1 AND t.status != 'closed'
        AND (SELECT count(*) FROM rate_limit_hits WHERE bucket = ?3 AND at > ?4) < ?5";
    let reopen_to = "CASE WHEN t.assigned_to IS NULL THEN 'open' ELSE 'assigned' END";

    let reopen_event = db.prepare(
        &format!(
            "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
             SELECT t.id, 'reopened', 'customer', NULL,
                    json_object('from', t.status, 'to', {reopen_to}, 'reason', 'customer_reply'), ?2
             FROM support_tickets t WHERE {guard} AND t.status = 'resolved' RETURNING id"
        ),
        &base().values,
    )?;
    let touch = db.prepare(
        &format!(
            "UPDATE support_tickets AS t SET
               status = CASE WHEN t.status = 'resolved' THEN {reopen_to} ELSE t.status END,
               resolved_at = CASE WHEN t.status = 'resolved' THEN NULL ELSE t.resolved_at END,
               version = t.version + 1, updated_at = ?2
             WHERE {guard} RETURNING status"
        ),
        &base().values,
    )?;
    let mut p = base();
    let body_param = p.bind(text(body));
    let insert = format!(
        "INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at)
         SELECT t.id, 'customer', NULL, {body_param}, 0, ?2 FROM support_tickets t WHERE {guard}
         RETURNING id, author_type, staff_id, body, internal, created_at"
    );
    let insert = db.prepare(&insert, &p.values)?;
    let mut p = base();
    let notify = enqueue_sql(
        &mut p,
        &[Outgoing {
            kind: Kind::CustomerReply.as_str(),
            channel: "webhook",
            recipient_sql: "NULL",
        }],
        &format!("FROM support_tickets t WHERE {guard}"),
        "(SELECT max(id) FROM ticket_messages WHERE ticket_id = ?1)",
        outbox,
    );
    let notify = db.prepare(&notify, &p.values)?;
    let hit = format!(
        "INSERT INTO rate_limit_hits (bucket, at) SELECT ?3, ?2 FROM support_tickets t WHERE {guard}"
    );
    let hit = db.prepare(&hit, &base().values)?;
    let state = prepare(
        db,
        "SELECT t.status, (SELECT at FROM rate_limit_hits WHERE bucket = ?3 AND at > ?4
                           ORDER BY at LIMIT 1 OFFSET max(0, (SELECT count(*) FROM rate_limit_hits
                             WHERE bucket = ?3 AND at > ?4) - ?5)) AS frees_at
         FROM support_tickets t WHERE t.id = ?1",
        &base().values,
    )?;
    let results = db
        .batch(vec![reopen_event, touch, insert, notify, hit, state])
        .await?;
    if let Some(message) = results[2].rows::<Message>()?.into_iter().next() {
        let reopened = !results[0].rows::<Value>()?.is_empty();
        let notifications = claimed(results[3].rows()?);
        return Ok(ReplyOutcome::Added {
            message,
            reopened,
            notifications,
        });
    }
    let state: Option<Value> = results[5].rows()?.into_iter().next();
    Ok(match state {
        Some(s) if s["status"] == "closed" => ReplyOutcome::Closed,
        s => ReplyOutcome::RateLimited {
            frees_at: s.and_then(|s| s["frees_at"].as_str().map(str::to_owned)),
        },
    })
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
    let now = outbox.now.as_str();
    let insert = db.prepare(
        "INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at)
         SELECT t.id, 'staff', ?2, ?3, ?4, ?5 FROM support_tickets t WHERE t.id = ?1
         RETURNING id, author_type, staff_id, body, internal, created_at",
        &[
            int(Some(ticket_id)),
            int(Some(staff_id)),
            text(body),
            int(Some(i64::from(internal))),
            text(now),
        ],
    )?;
    let touch = db.prepare(
        "UPDATE support_tickets SET updated_at = ?2 WHERE id = ?1",
        &[int(Some(ticket_id)), text(now)],
    )?;
    let mut statements = vec![insert, touch];
    if !internal {
        let mut p = Params::default();
        let id = p.bind(int(Some(ticket_id)));
        let sql = enqueue_sql(
            &mut p,
            &[Outgoing {
                kind: Kind::StaffReply.as_str(),
                channel: "email",
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

/// "I lost my link": counts the lookup against the email's and the IP's limits
/// whether or not the email has tickets, and queues one email when it has. One batch.
/// `Err` carries when the fullest bucket frees a slot.
pub async fn lookup(
    db: &Database,
    email: &str,
    buckets: [(&str, u32); 2],
    window_start: &str,
    outbox: &OutboxPolicy,
) -> worker::Result<Result<Vec<Notification>, Option<String>>> {
    let mut p = Params::default();
    let window = p.bind(text(window_start));
    let email_p = p.bind(text(email));
    let now_p = p.bind(text(&outbox.now));
    let mut under = Vec::new();
    let mut frees = Vec::new();
    let mut names = Vec::new();
    for (bucket, max) in buckets {
        let b = p.bind(text(bucket));
        let m = p.bind(int(Some(max.into())));
        let hits = format!("FROM rate_limit_hits WHERE bucket = {b} AND at > {window}");
        under.push(format!("(SELECT count(*) {hits}) < {m}"));
        // For a full bucket: the hit whose expiry frees a slot.
        frees.push(format!(
            "CASE WHEN (SELECT count(*) {hits}) >= {m} THEN
               (SELECT at {hits} ORDER BY at LIMIT 1 OFFSET (SELECT count(*) {hits}) - {m}) END"
        ));
        names.push(b);
    }
    let guard = under.join(" AND ");
    let check = format!(
        "SELECT ({guard}) AS ok, max(COALESCE({}, ''), COALESCE({}, '')) AS frees_at",
        frees[0], frees[1]
    );
    let notify = enqueue_sql(
        &mut p,
        &[Outgoing {
            kind: Kind::Lookup.as_str(),
            channel: "email",
            recipient_sql: &email_p,
        }],
        &format!(
            "FROM (SELECT NULL AS id) t WHERE {guard}
             AND EXISTS (SELECT 1 FROM support_tickets WHERE customer_email = {email_p} COLLATE NOCASE)"
        ),
        "NULL",
        outbox,
    );
    let hits = format!(
        "INSERT INTO rate_limit_hits (bucket, at)
         SELECT b, {now_p} FROM (SELECT {} AS b UNION ALL SELECT {}) WHERE {guard}",
        names[0], names[1]
    );
    // The check and the notification see the state before this lookup is counted.
    let results = db
        .batch(vec![
            prepare(db, &check, &p.values)?,
            prepare(db, &notify, &p.values)?,
            prepare(db, &hits, &p.values)?,
        ])
        .await?;
    let row: Value = results[0].rows()?.into_iter().next().unwrap_or(Value::Null);
    if row["ok"].as_f64() == Some(1.0) {
        Ok(Ok(claimed(results[1].rows()?)))
    } else {
        Ok(Err(row["frees_at"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)))
    }
}
