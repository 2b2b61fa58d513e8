//! The public API: anyone (the AI assistant, contact forms, widgets) may call it.

use serde_json::{json, Value};
use worker::console_log;

use crate::http::{Request, Response};

use crate::access;
use crate::crypto;
use crate::domain::abuse::{email_bucket, ip_bucket, Limit, HONEYPOT_FIELD};
use crate::domain::encoding::{base64url, hex};
use crate::domain::ticket::{format_ticket_number, CreatePolicy, NewTicket, Priority};
use crate::error::ApiError;
use crate::http::{body_kind, decode_fields, success, BodyKind, Ctx};
use crate::routes::creating::{self, Idempotency};
use crate::store::api_keys::{self, ApiKey};
use crate::store::ticket_create::{self, BucketState, CreateTicket};
use crate::store::tickets::{Actor, Ticket};
use crate::turnstile::{self, Verdict};

pub const CREATED_MESSAGE: &str = "Support ticket created successfully";

/// `POST /api/tickets/create`: validates, checks abuse controls, then writes the
/// ticket, its number, its event, the rate-limit hits and the idempotency record in
/// one D1 round trip (two with an integration key: the key lookup comes first).
pub async fn create(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let kind = body_kind(&req)?;
    let key = integration_key(&req, ctx).await?;
    let idempotency_key = creating::idempotency_key(&req)?;
    let body = req.body(ctx.config.max_body_bytes).await?;
    let fields = decode_fields(kind, &body)?;
    let policy = CreatePolicy {
        categories: &ctx.config.categories,
        priorities: &Priority::PUBLIC,
    };
    let ticket = NewTicket::parse(&fields, &policy)?;

    let client_ip = req.client_ip();
    let limits = match &key {
        Some(key) => vec![Limit {
            name: "key",
            bucket: format!("key:{}", key.id),
            max: u32::try_from(key.rate_limit).unwrap_or(u32::MAX),
        }],
        None => vec![
            Limit {
                name: "email",
                bucket: email_bucket(&ticket.customer_email),
                max: ctx.config.rate_limit_per_email,
            },
            Limit {
                name: "ip",
                bucket: ip_bucket(&client_ip),
                max: ctx.config.rate_limit_per_ip,
            },
        ],
    };
    if honeypot_filled(&fields) {
        console_log!(
            "request {}: honeypot filled, no ticket created",
            ctx.request_id
        );
        return Ok(decoy(ctx, &ticket, kind, &limits));
    }
    if let (None, Some(config)) = (&key, &ctx.config.turnstile) {
        let token = ["turnstile_token", "cf-turnstile-response"]
            .iter()
            .find_map(|name| fields.get(*name).and_then(Value::as_str));
        if let Verdict::Refused(why) = turnstile::verify(config, token, Some(&client_ip)).await {
            console_log!("request {}: turnstile refused: {why}", ctx.request_id);
            return Err(ApiError::Forbidden {
                code: "bot_check_failed",
                message: "We could not verify that this request comes from a person. Reload the page and try again.",
            });
        }
    }

    let idempotency = match idempotency_key {
        None => None,
        Some(idem_key) => {
            // Scoped to the caller: the integration key, or the customer's email.
            let scope = match &key {
                Some(key) => format!("key:{}", key.id),
                None => email_bucket(&ticket.customer_email),
            };
            Some(Idempotency::new(
                ctx,
                idem_key,
                scope,
                req.path(),
                media_name(kind),
                &body,
            ))
        }
    };
    let window_start = ctx
        .now
        .minus_seconds(ctx.config.rate_limit_window_seconds)
        .rfc3339();
    let outbox = ctx.outbox();
    let result = ticket_create::create(
        &ctx.db()?,
        &CreateTicket {
            ticket: &ticket,
            actor: key
                .as_ref()
                .map_or(Actor::Public, |k| Actor::Integration(k.id)),
            assigned_to: None,
            user_must_match_email: key.is_none(),
            limits: &limits,
            window_start: &window_start,
            idempotency: idempotency.as_ref().map(Idempotency::claim),
            outbox: &outbox,
            request_id: &ctx.request_id,
            year: ctx.now.year(),
        },
    )
    .await?;

    let (created, replayed) = creating::settle(result.outcome, ctx, &limits, &result.buckets)?;
    let link = access::link_fields(ctx, created.id, &created.ticket_number);
    let mut response = render(ctx, &created, kind, link);
    ctx.deliver_after_response(result.notifications);
    creating::add_rate_headers(&mut response, ctx, &limits, &result.buckets);
    if replayed {
        creating::mark_replayed(&mut response);
    }
    Ok(response)
}

/// `Authorization: Bearer <key>` identifies a trusted integration. A key that is
/// sent but unknown or revoked is a 401, never a silent downgrade to anonymous.
async fn integration_key(req: &Request, ctx: &Ctx) -> Result<Option<ApiKey>, ApiError> {
    let Some(header) = req.header("Authorization") else {
        return Ok(None);
    };
    let invalid = ApiError::Unauthorized {
        message: "The API key is invalid or has been revoked.",
    };
    let key = match header.trim().split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
            key.trim()
        }
        _ => return Err(invalid),
    };
    let hash = hex(&crypto::sha256(key.as_bytes()));
    api_keys::use_key(&ctx.db()?, &hash, &ctx.now.rfc3339())
        .await?
        .map(Some)
        .ok_or(invalid)
}

fn honeypot_filled(fields: &crate::domain::fields::Fields) -> bool {
    match fields.get(HONEYPOT_FIELD) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

fn media_name(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::Json => "json",
        BodyKind::Form => "form",
    }
}

/// The answer to a create: 201 JSON, or 303 to `FORM_SUCCESS_URL` for a form post.
/// `link` is the customer's private status link, when links are configured.
fn render(ctx: &Ctx, ticket: &Ticket, kind: BodyKind, link: Option<(String, String)>) -> Response {
    let mut data = json!({
        "id": ticket.id,
        "ticket_number": ticket.ticket_number,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "created_at": ticket.created_at,
    });
    if let Some((token, url)) = link {
        data["access_token"] = json!(token);
        data["status_url"] = json!(url);
    }
    let (status, location) = match (&ctx.config.form_success_url, kind) {
        (Some(url), BodyKind::Form) => {
            let separator = if url.contains('?') { '&' } else { '?' };
            (
                303,
                format!("{url}{separator}ticket={}", ticket.ticket_number),
            )
        }
        _ => (201, format!("/api/tickets/{}", ticket.ticket_number)),
    };
    success(status, CREATED_MESSAGE, data).with_header("Location", location)
}

/// What a bot that filled the honeypot sees: a success like any other, with a
/// made-up number, so it learns nothing. Nothing is written.
fn decoy(ctx: &Ctx, ticket: &NewTicket, kind: BodyKind, limits: &[Limit]) -> Response {
    let random = crypto::random_bytes::<4>()
        .map(u32::from_le_bytes)
        .unwrap_or(0);
    let fake = Ticket {
        id: i64::from(random % 100_000) + 1,
        ticket_number: format_ticket_number(ctx.now.year(), i64::from(random % 9_000) + 1_000),
        status: "open".into(),
        priority: ticket.priority.as_str().into(),
        category: Some(ticket.category.clone()),
        created_at: ctx.now.rfc3339(),
        ..Ticket::default()
    };
    let link = ctx.config.ticket_token_secret.as_ref().map(|_| {
        let token = crypto::random_bytes::<24>()
            .map(|b| base64url(&b))
            .unwrap_or_default();
        let url = access::status_url(&access::base_url(ctx), &fake.ticket_number, &token);
        (token, url)
    });
    let mut response = render(ctx, &fake, kind, link);
    // As if this were the caller's first ticket in the window.
    let buckets: Vec<BucketState> = limits
        .iter()
        .map(|_| BucketState {
            used: 1,
            frees_at: Some(ctx.now.rfc3339()),
        })
        .collect();
    creating::add_rate_headers(&mut response, ctx, limits, &buckets);
    response
}
