//! Attachments' metadata (the bytes are in R2): reserving an upload against the
//! ticket's limits and the customer's rate limits in one batch, marking it uploaded
//! or dropping it, reading it for a download, an admin's delete, the cron's sweep of
//! files never sent, and the SQL that sends files with a message inside the
//! message's own batch (`Link`).

use serde::Deserialize;
use serde_json::Value;

use super::guard::Guard;
use super::rate_limits::{all_have_room, bind_all, bucket_states, record_hits_sql, state_columns};
use super::rows::{Attachment, Ticket, ATTACHMENT_COLUMNS, A_ATTACHMENT_COLUMNS, T_TICKET_COLUMNS};
use super::tickets::TicketRef;
use super::{int, prepare, status_in, text, time, Database, Params, Statement};
use crate::domain::abuse::{BucketState, Limit};
use crate::domain::attachment::{why_unusable, Candidate, Unusable, UploadStatus, Uploader};
use crate::domain::lifecycle::{statuses_where_reply, ReplyEffect};
use crate::domain::ticket::{Actor, Status};
use crate::domain::time::Timestamp;

/// What a public route may show: a finished upload, not internal, sent with a public
/// message or still unsent by the customer (who may open their own upload); never a
/// staff member's unsent file (it may yet go with an internal note).
const PUBLIC: &str = "a.status = 'uploaded' AND a.internal = 0
    AND (a.message_id IS NOT NULL OR a.uploader_type = 'customer')
    AND (a.message_id IS NULL
         OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.id = a.message_id AND m.internal = 0))";

/// An upload to reserve before its body is read.
pub struct NewUpload<'a> {
    pub ticket_id: i64,
    pub uploader: Uploader,
    pub staff_id: Option<i64>,
    pub filename: &'a str,
    pub content_type: &'a str,
    /// The declared `Content-Length`.
    pub size: u64,
    pub r2_key: &'a str,
    /// The customer's rate limits (none for staff), and their window's start.
    pub limits: &'a [Limit],
    pub window_start: Timestamp,
    pub max_per_ticket: u32,
    pub max_bytes_per_ticket: u64,
    /// Whether a closed ticket refuses it (customers: yes; staff: no).
    pub refuse_closed: bool,
    pub now: Timestamp,
}

pub enum Reserved {
    /// The `pending` row, to fill from R2 (`finish`) or drop (`abort`).
    Row(Attachment),
    NoTicket,
    Closed,
    TooMany,
    /// The ticket's files (and reservations) already take `used` bytes.
    StorageFull {
        used: u64,
    },
    /// A limit is full: every bucket's state, in the order of the limits.
    RateLimited(Vec<BucketState>),
}

/// Reserves an upload, in one batch: a `pending` row when the ticket exists (and
/// takes replies, for customers), has room for one more file of this size (files in
/// progress count, so parallel uploads cannot pass the limits), and the customer's
/// buckets have room; then counts the upload against them.
pub async fn reserve(db: &Database, u: &NewUpload<'_>) -> worker::Result<Reserved> {
    let mut p = Params::default();
    p.bind(int(Some(u.ticket_id)));
    let now = p.bind(time(u.now));
    let start = p.bind(time(u.window_start));
    let size = p.bind(Value::from(u.size));
    let key = p.bind(text(u.r2_key));
    let buckets = bind_all(&mut p, u.limits, &start);
    // Staff uploads have no buckets.
    let room = all_have_room(&buckets);
    let max_count = p.bind(Value::from(u.max_per_ticket));
    let max_bytes = p.bind(Value::from(u.max_bytes_per_ticket));
    // A customer's files count in full (sent, unsent or in progress): that is what
    // bounds the storage one status link can fill. Staff do not count a customer's
    // unsent files, or a customer could lock them out of the ticket for a day.
    let counted = if u.uploader == Uploader::Staff {
        "ticket_id = ?1 AND (message_id IS NOT NULL OR uploader_type = 'staff')"
    } else {
        "ticket_id = ?1"
    };
    let count = format!("(SELECT count(*) FROM ticket_attachments WHERE {counted})");
    let total = format!("(SELECT coalesce(sum(size), 0) FROM ticket_attachments WHERE {counted})");
    let open = if u.refuse_closed {
        format!(
            " AND NOT {}",
            status_in(&statuses_where_reply(ReplyEffect::Refused))
        )
    } else {
        String::new()
    };
    let guard = format!(
        "t.id = ?1{open} AND {count} < {max_count} AND {total} + {size} <= {max_bytes} AND {room}"
    );
    let shared = p.values.clone();
    let mut row = Params { values: shared };
    let insert = format!(
        "INSERT INTO ticket_attachments
           (ticket_id, uploader_type, staff_id, filename, content_type, size, r2_key, status, internal, created_at)
         SELECT t.id, {}, {}, {}, {}, {size}, {key}, '{}', 0, {now} FROM support_tickets t WHERE {guard}
         RETURNING {}",
        row.bind(text(u.uploader.as_str())),
        row.bind(int(u.staff_id)),
        row.bind(text(u.filename)),
        row.bind(text(u.content_type)),
        UploadStatus::Pending.as_str(),
        ATTACHMENT_COLUMNS.as_str()
    );
    let state = format!(
        "SELECT t.status, {count} AS files, {total} AS bytes{} FROM support_tickets t WHERE t.id = ?1",
        if buckets.is_empty() {
            String::new()
        } else {
            format!(", {}", state_columns(&buckets))
        }
    );
    let mut statements = vec![
        prepare(db, &insert, &row.values)?,
        prepare(db, &state, &p.values)?,
    ];
    let reserved = format!("EXISTS (SELECT 1 FROM ticket_attachments WHERE r2_key = {key})");
    if !buckets.is_empty() {
        statements.push(prepare(
            db,
            &record_hits_sql(&buckets, &now, &reserved),
            &p.values,
        )?);
    }
    // The state is read before the hits are counted: it explains a refusal.
    let results = db.batch(statements).await?;
    if let Some(row) = results[0].rows::<Attachment>()?.into_iter().next() {
        return Ok(Reserved::Row(row));
    }
    let Some(state) = results[1].rows::<Value>()?.into_iter().next() else {
        return Ok(Reserved::NoTicket);
    };
    let status = state["status"].as_str().and_then(Status::parse);
    let files = state["files"].as_f64().unwrap_or(0.0) as u64;
    let bytes = state["bytes"].as_f64().unwrap_or(0.0) as u64;
    Ok(
        if u.refuse_closed
            && status.is_some_and(|s| statuses_where_reply(ReplyEffect::Refused).contains(&s))
        {
            Reserved::Closed
        } else if files >= u64::from(u.max_per_ticket) {
            Reserved::TooMany
        } else if bytes + u.size > u.max_bytes_per_ticket {
            Reserved::StorageFull { used: bytes }
        } else {
            Reserved::RateLimited(bucket_states(&state, buckets.len()))
        },
    )
}

/// Marks a reserved upload as stored, with R2's size and entity tag. `None` when the
/// row is gone (or no longer pending).
pub async fn finish(
    db: &Database,
    id: i64,
    size: u64,
    etag: &str,
    now: Timestamp,
) -> worker::Result<Option<Attachment>> {
    db.prepare(
        &format!(
            "UPDATE ticket_attachments SET status = '{}', size = ?2, etag = ?3, uploaded_at = ?4
             WHERE id = ?1 AND status = '{}' RETURNING {}",
            UploadStatus::Uploaded.as_str(),
            UploadStatus::Pending.as_str(),
            ATTACHMENT_COLUMNS.as_str()
        ),
        &[int(Some(id)), Value::from(size), text(etag), time(now)],
    )?
    .first()
    .await
}

/// Drops a reservation whose upload failed.
pub async fn abort(db: &Database, id: i64) -> worker::Result<()> {
    db.prepare(
        &format!(
            "DELETE FROM ticket_attachments WHERE id = ?1 AND status = '{}'",
            UploadStatus::Pending.as_str()
        ),
        &[int(Some(id))],
    )?
    .run()
    .await?;
    Ok(())
}

/// An attachment by id, whatever its state (staff downloads and deletes).
pub async fn one(db: &Database, id: i64) -> worker::Result<Option<Attachment>> {
    db.prepare(
        &format!(
            "SELECT {} FROM ticket_attachments WHERE id = ?1",
            ATTACHMENT_COLUMNS.as_str()
        ),
        &[int(Some(id))],
    )?
    .first()
    .await
}

/// The ticket `reference` selects (for its token) and its attachment `id` when a
/// public route may serve it, in one round trip.
pub async fn public_one(
    db: &Database,
    reference: &TicketRef,
    id: i64,
) -> worker::Result<Option<(Ticket, Option<Attachment>)>> {
    let (condition, value) = reference.condition();
    // Not `tickets::reads::ticket`: reads imports this module (no cycles).
    let ticket = db.prepare(
        &format!(
            "SELECT {} FROM support_tickets t WHERE {condition}",
            T_TICKET_COLUMNS.as_str()
        ),
        std::slice::from_ref(&value),
    )?;
    let attachment = db.prepare(
        &format!(
            "SELECT {} FROM ticket_attachments a JOIN support_tickets t ON t.id = a.ticket_id
             WHERE {condition} AND a.id = ?2 AND {PUBLIC}",
            A_ATTACHMENT_COLUMNS.as_str()
        ),
        &[value, int(Some(id))],
    )?;
    let results = db.batch(vec![ticket, attachment]).await?;
    let Some(ticket) = results[0].rows()?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some((ticket, results[1].rows()?.into_iter().next())))
}

/// The attachments sent with the ticket's messages, in upload order: every one, or
/// only those a public route may show.
pub(super) fn of_thread(
    db: &Database,
    reference: &TicketRef,
    public_only: bool,
    guard: Option<&Guard<'_>>,
) -> worker::Result<Statement> {
    let (condition, value) = reference.condition();
    let public = if public_only {
        format!(" AND {PUBLIC}")
    } else {
        String::new()
    };
    let mut params = vec![value];
    let guarded = Guard::and(guard, &mut params);
    db.prepare(
        &format!(
            "SELECT {} FROM ticket_attachments a JOIN support_tickets t ON t.id = a.ticket_id
             WHERE {condition} AND a.message_id IS NOT NULL{public}{guarded} ORDER BY a.id",
            A_ATTACHMENT_COLUMNS.as_str()
        ),
        &params,
    )
}

/// An admin's delete: the row, and an `attachment_deleted` event saying what it was,
/// in one batch. (The caller deletes the R2 object first: a failure in between
/// leaves a row whose download fails and whose delete can be repeated, never an
/// object nothing points to.)
pub async fn delete(
    db: &Database,
    id: i64,
    actor: Actor,
    now: Timestamp,
) -> worker::Result<Option<Attachment>> {
    let params = [
        int(Some(id)),
        text(actor.kind()),
        int(actor.staff_id()),
        time(now),
    ];
    let event = db.prepare(
        "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
         SELECT a.ticket_id, 'attachment_deleted', ?2, ?3,
                json_object('attachment_id', a.id, 'filename', a.filename,
                            'content_type', a.content_type, 'size', a.size,
                            'message_id', a.message_id, 'internal', a.internal), ?4
         FROM ticket_attachments a WHERE a.id = ?1",
        &params,
    )?;
    let remove = db.prepare(
        &format!(
            "DELETE FROM ticket_attachments WHERE id = ?1 RETURNING {}",
            ATTACHMENT_COLUMNS.as_str()
        ),
        &params[..1],
    )?;
    let results = db.batch(vec![event, remove]).await?;
    Ok(results[1].rows()?.into_iter().next())
}

/// An unsent file old enough for the cron to remove.
#[derive(Debug, Clone, Deserialize)]
pub struct Expired {
    pub id: i64,
    pub r2_key: String,
}

/// Withdraws up to `limit` files never sent with a message and created at or before
/// `cutoff` (crashed uploads, files never referenced), oldest first, and answers
/// them: they go back to `pending`, which no message can claim, so none of them is
/// sent while the cron deletes its R2 object (a reply that started before the
/// cutoff, or trickled its body in for hours, still checks the file's age against
/// its own clock).
pub async fn withdraw_expired(
    db: &Database,
    cutoff: Timestamp,
    limit: u32,
) -> worker::Result<Vec<Expired>> {
    db.prepare(
        &format!(
            "UPDATE ticket_attachments SET status = '{pending}'
             WHERE id IN (SELECT id FROM ticket_attachments
                          WHERE message_id IS NULL AND created_at <= ?1
                          ORDER BY created_at LIMIT ?2)
             RETURNING id, r2_key",
            pending = UploadStatus::Pending.as_str()
        ),
        &[time(cutoff), Value::from(limit)],
    )?
    .all()
    .await
}

/// Removes the rows of withdrawn files, after their R2 objects are gone.
pub async fn remove_withdrawn(db: &Database, ids: &[i64]) -> worker::Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let result = db
        .prepare(
            "DELETE FROM ticket_attachments
             WHERE id IN (SELECT value FROM json_each(?1)) AND message_id IS NULL",
            &[Value::from(serde_json::to_string(ids).unwrap_or_default())],
        )?
        .run()
        .await?;
    Ok(result.changes())
}

/// Sending files with a message, inside the message's batch, all or nothing:
///
/// 1. `claim` marks the referenced files that this sender may send (this ticket's,
///    theirs, uploaded, unsent, not expired) with the batch's request id, when the
///    message's own guard holds;
/// 2. every statement of the message adds `all_claimed` to its guard: the message is
///    written only when every id was claimed;
/// 3. `finalize` sets the files' message (the ticket's newest: this batch's) when
///    every id was claimed, and returns them; `states` reads each id's state to
///    explain a refusal.
///
/// A claim left by a refused batch is harmless: only `message_id` marks a file sent.
pub(super) struct Link {
    ids: String,
    claim: String,
    count: usize,
    sender: String,
    staff: String,
    cutoff: String,
}

impl Link {
    /// `None` when the message references no files.
    pub(super) fn bind(
        p: &mut Params,
        ids: &[i64],
        claim: &str,
        sender: Uploader,
        staff_id: Option<i64>,
        cutoff: Timestamp,
    ) -> Option<Self> {
        if ids.is_empty() {
            return None;
        }
        Some(Link {
            ids: p.bind(Value::from(serde_json::to_string(ids).unwrap_or_default())),
            claim: p.bind(text(claim)),
            count: ids.len(),
            sender: p.bind(text(sender.as_str())),
            staff: p.bind(int(staff_id)),
            cutoff: p.bind(time(cutoff)),
        })
    }

    /// Claims the files, when `guard` (on `support_tickets t`) holds for `ticket`.
    pub(super) fn claim(&self, ticket: &str, guard: &str) -> String {
        format!(
            "UPDATE ticket_attachments SET claimed_by = {claim}
             WHERE id IN (SELECT value FROM json_each({ids})) AND ticket_id = {ticket}
               AND uploader_type = {sender} AND staff_id IS {staff}
               AND status = '{uploaded}' AND message_id IS NULL AND created_at > {cutoff}
               AND EXISTS (SELECT 1 FROM support_tickets t WHERE {guard})",
            claim = self.claim,
            ids = self.ids,
            sender = self.sender,
            staff = self.staff,
            cutoff = self.cutoff,
            uploaded = UploadStatus::Uploaded.as_str(),
        )
    }

    /// True when every referenced file was claimed by this batch.
    pub(super) fn all_claimed(&self) -> String {
        format!(
            "(SELECT count(*) FROM ticket_attachments WHERE claimed_by = {}) = {}",
            self.claim, self.count
        )
    }

    /// Sends the claimed files with the ticket's newest message (`internal` as it is).
    pub(super) fn finalize(&self, ticket: &str, internal: bool) -> String {
        format!(
            "UPDATE ticket_attachments
             SET message_id = (SELECT max(id) FROM ticket_messages WHERE ticket_id = {ticket}),
                 internal = {}
             WHERE claimed_by = {} AND {} RETURNING {}",
            i64::from(internal),
            self.claim,
            self.all_claimed(),
            ATTACHMENT_COLUMNS.as_str()
        )
    }

    /// Each referenced id's state, to name the one that stopped the message.
    pub(super) fn states(&self) -> String {
        format!(
            "SELECT id, ticket_id, uploader_type, staff_id, status, message_id IS NOT NULL AS sent, created_at
             FROM ticket_attachments WHERE id IN (SELECT value FROM json_each({}))",
            self.ids
        )
    }
}

/// A row of `Link::states` (its columns are constrained by the schema, so a row always reads).
#[derive(Deserialize)]
pub(super) struct CandidateRow {
    id: i64,
    ticket_id: i64,
    uploader_type: Uploader,
    staff_id: Option<i64>,
    status: UploadStatus,
    sent: f64,
    created_at: Timestamp,
}

/// The first of `ids` that cannot go with a message on `ticket_id` from `sender`, and
/// why (the domain's `why_unusable`), judged on the rows of `Link::states`.
pub(super) fn first_unusable(
    rows: Vec<CandidateRow>,
    ids: &[i64],
    ticket_id: i64,
    sender: Uploader,
    sender_staff_id: Option<i64>,
    expired_at_or_before: Timestamp,
) -> Option<(i64, Unusable)> {
    let found = candidates(rows);
    ids.iter().find_map(|&id| {
        why_unusable(
            id,
            &found,
            ticket_id,
            sender,
            sender_staff_id,
            expired_at_or_before,
        )
        .map(|why| (id, why))
    })
}

fn candidates(rows: Vec<CandidateRow>) -> Vec<Candidate> {
    rows.into_iter()
        .map(|r| Candidate {
            id: r.id,
            ticket_id: r.ticket_id,
            uploader: r.uploader_type,
            staff_id: r.staff_id,
            status: r.status,
            sent: r.sent != 0.0,
            created_at: r.created_at,
        })
        .collect()
}
