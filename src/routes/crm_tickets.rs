//! The CRM ticket API: everything a support desk does with a ticket.

use crate::http::{Request, Response};
use serde_json::json;

use crate::access;
use crate::auth;
use crate::domain::fields::{optional_id, required_text, TextRule};
use crate::domain::lifecycle::{allowed_actions, Action};
use crate::domain::listing::{Cursor, TicketQuery};
use crate::domain::staff::Role;
use crate::domain::ticket::{CreatePolicy, NewTicket, Priority, TicketEdit};
use crate::domain::validation::{FieldError, ValidationError};
use crate::error::ApiError;
use crate::http::{
    body_kind, decode_fields, read_json, read_optional_json, success, BodyKind, Ctx,
};
use crate::routes::creating::{self, Idempotency};
use crate::routes::public_tickets::CREATED_MESSAGE;
use crate::store::messages;
use crate::store::ticket_create::{self, CreateTicket};
use crate::store::tickets::{self, Actor, Change, Ticket, TicketRef};

fn ticket_not_found() -> ApiError {
    ApiError::NotFound {
        message: "No ticket has this id or number.",
    }
}

/// `POST /api/crm/tickets/create`: the public validation, plus `assigned_to` (the
/// ticket then starts `assigned`) and `urgent` priority; `created_by` is the caller.
/// Staff are not rate limited; `Idempotency-Key` is scoped to the staff member.
pub async fn create(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let session = auth::require_staff(&req, ctx, Role::Agent).await?;
    if body_kind(&req)? != BodyKind::Json {
        return Err(ApiError::UnsupportedMediaType {
            accepted: "application/json",
        });
    }
    let idempotency_key = creating::idempotency_key(&req)?;
    let body = req.body(ctx.config.max_body_bytes).await?;
    let fields = decode_fields(BodyKind::Json, &body)?;
    let policy = CreatePolicy {
        categories: &ctx.config.categories,
        priorities: &Priority::ALL,
    };
    let mut errors = Vec::new();
    let assigned_to = optional_id(&fields, "assigned_to", "Assigned to", &mut errors);
    let ticket = match NewTicket::parse(&fields, &policy) {
        Ok(t) if errors.is_empty() => t,
        Ok(_) => return Err(ValidationError::from_details(errors).into()),
        Err(mut e) => {
            e.details.extend(errors);
            return Err(e.into());
        }
    };
    let idempotency = match idempotency_key {
        None => None,
        Some(key) => {
            let scope = format!("staff:{}", session.staff_id());
            Some(Idempotency::new(ctx, key, scope, req.path(), "json", &body))
        }
    };
    let outbox = ctx.outbox();
    let result = ticket_create::create(
        &ctx.db()?,
        &CreateTicket {
            ticket: &ticket,
            actor: Actor::Staff(session.staff_id()),
            assigned_to,
            user_must_match_email: false,
            limits: &[],
            window_start: "",
            idempotency: idempotency.as_ref().map(Idempotency::claim),
            outbox: &outbox,
            request_id: &ctx.request_id,
            year: ctx.now.year(),
        },
    )
    .await?;
    let (created, replayed) = creating::settle(result.outcome, ctx, &[], &[])?;
    let mut data = json!(created);
    if let Some((token, status_url)) = access::link_fields(ctx, created.id, &created.ticket_number)
    {
        data["access_token"] = json!(token);
        data["status_url"] = json!(status_url);
    }
    ctx.deliver_after_response(result.notifications);
    let mut response = success(201, CREATED_MESSAGE, data)
        .with_header("Location", format!("/api/crm/tickets/{}", created.id));
    if replayed {
        creating::mark_replayed(&mut response);
    }
    Ok(response)
}

/// `GET /api/crm/tickets`: filters, sort, cursor pagination (see `TicketQuery`).
pub async fn list(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let session = auth::require_staff(&req, ctx, Role::Agent).await?;
    let pairs = req.query_pairs();
    let query = TicketQuery::parse(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        session.staff_id(),
    )?;
    let (mut page, total) = tickets::list(&ctx.db()?, &query).await?;
    let next_cursor = if page.len() > query.limit as usize {
        page.truncate(query.limit as usize);
        page.last().map(|last| {
            Cursor {
                sort: query.sort,
                order: query.order,
                key: tickets::sort_key(last, query.sort),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    let mut data = json!({"tickets": page, "next_cursor": next_cursor});
    if let Some(total) = total {
        data["total"] = json!(total);
    }
    Ok(success(200, "Tickets", data))
}

/// `GET /api/crm/tickets/{id or ticket number}`: the ticket and its timeline.
pub async fn get(req: Request, ctx: &Ctx, reference: TicketRef) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Agent).await?;
    let (ticket, events, messages) = tickets::get_with_events(&ctx.db()?, &reference)
        .await?
        .ok_or_else(ticket_not_found)?;
    Ok(success(
        200,
        "Ticket",
        json!({"ticket": ticket, "events": events, "messages": messages}),
    ))
}

/// `PATCH /api/crm/tickets/{id}` `{subject?, description?, priority?, category?, version?}`.
pub async fn edit(req: Request, ctx: &Ctx, id: i64) -> Result<Response, ApiError> {
    let session = auth::require_staff(&req, ctx, Role::Agent).await?;
    let fields = read_json(&req, ctx).await?;
    let version = version(&fields)?;
    let edit = TicketEdit::parse(&fields, &ctx.config.categories)?;
    let change = tickets::edit(
        &ctx.db()?,
        id,
        &edit,
        version,
        Actor::Staff(session.staff_id()),
        &ctx.now.rfc3339(),
    )
    .await?;
    let ticket = changed(change, version, None, |current| ApiError::Conflict {
        code: "ticket_closed",
        message: format!(
            "Ticket {} is closed; reopen it before editing.",
            current.ticket_number
        ),
        details: None,
    })?;
    Ok(success(200, "Ticket updated", json!({ "ticket": ticket })))
}

/// `POST /api/crm/tickets/{id}/{assign|unassign|resolve|close|reopen}` `{staff_id?, version?}`.
pub async fn act(req: Request, ctx: &Ctx, id: i64, action: Action) -> Result<Response, ApiError> {
    let session = auth::require_staff(&req, ctx, Role::Agent).await?;
    let fields = read_optional_json(&req, ctx).await?;
    let version = version(&fields)?;
    let assignee = if action == Action::Assign {
        let mut errors = Vec::new();
        match optional_id(&fields, "staff_id", "Staff id", &mut errors) {
            Some(id) => Some(id),
            None if errors.is_empty() => {
                return Err(
                    ValidationError::single("staff_id", "required", "Staff id is required").into(),
                )
            }
            None => return Err(ValidationError::from_details(errors).into()),
        }
    } else {
        None
    };
    let change = tickets::act(
        &ctx.db()?,
        id,
        action,
        assignee,
        version,
        Actor::Staff(session.staff_id()),
        &ctx.now.rfc3339(),
    )
    .await?;
    let ticket = changed(change, version, assignee, |current| {
        let allowed = allowed_actions(current.status());
        ApiError::Conflict {
            code: "invalid_transition",
            message: format!(
                "A {} ticket cannot be {}; allowed: {}.",
                current.status,
                past_tense(action),
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(", ")
                }
            ),
            details: Some(json!({"status": current.status, "allowed_actions": allowed})),
        }
    })?;
    Ok(success(
        200,
        &format!("Ticket {}", past_tense(action)),
        json!({ "ticket": ticket }),
    ))
}

/// `POST /api/crm/tickets/{id}/messages` `{body, internal?}`: a reply to the customer
/// (emailed to them) or an internal note (never shown on a public route).
pub async fn add_message(req: Request, ctx: &Ctx, id: i64) -> Result<Response, ApiError> {
    let session = auth::require_staff(&req, ctx, Role::Agent).await?;
    let fields = read_json(&req, ctx).await?;
    let rule = TextRule {
        label: "Message",
        max_chars: ctx.config.message_max_chars,
        multiline: true,
    };
    let mut errors = Vec::new();
    let body = required_text(&fields, "body", rule, &mut errors);
    let internal = match fields.get("internal") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(FieldError::new(
                "internal",
                "invalid_type",
                "internal must be true or false",
            ));
            false
        }
    };
    let (Some(body), true) = (body, errors.is_empty()) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let (message, notifications) = messages::staff_message(
        &ctx.db()?,
        id,
        session.staff_id(),
        &body,
        internal,
        &ctx.outbox(),
    )
    .await?
    .ok_or_else(ticket_not_found)?;
    ctx.deliver_after_response(notifications);
    let what = if internal {
        "Internal note added"
    } else {
        "Reply sent"
    };
    Ok(success(201, what, json!({ "message": message })))
}

/// `GET /api/crm/stats`: counts for the dashboard.
pub async fn stats(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Agent).await?;
    Ok(success(
        200,
        "Ticket statistics",
        tickets::stats(&ctx.db()?).await?,
    ))
}

fn past_tense(action: Action) -> &'static str {
    match action {
        Action::Assign => "assigned",
        Action::Unassign => "unassigned",
        Action::Resolve => "resolved",
        Action::Close => "closed",
        Action::Reopen => "reopened",
    }
}

/// The optional `version` for optimistic concurrency.
fn version(fields: &crate::domain::fields::Fields) -> Result<Option<i64>, ApiError> {
    let mut errors = Vec::new();
    let version = optional_id(fields, "version", "Version", &mut errors);
    if errors.is_empty() {
        Ok(version)
    } else {
        Err(ValidationError::from_details(errors).into())
    }
}

/// Explains a refused change, most specific first: no ticket, a stale version, an
/// inactive assignee, then the state (`refused_by_state`).
fn changed(
    change: Change,
    version: Option<i64>,
    assignee: Option<i64>,
    refused_by_state: impl FnOnce(&Ticket) -> ApiError,
) -> Result<Ticket, ApiError> {
    let (current, assignee_active) = match change {
        Change::Done(ticket) => return Ok(ticket),
        Change::Refused {
            current,
            assignee_active,
        } => (current, assignee_active),
    };
    let current = current.ok_or_else(ticket_not_found)?;
    if version.is_some_and(|v| v != current.version) {
        return Err(ApiError::Conflict {
            code: "stale_version",
            message: format!(
                "The ticket changed since version {}; reload it (now version {}) and try again.",
                version.unwrap_or_default(),
                current.version
            ),
            details: Some(json!({"current_version": current.version})),
        });
    }
    if assignee.is_some() && !assignee_active {
        return Err(ValidationError::from_details(vec![FieldError::new(
            "staff_id",
            "inactive_staff",
            "Staff id does not match any active staff member",
        )])
        .into());
    }
    Err(refused_by_state(&current))
}
