//! The public create: anyone (the AI assistant, contact forms, widgets) may call it.

use serde::Serialize;
use serde_json::Value;
use worker::{console_error, console_log};

use super::call::{Answer, Call};
use super::input::read_fields;
use super::public_pages::support_form;
use crate::app::create::{add_rate_headers, settle, Idempotency};
use crate::app::links::StatusLink;
use crate::app::turnstile::{self, Verdict};
use crate::app::Ctx;
use crate::domain::abuse::{email_bucket, ip_bucket, BucketState, Limit, HONEYPOT_FIELD};
use crate::domain::encoding::{base64url, hex};
use crate::domain::fields::Fields;
use crate::domain::hash::sha256;
use crate::domain::ticket::{Actor, Priority, Status, TicketNumber};
use crate::domain::ticket_input::{CreatePolicy, NewTicket};
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::form_post::FormClient;
use crate::http::headers::{bearer, idempotency_key};
use crate::http::support_page::Problem;
use crate::http::{success, BodyKind, Response};
use crate::platform::request::Request;
use crate::platform::webcrypto::random_bytes;
use crate::store::api_keys;
use crate::store::rows::{ApiKey, Ticket};
use crate::store::ticket_create::{self, CreateTicket};

pub const CREATED_MESSAGE: &str = "Support ticket created successfully";

/// What a public create answers.
#[derive(Serialize)]
struct CreatedTicket<'a> {
    id: i64,
    ticket_number: &'a TicketNumber,
    status: Status,
    priority: Priority,
    category: Option<&'a str>,
    created_at: Timestamp,
    #[serde(flatten)]
    link: Option<StatusLink>,
}

impl<'a> CreatedTicket<'a> {
    fn of(ctx: &Ctx, t: &'a Ticket) -> Self {
        CreatedTicket {
            id: t.id,
            ticket_number: &t.ticket_number,
            status: t.status,
            priority: t.priority,
            category: t.category.as_deref(),
            created_at: t.created_at,
            link: StatusLink::of(ctx, t.id, &t.ticket_number),
        }
    }
}

/// `POST /api/tickets/create`: validates, checks abuse controls, then writes the
/// ticket, its number, its event, the rate-limit hits and the idempotency record in
/// one D1 round trip (two with an integration key: the key lookup comes first).
/// A browser's form post is answered with pages (`http::form_post` has the rule).
pub async fn create(call: Call<'_>) -> Answer {
    let (req, ctx, _) = call.parts();
    let is_form = super::input::body_kind(&req).is_ok_and(|kind| kind == BodyKind::Form);
    let client = FormClient::of(
        is_form,
        req.header("Accept").as_deref(),
        ctx.config.form_success_url.is_some(),
    );
    let input = match read_create(&req, ctx).await {
        Ok(input) => input,
        Err(error) => return refused(ctx, client, error, None),
    };
    match create_ticket(&req, ctx, client, &input).await {
        Ok(response) => Ok(response),
        Err(error) => refused(ctx, client, error, Some(&input.fields)),
    }
}

/// A create request as read, before its fields are validated.
struct CreateInput {
    key: Option<ApiKey>,
    idempotency_key: Option<String>,
    kind: BodyKind,
    body: Vec<u8>,
    fields: Fields,
}

async fn read_create(req: &Request, ctx: &Ctx) -> Result<CreateInput, ApiError> {
    super::input::body_kind(req)?;
    let key = integration_key(req, ctx).await?;
    let idempotency_key = idempotency_key(req.header("Idempotency-Key"))?;
    let (kind, body, fields) = read_fields(req, ctx).await?;
    Ok(CreateInput {
        key,
        idempotency_key,
        kind,
        body,
        fields,
    })
}

async fn create_ticket(
    req: &Request,
    ctx: &Ctx,
    client: FormClient,
    input: &CreateInput,
) -> Answer {
    let CreateInput {
        key,
        idempotency_key,
        kind,
        body,
        fields,
    } = input;
    let policy = CreatePolicy {
        categories: &ctx.config.categories,
        priorities: &Priority::PUBLIC,
    };
    let ticket = NewTicket::parse(fields, &policy)?;

    let client_ip = req.client_ip();
    let limits = match key {
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
    if honeypot_filled(fields) {
        console_log!(
            "request {}: honeypot filled, no ticket created",
            ctx.request_id
        );
        return Ok(decoy(ctx, &ticket, client, &limits));
    }
    if let (None, Some(config)) = (key, &ctx.config.turnstile) {
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

    // Scoped to the caller: the integration key, or the customer's email.
    let idempotency = idempotency_key.as_ref().map(|idem_key| {
        let scope = match key {
            Some(key) => format!("key:{}", key.id),
            None => email_bucket(&ticket.customer_email),
        };
        Idempotency::new(ctx, idem_key.clone(), scope, req.path(), kind.name(), body)
    });
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
            window_start: ctx.rate_window().start(ctx.now),
            idempotency: idempotency.as_ref().map(Idempotency::claim),
            outbox: &outbox,
            request_id: &ctx.request_id,
            year: ctx.now.year(),
        },
    )
    .await?;

    let settled = settle(result.outcome, ctx, &limits, &result.buckets)?;
    let mut response = render(ctx, &CreatedTicket::of(ctx, &settled.ticket), client);
    ctx.deliver_after_response(result.notifications);
    add_rate_headers(&mut response, ctx, &limits, &result.buckets);
    settled.mark(&mut response);
    Ok(response)
}

/// A refused create: the error as JSON, or for a browser's form post the support
/// page again with the API's messages, what was typed, and the error's status and
/// headers (`Retry-After`).
fn refused(ctx: &Ctx, client: FormClient, error: ApiError, fields: Option<&Fields>) -> Answer {
    if client != FormClient::Browser {
        return Err(error);
    }
    if let Some(cause) = error.internal_cause() {
        console_error!("request {}: create_ticket: {cause}", ctx.request_id);
    }
    let body = error.body();
    let (message, details) = match &error {
        ApiError::Validation(v) => ("Please correct the fields marked below.", &v.details[..]),
        _ => (body["message"].as_str().unwrap_or_default(), &[][..]),
    };
    let problem = Problem {
        message,
        fields: details,
    };
    let mut page = support_form(ctx, error.status(), fields, Some(problem), None);
    for (name, value) in error.headers() {
        page.set_header(name, value);
    }
    Ok(page)
}

/// `Authorization: Bearer <key>` identifies a trusted integration. A key that is
/// sent but unknown or revoked is a 401, never a silent downgrade to anonymous.
async fn integration_key(req: &Request, ctx: &Ctx) -> Result<Option<ApiKey>, ApiError> {
    let Some(header) = req.header("Authorization") else {
        return Ok(None);
    };
    let invalid = || ApiError::Unauthorized {
        message: "The API key is invalid or has been revoked.",
    };
    let key = bearer(&header).ok_or_else(invalid)?;
    let hash = hex(&sha256(key.as_bytes()));
    api_keys::use_key(&ctx.db()?, &hash, ctx.now)
        .await?
        .map(Some)
        .ok_or_else(invalid)
}

fn honeypot_filled(fields: &Fields) -> bool {
    match fields.get(HONEYPOT_FIELD) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

/// The answer to a create: 201 JSON, or a 303 for a form post (`FormClient`).
fn render(ctx: &Ctx, created: &CreatedTicket<'_>, client: FormClient) -> Response {
    let number = created.ticket_number;
    let token = created.link.as_ref().map(|l| l.access_token.as_str());
    match client.location_after_create(ctx.config.form_success_url.as_deref(), number, token) {
        Some(location) => success(303, CREATED_MESSAGE, created).with_header("Location", location),
        None => success(201, CREATED_MESSAGE, created)
            .with_header("Location", format!("/api/tickets/{number}")),
    }
}

/// What a bot that filled the honeypot sees: a success like any other, with a
/// made-up number, so it learns nothing. Nothing is written.
fn decoy(ctx: &Ctx, ticket: &NewTicket, client: FormClient, limits: &[Limit]) -> Response {
    let random = random_bytes::<4>().map(u32::from_le_bytes).unwrap_or(0);
    let number = TicketNumber::new(ctx.now.year(), i64::from(random % 9_000) + 1_000);
    let link = ctx.config.ticket_token_secret.as_ref().map(|_| {
        let token = random_bytes::<24>()
            .map(|b| base64url(&b))
            .unwrap_or_default();
        StatusLink::with_token(ctx, &number, token)
    });
    let fake = CreatedTicket {
        id: i64::from(random % 100_000) + 1,
        ticket_number: &number,
        status: Status::Open,
        priority: ticket.priority,
        category: Some(&ticket.category),
        created_at: ctx.now,
        link,
    };
    let mut response = render(ctx, &fake, client);
    // As if this were the caller's first ticket in the window.
    let buckets: Vec<BucketState> = limits
        .iter()
        .map(|_| BucketState {
            used: 1,
            frees_at: Some(ctx.now),
        })
        .collect();
    add_rate_headers(&mut response, ctx, limits, &buckets);
    response
}
