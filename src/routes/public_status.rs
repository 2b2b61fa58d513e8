//! Customers without a login: the private status link (JSON and an HTML page), replies
//! from it, and "I lost my link".

use crate::http::{Request, Response};
use serde_json::{json, Value};

use crate::access;
use crate::domain::abuse::{email_bucket, ip_bucket};
use crate::domain::email::EmailAddress;
use crate::domain::fields::{required_text, Fields, TextRule};
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::html::{self, PageMessage, StatusPage};
use crate::http::{body_kind, decode_fields, success, BodyKind, Ctx};
use crate::routes::creating;
use crate::store::messages::{self, Message, ReplyOutcome};
use crate::store::tickets::{self, Ticket};

fn not_found() -> ApiError {
    ApiError::NotFound {
        message: "No ticket matches this number and token.",
    }
}

/// The token from `X-Ticket-Token`, `?token=`, or a form's `token` field.
fn presented_token(req: &Request, fields: Option<&Fields>) -> Option<String> {
    req.header("X-Ticket-Token")
        .or_else(|| {
            req.query_pairs()
                .into_iter()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v)
        })
        .or_else(|| {
            fields
                .and_then(|f| f.get("token"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// Checks the token against the ticket. Unknown number, missing or wrong token all
/// give the same 404 after the same work, so numbers cannot be probed.
async fn authorize(
    ctx: &Ctx,
    ticket: Option<Ticket>,
    number: &str,
    token: Option<&str>,
) -> Result<Ticket, ApiError> {
    let Some(secret) = &ctx.config.ticket_token_secret else {
        return Err(not_found());
    };
    let id = ticket.as_ref().map_or(0, |t| t.id);
    let valid = access::verify(secret, id, number, token.unwrap_or(""));
    match ticket {
        Some(t) if valid && token.is_some() => Ok(t),
        _ => Err(not_found()),
    }
}

fn public_messages(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| !m.internal)
        .map(|m| json!({"author": m.author_type, "body": m.body, "created_at": m.created_at}))
        .collect()
}

/// `GET /api/tickets/{ticket_number}` with the token: status, timestamps, thread.
pub async fn status(req: Request, ctx: &Ctx, number: String) -> Result<Response, ApiError> {
    let view = messages::public_view(&ctx.db()?, &number).await?;
    let (ticket, thread) = match view {
        Some((t, m)) => (Some(t), m),
        None => (None, vec![]),
    };
    let ticket = authorize(ctx, ticket, &number, presented_token(&req, None).as_deref()).await?;
    Ok(success(
        200,
        "Ticket status",
        json!({
            "ticket_number": ticket.ticket_number,
            "subject": ticket.subject,
            "description": ticket.description,
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category,
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at,
            "resolved_at": ticket.resolved_at,
            "closed_at": ticket.closed_at,
            "messages": public_messages(&thread),
        }),
    ))
}

/// `GET /t/{ticket_number}?token=...`: the page a customer opens from an email.
pub async fn page(req: Request, ctx: &Ctx, number: String) -> Result<Response, ApiError> {
    let view = messages::public_view(&ctx.db()?, &number).await?;
    let (ticket, thread) = match view {
        Some((t, m)) => (Some(t), m),
        None => (None, vec![]),
    };
    let token = presented_token(&req, None);
    let ticket = match authorize(ctx, ticket, &number, token.as_deref()).await {
        Ok(t) => t,
        Err(ApiError::NotFound { .. }) => return Ok(html_response(404, html::not_found_page())),
        Err(e) => return Err(e),
    };
    let action = format!("/api/tickets/{}/messages", ticket.ticket_number);
    let page = html::status_page(&StatusPage {
        ticket_number: &ticket.ticket_number,
        subject: &ticket.subject,
        status: &ticket.status,
        priority: &ticket.priority,
        created_at: &ticket.created_at,
        updated_at: &ticket.updated_at,
        description: &ticket.description,
        messages: thread
            .iter()
            .filter(|m| !m.internal)
            .map(|m| PageMessage {
                author: &m.author_type,
                body: &m.body,
                created_at: &m.created_at,
            })
            .collect(),
        reply_action: (ticket.status != "closed").then_some(action.as_str()),
        token: token.as_deref().unwrap_or_default(),
        max_reply_chars: ctx.config.message_max_chars,
    });
    Ok(html_response(200, page))
}

fn html_response(status: u16, body: String) -> Response {
    Response::with_body(status, "text/html; charset=utf-8", body.into_bytes())
        .with_header("Content-Security-Policy", html::CONTENT_SECURITY_POLICY)
        .with_header("Referrer-Policy", "no-referrer")
        .with_header("X-Frame-Options", "DENY")
}

/// `POST /api/tickets/{ticket_number}/messages` `{body, token?}`: a customer's reply.
/// Reopens a resolved ticket; a closed one refuses. A form post (the status page) is
/// answered with a 303 back to the page.
pub async fn reply(req: Request, ctx: &Ctx, number: String) -> Result<Response, ApiError> {
    let kind = body_kind(&req)?;
    let body = req.body(ctx.config.max_body_bytes).await?;
    let fields = decode_fields(kind, &body)?;
    let token = presented_token(&req, Some(&fields));
    let db = ctx.db()?;
    let ticket = tickets::by_number(&db, &number).await?;
    let ticket = authorize(ctx, ticket, &number, token.as_deref()).await?;
    let rule = TextRule {
        label: "Message",
        max_chars: ctx.config.message_max_chars,
        multiline: true,
    };
    let mut errors = Vec::new();
    let Some(text) = required_text(&fields, "body", rule, &mut errors) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let window = ctx.config.rate_limit_window_seconds;
    let outcome = messages::customer_reply(
        &db,
        ticket.id,
        &text,
        ctx.config.customer_replies_per_ticket,
        &ctx.now.minus_seconds(window).rfc3339(),
        &ctx.outbox(),
    )
    .await?;
    match outcome {
        ReplyOutcome::Added {
            message,
            reopened,
            notifications,
        } => {
            ctx.deliver_after_response(notifications);
            if kind == BodyKind::Form {
                let page = format!(
                    "/t/{}?token={}",
                    ticket.ticket_number,
                    token.unwrap_or_default()
                );
                return Ok(Response::empty(303).with_header("Location", page));
            }
            Ok(success(
                201,
                "Reply added",
                json!({"message": public_messages(&[message])[0], "reopened": reopened}),
            ))
        }
        ReplyOutcome::Closed => Err(ApiError::Conflict {
            code: "ticket_closed",
            message: format!(
                "Ticket {} is closed. Please open a new ticket if you need more help.",
                ticket.ticket_number
            ),
            details: None,
        }),
        ReplyOutcome::RateLimited { frees_at } => Err(creating::limited(
            ctx,
            frees_at.as_deref(),
            "replies on this ticket",
        )),
    }
}

/// `POST /api/tickets/lookup` `{customer_email}`: always the same 202 (or the same
/// 429), whether or not the address has tickets; when it has, an email with their
/// links is queued. Existing links keep working.
pub async fn lookup(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let kind = body_kind(&req)?;
    let body = req.body(ctx.config.max_body_bytes).await?;
    let fields = decode_fields(kind, &body)?;
    let rule = TextRule {
        label: "Customer email",
        max_chars: 1_000,
        multiline: false,
    };
    let mut errors = Vec::new();
    let raw = required_text(&fields, "customer_email", rule, &mut errors);
    let Some(email) = raw.and_then(|r| EmailAddress::parse(&r).ok()) else {
        if errors.is_empty() {
            return Err(ValidationError::single(
                "customer_email",
                "invalid_email",
                "Customer email is not a valid email address",
            )
            .into());
        }
        return Err(ValidationError::from_details(errors).into());
    };
    let ip = req.client_ip();
    let email_key = format!("lookup-{}", email_bucket(&email));
    let ip_key = format!("lookup-{}", ip_bucket(&ip));
    let window = ctx.config.rate_limit_window_seconds;
    let outcome = messages::lookup(
        &ctx.db()?,
        email.as_str(),
        [
            (email_key.as_str(), ctx.config.lookups_per_email),
            (ip_key.as_str(), ctx.config.lookups_per_ip),
        ],
        &ctx.now.minus_seconds(window).rfc3339(),
        &ctx.outbox(),
    )
    .await?;
    match outcome {
        Ok(notifications) => {
            ctx.deliver_after_response(notifications);
            Ok(success(
                202,
                "If this address has tickets, an email with their links is on its way.",
                json!({}),
            ))
        }
        Err(frees_at) => Err(creating::limited(ctx, frees_at.as_deref(), "link requests")),
    }
}
