//! Customers without a login: the private status link (JSON and an HTML page), replies
//! from it, and "I lost my link".

use serde::Serialize;
use serde_json::Value;

use super::answers::{public_download_path, PublicAttachmentAnswer};
use super::call::{Answer, Call};
use super::input::{attachment_ids, read_fields};
use crate::app::attachments::expiry;
use crate::app::links::StatusLink;
use crate::app::Ctx;
use crate::domain::abuse::{email_bucket, ip_bucket, Limit};
use crate::domain::attachment::human_size;
use crate::domain::email::EmailAddress;
use crate::domain::fields::{required_text, Fields, TextRule};
use crate::domain::lifecycle::{customer_reply_effect, ReplyEffect};
use crate::domain::status_link::{self, Proof};
use crate::domain::ticket::{MessageAuthor, Priority, Status, TicketNumber};
use crate::domain::time::Timestamp;
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::form_post::prefers_html;
use crate::http::html::page_response;
use crate::http::status_page::{
    not_found_page, status_page, PageAttachment, PageMessage, StatusPage, UploadControl,
    STATUS_PAGE_CSP,
};
use crate::http::{success, with_error_headers, BodyKind, Nothing, Response};
use crate::platform::request::Request;
use crate::store::link_requests::{self, LookupOutcome};
use crate::store::messages::{self, CustomerReply, ReplyOutcome};
use crate::store::rows::{Attachment, Message, Ticket};
use crate::store::tickets::reads::{self, Thread};
use crate::store::tickets::{changes, TicketRef};
use crate::store::Database;

pub(super) fn not_found() -> ApiError {
    ApiError::NotFound {
        message: "No ticket matches this number and token.",
    }
}

/// The token from `X-Ticket-Token`, `?token=`, or a form's `token` field.
pub(super) fn presented_token(req: &Request, fields: Option<&Fields>) -> Option<String> {
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
/// give the same 404 after the same work, so numbers cannot be probed. A token from an
/// email proves the requester controls the address: recorded once, for staff to see.
pub(super) async fn authorize<T>(
    ctx: &Ctx,
    db: &Database,
    found: Option<(Ticket, T)>,
    number: &TicketNumber,
    token: Option<&str>,
) -> Result<(Ticket, T), ApiError> {
    let Some(secret) = &ctx.config.ticket_token_secret else {
        return Err(not_found());
    };
    let id = found.as_ref().map_or(0, |(t, _)| t.id);
    let proof = status_link::check(secret, id, number, token.unwrap_or(""));
    match (found, proof) {
        (Some((mut ticket, rest)), Some(proof)) if token.is_some() => {
            if proof == Proof::Emailed && !ticket.requester_verified {
                changes::mark_requester_verified(db, ticket.id, ctx.now).await?;
                ticket.requester_verified = true;
            }
            Ok((ticket, rest))
        }
        _ => Err(not_found()),
    }
}

/// The ticket with its public thread, for the holder of its token (see `authorize`).
async fn public_thread(
    ctx: &Ctx,
    db: &Database,
    number: &TicketNumber,
    token: Option<&str>,
) -> Result<(Ticket, Thread), ApiError> {
    let found = reads::with_public_thread(db, &TicketRef::Number(number.clone())).await?;
    authorize(ctx, db, found, number, token).await
}

/// The ticket alone, for the holder of its token (see `authorize`).
pub(super) async fn public_ticket(
    ctx: &Ctx,
    db: &Database,
    number: &TicketNumber,
    token: Option<&str>,
) -> Result<Ticket, ApiError> {
    let found = reads::one(db, &TicketRef::Number(number.clone()))
        .await?
        .map(|t| (t, ()));
    Ok(authorize(ctx, db, found, number, token).await?.0)
}

/// A message as customers see it (internal notes never get this far), with the
/// files sent with it.
#[derive(Serialize)]
struct PublicMessage<'a> {
    author: MessageAuthor,
    body: &'a str,
    created_at: Timestamp,
    attachments: Vec<PublicAttachmentAnswer<'a>>,
}

impl<'a> PublicMessage<'a> {
    fn new(
        m: &'a Message,
        attachments: impl Iterator<Item = &'a Attachment>,
        number: &TicketNumber,
    ) -> Self {
        PublicMessage {
            author: m.author_type,
            body: &m.body,
            created_at: m.created_at,
            attachments: attachments
                .map(|a| PublicAttachmentAnswer::new(a, number))
                .collect(),
        }
    }

    fn of_thread(thread: &'a Thread, number: &TicketNumber) -> Vec<Self> {
        thread
            .messages
            .iter()
            .map(|m| Self::new(m, thread.attachments_of(m.id), number))
            .collect()
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
    let token = presented_token(&req, None);
    ticket_status(ctx, params.ticket_number()?, token.as_deref()).await
}

/// A ticket's status and public thread, for the holder of its token.
pub async fn ticket_status(ctx: &Ctx, number: TicketNumber, token: Option<&str>) -> Answer {
    let (ticket, thread) = public_thread(ctx, &ctx.db()?, &number, token).await?;
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
            messages: PublicMessage::of_thread(&thread, &ticket.ticket_number),
        },
    ))
}

/// `GET /t/{ticket_number}?token=...`: the page a customer opens from an email.
/// With `created=1` (where the support form's post lands) it opens with a banner
/// that confirms the number and shows the private link to keep.
pub async fn page(call: Call<'_>) -> Answer {
    let (req, ctx, params) = call.parts();
    let just_created = req
        .query_pairs()
        .iter()
        .any(|(k, v)| k == "created" && v == "1");
    let token = presented_token(&req, None);
    let shown = Shown {
        just_created,
        refused: None,
    };
    status_page_answer(ctx, params.ticket_number()?, token.as_deref(), shown).await
}

/// What the status page shows besides the ticket.
struct Shown<'a> {
    just_created: bool,
    /// A reply the form posted and the API refused: the error, and what was typed.
    refused: Option<(&'a ApiError, &'a str)>,
}

/// The status page (or the not-found page, for a wrong number or token), with the
/// refused reply's status and headers (`Retry-After`) when there is one.
async fn status_page_answer(
    ctx: &Ctx,
    number: TicketNumber,
    token: Option<&str>,
    shown: Shown<'_>,
) -> Answer {
    let (ticket, thread) = match public_thread(ctx, &ctx.db()?, &number, token).await {
        Ok(found) => found,
        Err(ApiError::NotFound { .. }) => return Ok(html_response(404, not_found_page())),
        Err(e) => return Err(e),
    };
    let action = format!("/api/tickets/{}/messages", ticket.ticket_number);
    let upload_action = format!("/api/tickets/{}/attachments", ticket.ticket_number);
    let token = token.unwrap_or_default();
    let just_created = shown
        .just_created
        .then(|| StatusLink::with_token(ctx, &ticket.ticket_number, token.to_owned()).status_url);
    let problem = shown.refused.map(|(error, _)| refusal_text(error));
    let limits = &ctx.config.attachments;
    let page = status_page(&StatusPage {
        ticket_number: ticket.ticket_number.as_str(),
        subject: &ticket.subject,
        status: ticket.status.as_str(),
        priority: ticket.priority.as_str(),
        created_at: ticket.created_at,
        updated_at: ticket.updated_at,
        description: &ticket.description,
        messages: thread
            .messages
            .iter()
            .map(|m| PageMessage {
                author: m.author_type.as_str(),
                body: &m.body,
                created_at: m.created_at,
                attachments: thread
                    .attachments_of(m.id)
                    .map(|a| PageAttachment {
                        filename: &a.filename,
                        size: human_size(a.size),
                        // A link carries the token: a browser following it sends no header.
                        url: format!(
                            "{}?token={token}",
                            public_download_path(&ticket.ticket_number, a.id)
                        ),
                    })
                    .collect(),
            })
            .collect(),
        reply_action: (customer_reply_effect(ticket.status) != ReplyEffect::Refused)
            .then_some(action.as_str()),
        token,
        max_reply_chars: ctx.config.message_max_chars,
        just_created: just_created.as_deref(),
        problem: problem.as_deref(),
        draft: shown.refused.map_or("", |(_, typed)| typed),
        upload: UploadControl {
            action: &upload_action,
            max_files: limits.max_per_message,
            max_bytes: limits.max_bytes,
            accept: limits.types.listed(),
        },
    });
    let Some((error, _)) = shown.refused else {
        return Ok(html_response(200, page));
    };
    Ok(with_error_headers(
        html_response(error.status(), page),
        error,
    ))
}

/// A refusal as a sentence for the page: the API's message, and each field's.
fn refusal_text(error: &ApiError) -> String {
    match error {
        ApiError::Validation(v) => v
            .details
            .iter()
            .map(|d| d.message.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => error.message(),
    }
}

fn html_response(status: u16, body: String) -> Response {
    page_response(status, STATUS_PAGE_CSP.as_str(), body)
}

#[derive(Serialize)]
struct ReplyAdded<'a> {
    message: PublicMessage<'a>,
    reopened: bool,
}

/// `POST /api/tickets/{ticket_number}/messages` `{body, attachment_ids?, token?}`: a
/// customer's reply, with files they uploaded before.
/// Reopens a resolved ticket; a closed one refuses. A form post (the status page) is
/// answered with a 303 back to the page; refused, a browser's (`Accept` prefers HTML)
/// gets the page with the reason, anything else the JSON error.
pub async fn reply(call: Call<'_>) -> Answer {
    let (req, ctx, params) = call.parts();
    let (kind, _, fields) = read_fields(&req, ctx).await?;
    let token = presented_token(&req, Some(&fields));
    let client = Client::address(&req.client_ip());
    let number = params.ticket_number()?;
    let answer = customer_reply(
        ctx,
        number.clone(),
        token.as_deref(),
        &fields,
        &client,
        kind,
    )
    .await;
    let browser = kind == BodyKind::Form && prefers_html(req.header("Accept").as_deref());
    match answer {
        // A browser's form post gets the page again, with the reason and the text
        // kept, rather than a JSON error it would show raw.
        Err(error) if browser && error.status() < 500 => {
            let typed = fields.get("body").and_then(Value::as_str).unwrap_or("");
            let shown = Shown {
                just_created: false,
                refused: Some((&error, typed)),
            };
            status_page_answer(ctx, number, token.as_deref(), shown).await
        }
        answer => answer,
    }
}

/// Who a per-client limit (replies, lookups) counts.
pub struct Client {
    bucket: String,
    /// The allowance per window; `None`: the configured one for a client address.
    max: Option<u32>,
}

impl Client {
    /// A client address: an IPv4 address, or an IPv6 /64.
    pub fn address(ip: &str) -> Self {
        Client {
            bucket: ip_bucket(ip),
            max: None,
        }
    }

    /// A caller known by name (an integration key, a staff member), with its allowance.
    pub fn named(bucket: String, max: Option<u32>) -> Self {
        Client { bucket, max }
    }
}

/// A customer's reply (see `reply`).
pub async fn customer_reply(
    ctx: &Ctx,
    number: TicketNumber,
    token: Option<&str>,
    fields: &Fields,
    client: &Client,
    kind: BodyKind,
) -> Answer {
    let db = ctx.db()?;
    let ticket = public_ticket(ctx, &db, &number, token).await?;
    let rule = TextRule {
        label: "Message",
        max_chars: ctx.config.message_max_chars,
        multiline: true,
    };
    let mut errors = Vec::new();
    let text = required_text(fields, "body", rule, &mut errors);
    let attachment_ids = attachment_ids(fields, ctx, &mut errors);
    let (Some(text), true) = (text, errors.is_empty()) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let window = ctx.rate_window();
    let limits = reply_limits(ctx, client, ticket.id);
    let outcome = messages::customer_reply(
        &db,
        &CustomerReply {
            ticket_id: ticket.id,
            body: &text,
            attachment_ids: &attachment_ids,
            limits: &limits,
            window_start: window.start(ctx.now),
            claim: &ctx.request_id,
            expired_at_or_before: expiry(ctx.config, ctx.now),
        },
        &ctx.outbox(),
    )
    .await?;
    match outcome {
        ReplyOutcome::Added {
            message,
            attachments,
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
                    message: PublicMessage::new(
                        &message,
                        attachments.iter(),
                        &ticket.ticket_number,
                    ),
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
        ReplyOutcome::Unusable(id, why) => {
            Err(ValidationError::single("attachment_ids", why.code(), why.message(id)).into())
        }
        ReplyOutcome::RateLimited(buckets) => Err(ApiError::too_many(
            "replies and uploads",
            window
                .retry_after_full(ctx.now, &limits, &buckets)
                .unwrap_or(window.seconds),
        )),
    }
}

/// What limits a customer's replies and uploads (one count for either): per ticket,
/// and per client over all tickets.
pub(super) fn reply_limits(ctx: &Ctx, client: &Client, ticket_id: i64) -> [Limit; 2] {
    [
        Limit {
            name: "ticket",
            bucket: format!("reply:{ticket_id}"),
            max: ctx.config.customer_replies_per_ticket,
        },
        Limit {
            name: "ip",
            bucket: format!("reply-{}", client.bucket),
            max: client.max.unwrap_or(ctx.config.replies_per_ip),
        },
    ]
}

/// `POST /api/tickets/lookup` `{customer_email}`: always the same 202 (or the same
/// 429), whether or not the address has tickets; when it has, an email with their
/// links is queued. Existing links keep working.
pub async fn lookup(call: Call<'_>) -> Answer {
    let (req, ctx, _) = call.parts();
    let (_, _, fields) = read_fields(&req, ctx).await?;
    request_links(ctx, &fields, &Client::address(&req.client_ip())).await
}

/// "I lost my link" (see `lookup`).
pub async fn request_links(ctx: &Ctx, fields: &Fields, client: &Client) -> Answer {
    let rule = TextRule {
        label: "Customer email",
        max_chars: 1_000,
        multiline: false,
    };
    let mut errors = Vec::new();
    let raw = required_text(fields, "customer_email", rule, &mut errors);
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
            bucket: format!("lookup-{}", client.bucket),
            max: client.max.unwrap_or(ctx.config.lookups_per_ip),
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
