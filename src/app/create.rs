//! What both create endpoints share besides the batch: the idempotency record, and
//! turning the batch's outcome into the answer or the refusal.

use crate::domain::abuse::{limited_message, policy_header, usage_header, BucketState, Limit};
use crate::domain::encoding::hex;
use crate::domain::hash::sha256_of;
use crate::domain::time::Timestamp;
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::Response;
use crate::store::rows::Ticket;
use crate::store::ticket_create::{CreateOutcome, IdempotencyClaim};

use super::Ctx;

/// What identifies a create for its idempotency record: where it came (the path, or
/// an MCP tool), its media type, and its body.
pub struct RequestIdentity<'a> {
    pub path: &'a str,
    pub media: &'static str,
    pub body: &'a [u8],
}

/// A create's idempotency record: the caller's key within its scope, what identifies
/// the request, and how long the first answer is kept.
pub struct Idempotency {
    scope: String,
    key: String,
    request_hash: String,
    expires_at: Timestamp,
}

impl Idempotency {
    /// The record for a create that sent `key`: scoped to the caller, identified by
    /// the request's path, media type and body, kept for `IDEMPOTENCY_TTL_SECONDS`.
    pub fn new(ctx: &Ctx, key: String, scope: String, request: &RequestIdentity<'_>) -> Self {
        Idempotency {
            scope,
            key,
            request_hash: hex(&sha256_of(&[
                request.path.as_bytes(),
                b"\0",
                request.media.as_bytes(),
                b"\0",
                request.body,
            ])),
            expires_at: ctx.now.plus_seconds(ctx.config.idempotency_ttl_seconds),
        }
    }

    pub fn claim(&self) -> IdempotencyClaim<'_> {
        IdempotencyClaim {
            scope: &self.scope,
            key: &self.key,
            request_hash: &self.request_hash,
            expires_at: self.expires_at,
        }
    }
}

/// A created ticket, and whether it is the replay of an earlier answer.
pub struct Settled {
    pub ticket: Ticket,
    pub replayed: bool,
}

impl Settled {
    /// Marks a replayed answer.
    pub fn mark(&self, response: &mut Response) {
        if self.replayed {
            response.set_header("Idempotent-Replayed", "true");
        }
    }
}

/// The `RateLimit-Policy` and `RateLimit` headers of the create limits.
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

fn rate_headers(
    ctx: &Ctx,
    limits: &[Limit],
    buckets: &[BucketState],
) -> Vec<(&'static str, String)> {
    if limits.is_empty() {
        return vec![];
    }
    let window = ctx.rate_window();
    vec![
        ("RateLimit-Policy", policy_header(limits, window.seconds)),
        (
            "RateLimit",
            usage_header(limits, &window.usage(ctx.now, buckets)),
        ),
    ]
}

/// The ticket to answer with, or the error for a refusal.
pub fn settle(
    outcome: CreateOutcome,
    ctx: &Ctx,
    limits: &[Limit],
    buckets: &[BucketState],
) -> Result<Settled, ApiError> {
    match outcome {
        CreateOutcome::Created(ticket) => Ok(Settled {
            ticket,
            replayed: false,
        }),
        CreateOutcome::Replayed(ticket) => Ok(Settled {
            ticket,
            replayed: true,
        }),
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
            let window = ctx.rate_window();
            let retry_after = window
                .retry_after_full(ctx.now, limits, buckets)
                .unwrap_or(window.seconds)
                .max(1);
            Err(ApiError::RateLimited {
                retry_after,
                message: limited_message(&limits[index], window.seconds, retry_after),
                headers: rate_headers(ctx, limits, buckets),
            })
        }
        CreateOutcome::Unexplained => Err(ApiError::Internal(
            "ticket create refused without a failing guard".into(),
        )),
    }
}
