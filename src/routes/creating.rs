//! What both create endpoints share: idempotency keys, rate-limit headers, and
//! turning a refused create into the right answer.

use crate::http::{Request, Response};

use crate::crypto;
use crate::domain::abuse::{
    limited_message, policy_header, usage_header, valid_idempotency_key, Limit, Usage,
};
use crate::domain::encoding::hex;
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::Ctx;
use crate::store::ticket_create::{BucketState, CreateOutcome, IdempotencyClaim};
use crate::store::tickets::Ticket;

/// The `Idempotency-Key` header, if sent and well formed.
pub fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    match req.header("Idempotency-Key") {
        None => Ok(None),
        Some(key) if valid_idempotency_key(&key) => Ok(Some(key)),
        Some(_) => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        )),
    }
}

/// Identifies a request's content: same hash, same request.
fn request_hash(path: &str, content_type: &str, body: &[u8]) -> String {
    hex(&crypto::sha256_of(&[
        path.as_bytes(),
        b"\0",
        content_type.as_bytes(),
        b"\0",
        body,
    ]))
}

/// Owns the strings an `IdempotencyClaim` borrows.
pub struct Idempotency {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
    pub expires_at: String,
}

impl Idempotency {
    /// The record for a create that sent `key`: scoped to the caller, identified by
    /// the request's path, media type and body, kept for `IDEMPOTENCY_TTL_SECONDS`.
    pub fn new(
        ctx: &Ctx,
        key: String,
        scope: String,
        path: &str,
        media: &str,
        body: &[u8],
    ) -> Self {
        Idempotency {
            scope,
            key,
            request_hash: request_hash(path, media, body),
            expires_at: ctx
                .now
                .plus_seconds(ctx.config.idempotency_ttl_seconds)
                .rfc3339(),
        }
    }

    pub fn claim(&self) -> IdempotencyClaim<'_> {
        IdempotencyClaim {
            scope: &self.scope,
            key: &self.key,
            request_hash: &self.request_hash,
            expires_at: &self.expires_at,
        }
    }
}

/// Seconds until the hit at `frees_at` leaves the sliding window (0 without one).
pub fn seconds_until_expiry(ctx: &Ctx, frees_at: Option<&str>) -> u64 {
    let window = ctx.config.rate_limit_window_seconds;
    frees_at
        .and_then(crate::domain::clock::Now::parse_override)
        .map_or(0, |at| {
            ctx.now.seconds_until(&at.plus_seconds(window).rfc3339())
        })
}

/// Seconds from now until each bucket frees a slot.
pub fn usage(ctx: &Ctx, buckets: &[BucketState]) -> Vec<Usage> {
    buckets
        .iter()
        .map(|b| Usage {
            used: b.used,
            reset_seconds: seconds_until_expiry(ctx, b.frees_at.as_deref()),
        })
        .collect()
}

/// A 429 for a limit other than the create limits (replies, lookups).
pub fn limited(ctx: &Ctx, frees_at: Option<&str>, what: &str) -> ApiError {
    let retry_after = match seconds_until_expiry(ctx, frees_at) {
        0 => ctx.config.rate_limit_window_seconds,
        s => s,
    };
    ApiError::RateLimited {
        retry_after,
        message: format!(
            "Too many {what}. Please try again in {} minute(s).",
            retry_after.div_ceil(60)
        ),
        headers: vec![],
    }
}

fn rate_headers(
    ctx: &Ctx,
    limits: &[Limit],
    buckets: &[BucketState],
) -> Vec<(&'static str, String)> {
    if limits.is_empty() {
        return vec![];
    }
    vec![
        (
            "RateLimit-Policy",
            policy_header(limits, ctx.config.rate_limit_window_seconds),
        ),
        ("RateLimit", usage_header(limits, &usage(ctx, buckets))),
    ]
}

pub fn add_rate_headers(
    response: &mut Response,
    ctx: &Ctx,
    limits: &[Limit],
    buckets: &[BucketState],
) {
    for (name, value) in rate_headers(ctx, limits, buckets) {
        response.set_header(name, value);
    }
}

/// The ticket to answer with and whether it is a replay, or the error for a refusal.
pub fn settle(
    outcome: CreateOutcome,
    ctx: &Ctx,
    limits: &[Limit],
    buckets: &[BucketState],
) -> Result<(Ticket, bool), ApiError> {
    match outcome {
        CreateOutcome::Created(ticket) => Ok((ticket, false)),
        CreateOutcome::Replayed(ticket) => Ok((ticket, true)),
        CreateOutcome::KeyReused => Err(ApiError::KeyReused),
        CreateOutcome::UnknownUser => Err(ValidationError::single(
            "user_id",
            "unknown_user",
            "User id does not match a user with this customer email",
        )
        .into()),
        CreateOutcome::InactiveAssignee => Err(ValidationError::single(
            "assigned_to",
            "inactive_staff",
            "Assigned to does not match any active staff member",
        )
        .into()),
        CreateOutcome::RateLimited(index) => {
            let window = ctx.config.rate_limit_window_seconds;
            // When several buckets are full, a new ticket waits for the last to free.
            let retry_after = usage(ctx, buckets)
                .iter()
                .zip(limits)
                .filter(|(u, l)| u.used >= l.max)
                .map(|(u, _)| u.reset_seconds)
                .max()
                .unwrap_or(window)
                .max(1);
            Err(ApiError::RateLimited {
                retry_after,
                message: limited_message(&limits[index], window, retry_after),
                headers: rate_headers(ctx, limits, buckets),
            })
        }
        CreateOutcome::Unexplained => Err(ApiError::Internal(
            "ticket create refused without a failing guard".into(),
        )),
    }
}

/// Marks a replayed answer.
pub fn mark_replayed(response: &mut Response) {
    response.set_header("Idempotent-Replayed", "true");
}
