//! The outbox as the CRM sees it: what is pending, sent, skipped or failed, and a retry.

use crate::http::{Request, Response};
use serde_json::json;

use crate::auth;
use crate::domain::staff::Role;
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::{success, Ctx};
use crate::store::notifications;

const STATUSES: [&str; 4] = ["pending", "sent", "failed", "skipped"];

/// `GET /api/crm/notifications?status=failed&limit=50`, newest first.
pub async fn list(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Agent).await?;
    let mut status = None;
    let mut limit = 50;
    for (name, value) in req.query_pairs() {
        match name.as_str() {
            "status" if STATUSES.contains(&value.as_str()) => status = Some(value),
            "status" => {
                return Err(ValidationError::single(
                    "status",
                    "invalid_choice",
                    "status must be one of: pending, sent, failed, skipped",
                )
                .into())
            }
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=200).contains(&n) => limit = n,
                _ => {
                    return Err(ValidationError::single(
                        "limit",
                        "invalid_integer",
                        "limit must be an integer from 1 to 200",
                    )
                    .into())
                }
            },
            _ => {}
        }
    }
    let rows = notifications::list(&ctx.db()?, status.as_deref(), limit).await?;
    Ok(success(
        200,
        "Notifications",
        json!({ "notifications": rows }),
    ))
}

/// `POST /api/crm/notifications/{id}/retry`: due now with fresh attempts, delivered
/// right after this response.
pub async fn retry(req: Request, ctx: &Ctx, id: i64) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Agent).await?;
    let outbox = ctx.outbox();
    let row = notifications::retry(&ctx.db()?, id, &outbox.now, &outbox.lease_until)
        .await?
        .ok_or(ApiError::NotFound {
            message: "No failed or skipped notification has this id.",
        })?;
    ctx.deliver_after_response(vec![row.clone()]);
    Ok(success(
        202,
        "Retry scheduled",
        json!({ "notification": row }),
    ))
}
