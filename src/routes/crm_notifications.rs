//! The outbox as the CRM sees it: what is pending, sent, skipped or failed, and a retry.

use super::answers::{all, NotificationAnswer};
use super::call::{Answer, ClaimCall};
use crate::app::sessions::Staff;
use crate::domain::notification::DeliveryStatus;
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::{success, Named};
use crate::store::notifications;

/// `GET /api/crm/notifications?status=failed&limit=50`, newest first.
pub async fn list(call: ClaimCall<'_>) -> Answer {
    let (req, ctx, claim, _) = call.parts();
    let mut status = None;
    let mut limit = 50;
    for (name, value) in req.query_pairs() {
        match name.as_str() {
            "status" => match DeliveryStatus::parse(&value) {
                Some(s) => status = Some(s),
                None => {
                    return Err(ValidationError::single(
                        "status",
                        "invalid_choice",
                        "status must be one of: pending, sent, failed, skipped",
                    )
                    .into())
                }
            },
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
    let staff = Staff::Claimed(claim);
    let rows = staff.open(notifications::list(&ctx.db()?, &staff.guard(), status, limit).await?)?;
    Ok(success(
        200,
        "Notifications",
        &Named("notifications", all::<_, NotificationAnswer>(&rows)),
    ))
}

/// `POST /api/crm/notifications/{id}/retry`: due now with fresh attempts, delivered
/// right after this response.
pub async fn retry(call: ClaimCall<'_>) -> Answer {
    let (_, ctx, claim, params) = call.parts();
    let staff = Staff::Claimed(claim);
    let outbox = ctx.outbox();
    let retried = notifications::retry(
        &ctx.db()?,
        &staff.guard(),
        params.id()?,
        outbox.now,
        outbox.lease_until,
    )
    .await?;
    let row = staff.open(retried)?.ok_or(ApiError::NotFound {
        message: "No failed or skipped notification has this id.",
    })?;
    let answer = success(
        202,
        "Retry scheduled",
        &Named("notification", NotificationAnswer::from(&row)),
    );
    ctx.deliver_after_response(vec![row]);
    Ok(answer)
}
