//! The public API: anyone (the AI assistant, contact forms, widgets) may call it.

use serde_json::json;
use worker::{Request, Response};

use crate::domain::ticket::{CreatePolicy, NewTicket, Priority};
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::{body_kind, decode_fields, read_body, success, BodyKind, Ctx};
use crate::store::tickets::{self, Actor, CreateRefused, CreateTicket};

pub const CREATED_MESSAGE: &str = "Support ticket created successfully";

/// `POST /api/tickets/create`: validates, then writes ticket, number and event in
/// one D1 round trip. A plain HTML form post is redirected (303) to
/// `FORM_SUCCESS_URL` when one is configured.
pub async fn create(mut req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let kind = body_kind(&req)?;
    let body = read_body(&mut req, ctx.config.max_body_bytes).await?;
    let fields = decode_fields(kind, &body)?;
    let policy = CreatePolicy {
        categories: &ctx.config.categories,
        priorities: &Priority::PUBLIC,
    };
    let ticket = NewTicket::parse(&fields, &policy)?;

    let created = tickets::create(
        &ctx.db()?,
        &CreateTicket {
            ticket: &ticket,
            actor: Actor::Public,
            assigned_to: None,
            request_id: &ctx.request_id,
            year: ctx.now.year(),
            now: &ctx.now.rfc3339(),
        },
    )
    .await?
    .map_err(create_refused)?;

    let location = format!("/api/tickets/{}", created.ticket_number);
    let response = match (&ctx.config.form_success_url, kind) {
        (Some(url), BodyKind::Form) => {
            let separator = if url.contains('?') { '&' } else { '?' };
            let target = format!("{url}{separator}ticket={}", created.ticket_number);
            let response = success(
                303,
                CREATED_MESSAGE,
                json!({"ticket_number": created.ticket_number}),
            );
            let _ = response.headers().set("Location", &target);
            response
        }
        _ => {
            let response = success(
                201,
                CREATED_MESSAGE,
                json!({
                    "id": created.id,
                    "ticket_number": created.ticket_number,
                    "status": created.status,
                    "priority": created.priority,
                    "category": created.category,
                    "created_at": created.created_at,
                }),
            );
            let _ = response.headers().set("Location", &location);
            response
        }
    };
    Ok(response)
}

/// Explains a create that wrote nothing.
pub fn create_refused(refused: CreateRefused) -> ApiError {
    match refused {
        CreateRefused::UnknownUser => {
            ValidationError::single("user_id", "unknown_user", "User id does not match any user")
        }
        CreateRefused::InactiveAssignee => ValidationError::single(
            "assigned_to",
            "inactive_staff",
            "Assigned to does not match any active staff member",
        ),
    }
    .into()
}
