//! Files on both sides of the conversation: an upload is checked by its headers
//! before a byte is read, reserved in D1, streamed to R2 as it comes, then marked
//! uploaded; any failure removes the row and the object (or leaves them to the cron,
//! which removes files never sent). A download streams the R2 object to the client.
//! The bytes never enter wasm (see `platform::r2`).

use worker::Env;

use super::Ctx;
use crate::config::Config;
use crate::domain::abuse::Limit;
use crate::domain::attachment::{
    filename_from_disposition, human_size, none_match, range_answer, sanitize_filename,
    RangeAnswer, Uploader,
};
use crate::domain::encoding::hex;
use crate::domain::ticket::Actor;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::download::{self, File};
use crate::http::Response;
use crate::platform::r2::Bucket;
use crate::platform::request::Request;
use crate::platform::trips::RoundTrips;
use crate::platform::webcrypto::random_bytes;
use crate::store::attachments::{self, NewUpload, Reserved};
use crate::store::rows::Attachment;
use crate::store::Database;

/// What an upload's headers say, checked before anything else happens.
pub struct Incoming {
    pub size: u64,
    /// The allowlisted type it will be stored as.
    pub content_type: &'static str,
    pub filename: String,
}

/// Reads an upload's headers: `Content-Length` is required (411) and within
/// `MAX_ATTACHMENT_BYTES` (413), checked before the body is touched; the type must be
/// allowlisted (415); the name comes from `?filename=` or `Content-Disposition`,
/// sanitized.
pub fn incoming(req: &Request, config: &'static Config) -> Result<Incoming, ApiError> {
    let limits = &config.attachments;
    let size = match req.header("Content-Length") {
        None => return Err(ApiError::LengthRequired),
        Some(text) => text.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request("invalid_header", "Content-Length is not a number.")
        })?,
    };
    if size > limits.max_bytes {
        return Err(ApiError::PayloadTooLarge {
            limit: limits.max_bytes as usize,
        });
    }
    if size == 0 {
        return Err(ApiError::bad_request("empty_file", "The file is empty."));
    }
    let content_type = limits
        .types
        .accept(req.header("Content-Type").as_deref())
        .ok_or(ApiError::UnsupportedMediaType {
            accepted: limits.types.listed(),
        })?;
    let raw_name = req
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "filename")
        .map(|(_, v)| v)
        .or_else(|| {
            req.header("Content-Disposition")
                .and_then(|h| filename_from_disposition(&h))
        })
        .unwrap_or_default();
    Ok(Incoming {
        size,
        filename: sanitize_filename(&raw_name, content_type),
        content_type,
    })
}

/// Who is uploading to which ticket, under which limits.
pub struct Uploading<'a> {
    pub ticket_id: i64,
    pub uploader: Uploader,
    pub staff_id: Option<i64>,
    /// The customer's rate limits; none for staff.
    pub limits: &'a [Limit],
    /// Customers cannot add files to a closed ticket.
    pub refuse_closed: bool,
}

fn bucket(ctx: &Ctx) -> Result<Bucket, ApiError> {
    Bucket::from_env(&ctx.env, ctx.r2_trips.clone()).ok_or_else(|| {
        ApiError::Internal("the R2 binding ATTACHMENTS is missing (wrangler.toml)".into())
    })
}

/// Stores an upload: reserves its row (the ticket's limits and the customer's rate
/// limits, in one batch), streams the body to R2 under a random key, and marks the
/// row uploaded with R2's size and entity tag. A failed or cut-off upload leaves
/// neither row nor object (and if even that cleanup fails, the cron's sweep of
/// unsent files removes both).
pub async fn upload(
    ctx: &Ctx,
    req: &Request,
    file: &Incoming,
    who: &Uploading<'_>,
) -> Result<Attachment, ApiError> {
    let bucket = bucket(ctx)?;
    let db = ctx.db()?;
    let config = &ctx.config.attachments;
    let r2_key = format!("att/{}", hex(&random_bytes::<16>()?));
    let reserved = attachments::reserve(
        &db,
        &NewUpload {
            ticket_id: who.ticket_id,
            uploader: who.uploader,
            staff_id: who.staff_id,
            filename: &file.filename,
            content_type: file.content_type,
            size: file.size,
            r2_key: &r2_key,
            limits: who.limits,
            window_start: ctx.rate_window().start(ctx.now),
            max_per_ticket: config.max_per_ticket,
            max_bytes_per_ticket: config.max_bytes_per_ticket,
            refuse_closed: who.refuse_closed,
            now: ctx.now,
        },
    )
    .await?;
    let row = match reserved {
        Reserved::Row(row) => row,
        Reserved::NoTicket => {
            return Err(ApiError::NotFound {
                message: "No ticket has this id or number.",
            })
        }
        Reserved::Closed => {
            return Err(ApiError::Conflict {
                code: "ticket_closed",
                message: "This ticket is closed. Please open a new ticket if you need more help."
                    .to_owned(),
                details: None,
            })
        }
        Reserved::TooMany => {
            return Err(ApiError::Conflict {
                code: "too_many_attachments",
                message: format!(
                    "This ticket already has {} attachments, the most it may have.",
                    config.max_per_ticket
                ),
                details: None,
            })
        }
        Reserved::StorageFull { used } => {
            return Err(ApiError::StorageFull {
                message: format!(
                "The attachments of a ticket may total at most {}; this file is {} and {} is left.",
                human_size(config.max_bytes_per_ticket),
                human_size(file.size),
                human_size(config.max_bytes_per_ticket.saturating_sub(used))
            ),
            })
        }
        Reserved::RateLimited(states) => {
            let window = ctx.rate_window();
            return Err(ApiError::too_many(
                "replies and uploads",
                window
                    .retry_after_full(ctx.now, who.limits, &states)
                    .unwrap_or(window.seconds),
            ));
        }
    };
    let metadata = [
        ("ticket_id", who.ticket_id.to_string()),
        ("attachment_id", row.id.to_string()),
    ];
    let stored = match bucket
        .put_body(&r2_key, req, file.content_type, &metadata)
        .await
    {
        Ok(stored) if stored.size == file.size => stored,
        Ok(stored) => {
            discard(ctx, &db, &bucket, &row).await;
            return Err(incomplete(
                ctx,
                &format!("R2 stored {} bytes of {}", stored.size, file.size),
            ));
        }
        Err(cause) => {
            discard(ctx, &db, &bucket, &row).await;
            if cause.contains("known length") {
                return Err(ApiError::LengthRequired);
            }
            // The client went away mid-body: nobody reads this answer, but say so.
            if cause.contains("connection lost") || cause.contains("disconnected") {
                return Err(incomplete(ctx, &cause));
            }
            return Err(ApiError::Internal(format!("R2 put: {cause}")));
        }
    };
    match attachments::finish(&db, row.id, stored.size, &stored.http_etag, ctx.now).await? {
        Some(row) => Ok(row),
        None => {
            discard(ctx, &db, &bucket, &row).await;
            Err(ApiError::Internal(format!(
                "attachment {} vanished during its upload",
                row.id
            )))
        }
    }
}

/// A body that did not arrive whole (the client stopped sending, or the connection
/// broke); what the runtime said goes to the log line only.
fn incomplete(ctx: &Ctx, cause: &str) -> ApiError {
    ctx.note(format!("upload incomplete: {cause}"));
    ApiError::bad_request(
        "upload_incomplete",
        "The file did not arrive whole; nothing was stored. Please try again.",
    )
}

/// Removes a failed upload's row and object; a failure here is the cron's to finish.
async fn discard(ctx: &Ctx, db: &Database, bucket: &Bucket, row: &Attachment) {
    if let Err(e) = bucket.delete(std::slice::from_ref(&row.r2_key)).await {
        ctx.note(format!(
            "attachment {}: removing the object failed: {e}",
            row.id
        ));
    }
    if let Err(e) = attachments::abort(db, row.id).await {
        ctx.note(format!(
            "attachment {}: removing the row failed: {e}",
            row.id
        ));
    }
}

/// Serves an uploaded file: 304 when `If-None-Match` matches, 206 for a single
/// satisfiable range (416 when none is), else 200 with the whole file, streamed from
/// R2 into the response.
pub async fn download(ctx: &Ctx, req: &Request, row: &Attachment) -> Result<Response, ApiError> {
    let etag = row.etag.as_deref().unwrap_or("\"\"");
    let file = File {
        filename: &row.filename,
        content_type: &row.content_type,
        size: row.size,
        etag,
    };
    if req
        .header("If-None-Match")
        .is_some_and(|h| none_match(&h, etag))
    {
        return Ok(download::not_modified(&file));
    }
    let range = match range_answer(
        req.header("Range").as_deref(),
        req.header("If-Range").as_deref(),
        row.size,
        etag,
    ) {
        RangeAnswer::Full => None,
        RangeAnswer::Partial { start, end } => Some((start, end)),
        RangeAnswer::Unsatisfiable => return Err(ApiError::RangeNotSatisfiable { size: row.size }),
    };
    let bucket = bucket(ctx)?;
    match bucket.get(&row.r2_key, range).await {
        Ok(Some(object)) => Ok(download::file(object.body, &file, range)),
        Ok(None) => {
            ctx.note(format!("attachment {}: its R2 object is missing", row.id));
            Err(ApiError::NotFound {
                message: "This attachment is no longer available.",
            })
        }
        Err(e) => Err(ApiError::Internal(format!("R2 get: {e}"))),
    }
}

/// An admin's delete: the R2 object first, then the row with an event (see
/// `store::attachments::delete`). `None` when there is no such attachment.
pub async fn delete(ctx: &Ctx, id: i64, staff_id: i64) -> Result<Option<Attachment>, ApiError> {
    let db = ctx.db()?;
    let Some(row) = attachments::one(&db, id).await? else {
        return Ok(None);
    };
    let bucket = bucket(ctx)?;
    bucket
        .delete(std::slice::from_ref(&row.r2_key))
        .await
        .map_err(|e| ApiError::Internal(format!("R2 delete: {e}")))?;
    Ok(attachments::delete(&db, id, Actor::Staff(staff_id), ctx.now).await?)
}

/// Files unsent after this long are expired: never sent, removed by the cron.
pub fn expiry(config: &Config, now: Timestamp) -> Timestamp {
    now.minus_seconds(config.attachments.orphan_hours * 3600)
}

/// How many expired files one cron run removes (R2 deletes up to 1000 keys at once).
const SWEEP_BATCH: u32 = 500;

/// The cron's sweep: files never sent with a message (crashed or abandoned uploads)
/// older than `ATTACHMENT_ORPHAN_HOURS`: withdrawn first (no message can claim them
/// any more), then their R2 objects deleted, then their rows. A run that fails midway
/// leaves withdrawn rows, which the next run picks up again.
/// Answers how many were removed.
pub async fn remove_expired(
    env: &Env,
    config: &Config,
    now: Timestamp,
    d1_trips: &RoundTrips,
    r2_trips: &RoundTrips,
) -> Result<usize, String> {
    let db = Database::from_env(env, d1_trips.clone()).map_err(|e| e.to_string())?;
    let cutoff = expiry(config, now);
    let expired = attachments::withdraw_expired(&db, cutoff, SWEEP_BATCH)
        .await
        .map_err(|e| e.to_string())?;
    if expired.is_empty() {
        return Ok(0);
    }
    let bucket =
        Bucket::from_env(env, r2_trips.clone()).ok_or("the R2 binding ATTACHMENTS is missing")?;
    let keys: Vec<String> = expired.iter().map(|e| e.r2_key.clone()).collect();
    bucket.delete(&keys).await?;
    let ids: Vec<i64> = expired.iter().map(|e| e.id).collect();
    attachments::remove_withdrawn(&db, &ids)
        .await
        .map_err(|e| e.to_string())
}
