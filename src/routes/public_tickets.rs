//! The public create: anyone (the AI assistant, contact forms, widgets) may call it.

use serde::Serialize;
use serde_json::Value;

use super::call::{Answer, Call};
use super::input::{body_kind, read_fields_as};
use super::public_pages::support_form;
use crate::app::create::{add_rate_headers, settle, Idempotency, RequestIdentity};
use crate::app::links::StatusLink;
use crate::app::turnstile::{self, Verdict};
use crate::app::Ctx;
use crate::config::TurnstileConfig;
use crate::domain::abuse::{
    email_bucket, ip_bucket, key_bucket, BucketState, Limit, HONEYPOT_FIELD,
};
use crate::domain::encoding::{base64url, hex};
use crate::domain::fields::Fields;
use crate::domain::hash::sha256;
use crate::domain::ticket::{Actor, Priority, Status, TicketNumber};
use crate::domain::ticket_input::{CreatePolicy, NewTicket};
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::form_post::{FormClient, Sender};
use crate::http::headers::{bearer, idempotency_key};
use crate::http::support_page::Problem;
use crate::http::{success, with_error_headers, BodyKind, Response};
use crate::platform::request::Request;
use crate::platform::webcrypto::random_bytes;
use crate::store::api_keys;
use crate::store::rows::{ApiKey, Ticket};
use crate::store::ticket_create::{self, CreateTicket, UserLink};

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

/// A public create, whatever carried it (an HTTP request, or an MCP tool call).
pub struct PublicCreate<'a> {
    pub fields: &'a Fields,
    /// The integration key that authenticated the caller, if any.
    pub key: Option<&'a ApiKey>,
    pub client_ip: &'a str,
    /// The caller's `Idempotency-Key`, with what identifies the request.
    pub idempotency: Option<(String, RequestIdentity<'a>)>,
    /// How the answer is given (a browser's form post gets pages: `http::form_post`).
    pub client: FormClient,
}

/// `POST /api/tickets/create`: validates, checks abuse controls, then writes the
/// ticket, its number, its event, the rate-limit hits and the idempotency record in
/// one D1 round trip (two with an integration key: the key lookup comes first).
/// A browser's form post is answered with pages (`http::form_post` has the rule).
pub async fn create(call: Call<'_>) -> Answer {
    let (req, ctx, _) = call.parts();
    let kind = body_kind(&req);
    let is_form = kind.as_ref().is_ok_and(|kind| *kind == BodyKind::Form);
    let accept = req.header("Accept");
    let fetch_site = req.header("Sec-Fetch-Site");
    let sender = Sender {
        is_form,
        accept: accept.as_deref(),
        fetch_site: fetch_site.as_deref(),
    };
    let client = FormClient::of(&sender, ctx.config.form_success_url.is_some());
    let input = match read_create(&req, ctx, kind).await {
        Ok(input) => input,
        Err(error) => return refused(ctx, client, error, None),
    };
    let (kind, body, fields) = &input.body;
    let client_ip = req.client_ip();
    let created = create_ticket(
        ctx,
        PublicCreate {
            fields,
            key: input.key.as_ref(),
            client_ip: &client_ip,
            idempotency: input.idempotency_key.map(|k| {
                let identity = RequestIdentity {
                    path: req.path(),
                    media: kind.name(),
                    body,
                };
                (k, identity)
            }),
            client,
        },
    )
    .await;
    match created {
        Ok(response) => Ok(response),
        Err(error) => refused(ctx, client, error, Some(fields)),
    }
}

/// A create request as read, before its fields are validated.
struct CreateInput {
    key: Option<ApiKey>,
    idempotency_key: Option<String>,
    body: (BodyKind, Vec<u8>, Fields),
}

/// Reads the request whose body's kind is `kind` (a 415 before anything else).
async fn read_create(
    req: &Request,
    ctx: &Ctx,
    kind: Result<BodyKind, ApiError>,
) -> Result<CreateInput, ApiError> {
    let kind = kind?;
    Ok(CreateInput {
        key: integration_key(req.header("Authorization").as_deref(), ctx).await?,
        idempotency_key: idempotency_key(req.header("Idempotency-Key"))?,
        body: read_fields_as(kind, req, ctx).await?,
    })
}

/// A refused create: the error as JSON, or for a browser's form post the support
/// page again with the API's messages, what was typed, and the error's status and
/// headers (`Retry-After`).
fn refused(ctx: &Ctx, client: FormClient, error: ApiError, fields: Option<&Fields>) -> Answer {
    if client != FormClient::Browser {
        return Err(error);
    }
    // The answer is a page, not the error: the log line gets the cause as its note.
    if let Some(cause) = error.internal_cause() {
        ctx.note(format!("create_ticket: {cause}"));
    }
    let message = error.message();
    let (message, details) = match &error {
        ApiError::Validation(v) => ("Please correct the fields marked below.", &v.details[..]),
        _ => (message.as_str(), &[][..]),
    };
    let problem = Problem {
        message,
        fields: details,
    };
    let page = support_form(ctx, error.status(), fields, Some(problem), None);
    Ok(with_error_headers(page, &error))
}

/// How many creates an integration key may make per window.
pub(super) fn key_allowance(key: &ApiKey) -> u32 {
    u32::try_from(key.rate_limit).unwrap_or(u32::MAX)
}

/// Validates a public create, checks its abuse controls and writes it (see `create`).
pub async fn create_ticket(ctx: &Ctx, input: PublicCreate<'_>) -> Answer {
    let PublicCreate {
        fields,
        key,
        client_ip,
        idempotency,
        client,
    } = input;
    let policy = CreatePolicy {
        categories: &ctx.config.categories,
        priorities: &Priority::PUBLIC,
    };
    let ticket = NewTicket::parse(fields, &policy)?;

    let limits = match key {
        Some(key) => vec![Limit {
            name: "key",
            bucket: key_bucket(key.id),
            max: key_allowance(key),
        }],
        None => vec![
            Limit {
                name: "email",
                bucket: email_bucket(&ticket.customer_email),
                max: ctx.config.rate_limit_per_email,
            },
            Limit {
                name: "ip",
                bucket: ip_bucket(client_ip),
                max: ctx.config.rate_limit_per_ip,
            },
        ],
    };
    // Only an anonymous browser can be a bot filling the hidden field; a trusted
    // caller's `website` is data.
    if key.is_none() && honeypot_filled(fields) {
        ctx.note("honeypot filled: no ticket created");
        return Ok(decoy(ctx, &ticket, client, &limits));
    }

    // Scoped to the caller: the integration key, or the customer's email.
    let idempotency = idempotency.map(|(idem_key, request)| {
        let scope = match key {
            Some(key) => key_bucket(key.id),
            None => email_bucket(&ticket.customer_email),
        };
        Idempotency::new(ctx, idem_key, scope, &request)
    });
    let outbox = ctx.outbox();
    let create = CreateTicket {
        ticket: &ticket,
        actor: key
            .as_ref()
            .map_or(Actor::Public, |k| Actor::Integration(k.id)),
        assigned_to: None,
        user_link: match key {
            Some(_) => UserLink::MustExist,
            None => UserLink::IfEmailMatches,
        },
        // A trusted integration vouches for the user it says is logged in (verified
        // only when that user's email is the ticket's: see `CreateTicket`).
        requester_verified: key.is_some() && ticket.user_id.is_some(),
        limits: &limits,
        window_start: ctx.rate_window().start(ctx.now),
        idempotency: idempotency.as_ref().map(Idempotency::claim),
        outbox: &outbox,
        request_id: &ctx.request_id,
        year: ctx.now.year(),
    };
    let db = ctx.db()?;
    let result = match (key, &ctx.config.turnstile) {
        (None, Some(config)) => {
            // A retry carries the same single-use token, already spent: replay it
            // from the idempotency record without asking siteverify again.
            let earlier = match &idempotency {
                Some(_) => ticket_create::earlier_answer(&db, &create).await?,
                None => None,
            };
            match earlier {
                Some(result) => result,
                None => {
                    check_turnstile(ctx, config, fields, client_ip).await?;
                    ticket_create::create(&db, &create).await?
                }
            }
        }
        _ => ticket_create::create(&db, &create).await?,
    };

    let settled = settle(result.outcome, ctx, &limits, &result.buckets)?;
    let mut response = render(ctx, &CreatedTicket::of(ctx, &settled.ticket), client);
    ctx.deliver_after_response(result.notifications);
    add_rate_headers(&mut response, ctx, &limits, &result.buckets);
    settled.mark(&mut response);
    Ok(response)
}

/// Siteverify for an anonymous create: fails closed (403) on any refusal.
async fn check_turnstile(
    ctx: &Ctx,
    config: &TurnstileConfig,
    fields: &Fields,
    client_ip: &str,
) -> Result<(), ApiError> {
    let token = ["turnstile_token", "cf-turnstile-response"]
        .iter()
        .find_map(|name| fields.get(*name).and_then(Value::as_str));
    match turnstile::verify(config, token, Some(client_ip)).await {
        Verdict::Human => Ok(()),
        Verdict::Refused(why) => {
            ctx.note(format!("turnstile refused: {why}"));
            Err(ApiError::Forbidden {
                code: "bot_check_failed",
                message: "We could not verify that this request comes from a person. Reload the page and try again.",
            })
        }
    }
}

/// `Authorization: Bearer <key>` identifies a trusted integration. A key that is
/// sent but unknown or revoked is a 401, never a silent downgrade to anonymous.
pub async fn integration_key(
    authorization: Option<&str>,
    ctx: &Ctx,
) -> Result<Option<ApiKey>, ApiError> {
    let Some(header) = authorization else {
        return Ok(None);
    };
    let invalid = || ApiError::Unauthorized {
        message: "The API key is invalid or has been revoked.",
    };
    let key = bearer(header).ok_or_else(invalid)?;
    let hash = hex(&sha256(key.as_bytes()));
    api_keys::use_key(&ctx.db()?, &hash, ctx.now)
        .await?
        .map(Some)
        .ok_or_else(invalid)
}

/// The hidden field is filled only with text: a `false` or `0` is no bot's doing.
fn honeypot_filled(fields: &Fields) -> bool {
    matches!(fields.get(HONEYPOT_FIELD), Some(Value::String(s)) if !s.trim().is_empty())
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
