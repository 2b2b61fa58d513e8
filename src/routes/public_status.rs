//! Customers without a login: the private status link (JSON and an HTML page), replies
//! from it, and "I lost my link".

use serde::Serialize;
use serde_json::Value;

use super::call::{Answer, Call};
use super::input::read_fields;
use crate::app::Ctx;
use crate::domain::abuse::{email_bucket, ip_bucket, Limit};
use crate::domain::email::EmailAddress;
use crate::domain::fields::{required_text, Fields, TextRule};
use crate::domain::lifecycle::{customer_reply_effect, ReplyEffect};
use crate::domain::status_link;
use crate::domain::ticket::{MessageAuthor, Priority, Status, TicketNumber};
use crate::domain::time::Timestamp;
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::html::{page_response, CONTENT_SECURITY_POLICY};
use crate::http::status_page::{not_found_page, status_page, PageMessage, StatusPage};
use crate::http::{success, BodyKind, Nothing, Response};
use crate::platform::request::Request;
use crate::store::link_requests::{self, LookupOutcome};
use crate::store::messages::{self, ReplyOutcome};
use crate::store::rows::{Message, Ticket};
use crate::store::tickets::{reads, TicketRef};

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
fn authorize<T>(
    ctx: &Ctx,
    found: Option<(Ticket, T)>,
    number: &TicketNumber,
    token: Option<&str>,
) -> Result<(Ticket, T), ApiError> {
    let Some(secret) = &ctx.config.ticket_token_secret else {
        return Err(not_found());
    };
    let id = found.as_ref().map_or(0, |(t, _)| t.id);
    let valid = status_link::verify(secret, id, number, token.unwrap_or(""));
    match found {
        Some(found) if valid && token.is_some() => Ok(found),
        _ => Err(not_found()),
    }
}

/// A message as customers see it (internal notes never get this far).
#[derive(Serialize)]
struct PublicMessage<'a> {
    author: MessageAuthor,
    body: &'a str,
    created_at: Timestamp,
}

impl<'a> From<&'a Message> for PublicMessage<'a> {
    fn from(m: &'a Message) -> Self {
        PublicMessage {
            author: m.author_type,
            body: &m.body,
            created_at: m.created_at,
        }
    }
}

/// What the status link shows.
#[derive(Serialize)]
struct TicketStatus<'a> {
    ticket_number: &'a TicketNumber,
    subject: &'a str,
    description: &'a str,
    status: Status,
    priority: Priority,
    category: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
    resolved_at: Option<Timestamp>,
    closed_at: Option<Timestamp>,
    messages: Vec<PublicMessage<'a>>,
}

/// `GET /api/tickets/{ticket_number}` with the token: status, timestamps, thread.
pub async fn status(call: Call<'_>) -> Answer {
    let (req, ctx, params) = call.parts();
    let number = params.ticket_number()?;
    let found = reads::with_public_thread(&ctx.db()?, &TicketRef::Number(number.clone())).await?;
    let token = presented_token(&req, None);
    let (ticket, thread) = authorize(ctx, found, &number, token.as_deref())?;
    Ok(success(
        200,
        "Ticket status",
        &TicketStatus {
            ticket_number: &ticket.ticket_number,
            subject: &ticket.subject,
            description: &ticket.description,
            status: ticket.status,
            priority: ticket.priority,
            category: ticket.category.as_deref(),
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            resolved_at: ticket.resolved_at,
            closed_at: ticket.closed_at,
            messages: thread.iter().map(PublicMessage::from).collect(),
        },
    ))
}

/// `GET /t/{ticket_number}?token=...`: the page a customer opens from an email.
/// With `created=1` (where the support form's post lands) it opens with a banner
/// that confirms the number and shows the private link to keep.
pub async fn page(call: Call<'_>) -> Answer {
    let (req, ctx, params) = call.parts();
    let number = params.ticket_number()?;
    let found = reads::with_public_thread(&ctx.db()?, &TicketRef::Number(number.clone())).await?;
    let token = presented_token(&req, None);
    let (ticket, thread) = match authorize(ctx, found, &number, token.as_deref()) {
        Ok(found) => found,
        Err(ApiError::NotFound { .. }) => return Ok(html_response(404, not_found_page())),
        Err(e) => return Err(e),
    };
    let action = format!("/api/tickets/{}/messages", ticket.ticket_number);
    let times: Vec<String> = thread.iter().map(|m| m.created_at.rfc3339()).collect();
    let token = token.unwrap_or_default();
    let just_created = req
        .query_pairs()
        .iter()
        .any(|(k, v)| k == "created" && v == "1")
        .then(|| status_link::url(ctx.link_base(), &ticket.ticket_number, &token));
    let page = status_page(&StatusPage {
        ticket_number: ticket.ticket_number.as_str(),
        subject: &ticket.subject,
        status: ticket.status.as_str(),
        priority: ticket.priority.as_str(),
        created_at: &ticket.created_at.rfc3339(),
        updated_at: &ticket.updated_at.rfc3339(),
        description: &ticket.description,
        messages: thread
            .iter()
            .zip(&times)
            .map(|(m, at)| PageMessage {
                author: m.author_type.as_str(),
                body: &m.body,
                created_at: at,
            })
            .collect(),
        reply_action: (customer_reply_effect(ticket.status) != ReplyEffect::Refused)
            .then_some(action.as_str()),
        token: &token,
        max_reply_chars: ctx.config.message_max_chars,
        just_created: just_created.as_deref(),
    });
    Ok(html_response(200, page))
}

fn html_response(status: u16, body: String) -> Response {
    page_response(status, CONTENT_SECURITY_POLICY, body)
}

#[derive(Serialize)]
struct ReplyAdded<'a> {
    message: PublicMessage<'a>,
    reopened: bool,
}

/// `POST /api/tickets/{ticket_number}/messages` `{body, token?}`: a customer's reply.
/// Reopens a resolved ticket; a closed one refuses. A form post (the status page) is
/// answered with a 303 back to the page.
pub async fn reply(call: Call<'_>) -> Answer {
    let (req, ctx, params) = call.parts();
    let number = params.ticket_number()?;
    let (kind, _, fields) = read_fields(&req, ctx).await?;
    let token = presented_token(&req, Some(&fields));
    let db = ctx.db()?;
    let found = reads::one(&db, &TicketRef::Number(number.clone()))
        .await?
        .map(|t| (t, ()));
    let (ticket, ()) = authorize(ctx, found, &number, token.as_deref())?;
    let rule = TextRule {
        label: "Message",
        max_chars: ctx.config.message_max_chars,
        multiline: true,
    };
    let mut errors = Vec::new();
    let Some(text) = required_text(&fields, "body", rule, &mut errors) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let window = ctx.rate_window();
    let outcome = messages::customer_reply(
        &db,
        ticket.id,
        &text,
        ctx.config.customer_replies_per_ticket,
        window.start(ctx.now),
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
                &ReplyAdded {
                    message: PublicMessage::from(&message),
                    reopened,
                },
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
        ReplyOutcome::RateLimited(bucket) => Err(ApiError::too_many(
            "replies on this ticket",
            window.retry_after(ctx.now, bucket.frees_at),
        )),
    }
}

/// `POST /api/tickets/lookup` `{customer_email}`: always the same 202 (or the same
/// 429), whether or not the address has tickets; when it has, an email with their
/// links is queued. Existing links keep working.
pub async fn lookup(call: Call<'_>) -> Answer {
    let (req, ctx, _) = call.parts();
    let (_, _, fields) = read_fields(&req, ctx).await?;
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
    let limits = [
        Limit {
            name: "email",
            bucket: format!("lookup-{}", email_bucket(&email)),
            max: ctx.config.lookups_per_email,
        },
        Limit {
            name: "ip",
            bucket: format!("lookup-{}", ip_bucket(&req.client_ip())),
            max: ctx.config.lookups_per_ip,
        },
    ];
    let window = ctx.rate_window();
    let outcome = link_requests::request_links(
        &ctx.db()?,
        email.as_str(),
        &limits,
        window.start(ctx.now),
        &ctx.outbox(),
    )
    .await?;
    match outcome {
        LookupOutcome::Accepted(notifications) => {
            ctx.deliver_after_response(notifications);
            Ok(success(
                202,
                "If this address has tickets, an email with their links is on its way.",
                &Nothing {},
            ))
        }
        LookupOutcome::RateLimited(buckets) => Err(ApiError::too_many(
            "link requests",
            window
                .retry_after_full(ctx.now, &limits, &buckets)
                .unwrap_or(window.seconds),
        )),
    }
}
