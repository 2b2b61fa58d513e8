//! The CRM ticket API: everything a support desk does with a ticket.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::answers::{all, EventAnswer, MessageAnswer, TicketAnswer};
use super::call::{Answer, ClaimCall, StaffCall};
use super::input::{attachment_ids, read_json, read_optional_json, require_json, version};
use super::public_tickets::CREATED_MESSAGE;
use crate::app::attachments::expiry;
use crate::app::create::{settle, Idempotency, RequestIdentity};
use crate::app::links::StatusLink;
use crate::app::sessions::{Session, Staff};
use crate::app::Ctx;
use crate::domain::fields::Fields;
use crate::domain::fields::{optional_id, required_text, TextRule};
use crate::domain::lifecycle::{allowed_actions, Action};
use crate::domain::listing::{Cursor, TicketQuery};
use crate::domain::ticket::{Actor, Priority, Status};
use crate::domain::ticket_input::{CreatePolicy, NewTicket, TicketEdit};
use crate::domain::validation::{FieldError, ValidationError};
use crate::error::ApiError;
use crate::http::headers::idempotency_key;
use crate::http::{decode_fields, success, BodyKind, Named};
use crate::store::messages::{self, StaffMessage, StaffMessageOutcome};
use crate::store::rows::Ticket;
use crate::store::ticket_create::{self, CreateTicket, UserLink};
use crate::store::tickets::changes::{self, Change};
use crate::store::tickets::{listing, reads, stats, TicketRef};
use crate::store::Database;

fn ticket_not_found() -> ApiError {
    ApiError::NotFound {
        message: "No ticket has this id or number.",
    }
}

#[derive(Serialize)]
struct CreatedTicket<'a> {
    #[serde(flatten)]
    ticket: TicketAnswer<'a>,
    #[serde(flatten)]
    link: Option<StatusLink>,
}

/// `POST /api/crm/tickets/create`: the public validation, plus `assigned_to` (the
/// ticket then starts `assigned`) and `urgent` priority; `created_by` is the caller.
/// Staff are not rate limited; `Idempotency-Key` is scoped to the staff member.
pub async fn create(call: StaffCall<'_>) -> Answer {
    let (req, ctx, session, _) = call.parts();
    require_json(&req)?;
    let idempotency_key = idempotency_key(req.header("Idempotency-Key"))?;
    let body = super::input::body(&req, ctx).await?;
    let fields = decode_fields(BodyKind::Json, &body)?;
    let request = RequestIdentity {
        path: req.path(),
        media: BodyKind::Json.name(),
        body: &body,
    };
    create_ticket(
        ctx,
        &session,
        &fields,
        idempotency_key.map(|k| (k, request)),
    )
    .await
}

/// A staff create (see `create`), whatever carried it.
pub async fn create_ticket(
    ctx: &Ctx,
    session: &Session,
    fields: &Fields,
    idempotency: Option<(String, RequestIdentity<'_>)>,
) -> Answer {
    let policy = CreatePolicy {
        categories: &ctx.config.categories,
        priorities: &Priority::ALL,
    };
    let mut errors = Vec::new();
    let assigned_to = optional_id(fields, "assigned_to", "Assigned to", &mut errors);
    let ticket = match NewTicket::parse(fields, &policy) {
        Ok(t) if errors.is_empty() => t,
        Ok(_) => return Err(ValidationError::from_details(errors).into()),
        Err(mut e) => {
            e.details.extend(errors);
            return Err(e.into());
        }
    };
    let idempotency = idempotency.map(|(key, request)| {
        let scope = format!("staff:{}", session.staff_id());
        Idempotency::new(ctx, key, scope, &request)
    });
    let outbox = ctx.outbox();
    let result = ticket_create::create(
        &ctx.db()?,
        &CreateTicket {
            ticket: &ticket,
            actor: Actor::Staff(session.staff_id()),
            assigned_to,
            user_link: UserLink::MustExist,
            requester_verified: false,
            limits: &[],
            window_start: ctx.now,
            idempotency: idempotency.as_ref().map(Idempotency::claim),
            outbox: &outbox,
            request_id: &ctx.request_id,
            year: ctx.now.year(),
        },
    )
    .await?;
    let settled = settle(result.outcome, ctx, &[], &[])?;
    let created = &settled.ticket;
    ctx.deliver_after_response(result.notifications);
    let mut response = success(
        201,
        CREATED_MESSAGE,
        &CreatedTicket {
            ticket: TicketAnswer::from(created),
            link: StatusLink::of(ctx, created.id, &created.ticket_number),
        },
    )
    .with_header("Location", format!("/api/crm/tickets/{}", created.id));
    settled.mark(&mut response);
    Ok(response)
}

#[derive(Serialize)]
struct TicketPage<'a> {
    tickets: Vec<TicketAnswer<'a>>,
    next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
}

/// `GET /api/crm/tickets`: filters, sort, cursor pagination (see `TicketQuery`).
pub async fn list(call: ClaimCall<'_>) -> Answer {
    let (req, ctx, claim, _) = call.parts();
    list_tickets(ctx, Staff::Claimed(claim), &req.query_pairs()).await
}

/// A page of the list for these query pairs (see `list`).
pub async fn list_tickets(ctx: &Ctx, staff: Staff<'_>, pairs: &[(String, String)]) -> Answer {
    let query = TicketQuery::parse(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        staff.staff_id(),
    )?;
    let (mut page, total) = staff.open(listing::page(&ctx.db()?, &staff.guard(), &query).await?)?;
    let next_cursor = if page.len() > query.limit as usize {
        page.truncate(query.limit as usize);
        page.last().map(|last| {
            Cursor {
                sort: query.sort,
                order: query.order,
                key: listing::sort_key(last, query.sort),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(success(
        200,
        "Tickets",
        &TicketPage {
            tickets: all(&page),
            next_cursor,
            total,
        },
    ))
}

#[derive(Serialize)]
struct TicketView<'a> {
    ticket: TicketAnswer<'a>,
    /// The lifecycle actions its status allows now (`domain::lifecycle`), so clients
    /// offer exactly those.
    allowed_actions: Vec<&'static str>,
    events: Vec<EventAnswer<'a>>,
    messages: Vec<MessageAnswer<'a>>,
}

/// `GET /api/crm/tickets/{id or ticket number}`: the ticket, the actions it allows,
/// its thread and timeline.
pub async fn get(call: ClaimCall<'_>) -> Answer {
    let (_, ctx, claim, params) = call.parts();
    view(ctx, Staff::Claimed(claim), &params.ticket()?).await
}

/// A ticket with its thread and timeline (see `get`).
pub async fn view(ctx: &Ctx, staff: Staff<'_>, ticket: &TicketRef) -> Answer {
    let guarded = reads::with_thread_and_events(&ctx.db()?, &staff.guard(), ticket).await?;
    let (ticket, events, thread) = staff.open(guarded)?.ok_or_else(ticket_not_found)?;
    Ok(success(
        200,
        "Ticket",
        &TicketView {
            ticket: TicketAnswer::from(&ticket),
            allowed_actions: allowed_actions(ticket.status),
            events: all(&events),
            messages: thread
                .messages
                .iter()
                .map(|m| MessageAnswer::new(m, thread.attachments_of(m.id)))
                .collect(),
        },
    ))
}

/// `PATCH /api/crm/tickets/{id or number}` `{subject?, description?, priority?, category?, version?}`.
pub async fn edit(call: ClaimCall<'_>) -> Answer {
    let (req, ctx, claim, params) = call.parts();
    let staff = Staff::Claimed(claim);
    let ticket = params.ticket()?;
    let fields = read_json(&req, ctx).await?;
    let version = version(&fields)?;
    let edit = TicketEdit::parse(&fields, &ctx.config.categories)?;
    let change =
        changes::edit(&ctx.db()?, &staff.guard(), &ticket, &edit, version, ctx.now).await?;
    let change = staff.open(change)?;
    let ticket = changed(change, version, None, |current| ApiError::Conflict {
        code: "ticket_closed",
        message: format!(
            "Ticket {} is closed; reopen it before editing.",
            current.ticket_number
        ),
        details: None,
    })?;
    Ok(success(
        200,
        "Ticket updated",
        &Named("ticket", TicketAnswer::from(&ticket)),
    ))
}

/// `POST /api/crm/tickets/{id or number}/{assign|unassign|resolve|close|reopen}`
/// `{staff_id?, version?}`.
pub async fn act(call: ClaimCall<'_>, action: Action) -> Answer {
    let (req, ctx, claim, params) = call.parts();
    let fields = read_optional_json(&req, ctx).await?;
    act_on(
        ctx,
        Staff::Claimed(claim),
        &params.ticket()?,
        action,
        &fields,
    )
    .await
}

/// Applies a lifecycle action (see `act`).
pub async fn act_on(
    ctx: &Ctx,
    staff: Staff<'_>,
    ticket: &TicketRef,
    action: Action,
    fields: &Fields,
) -> Answer {
    let version = version(fields)?;
    let assignee = if action == Action::Assign {
        let mut errors = Vec::new();
        match optional_id(fields, "staff_id", "Staff id", &mut errors) {
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
    let change = changes::act(
        &ctx.db()?,
        &staff.guard(),
        ticket,
        action,
        assignee,
        version,
        ctx.now,
    )
    .await?;
    let change = staff.open(change)?;
    let ticket = changed(change, version, assignee, |current| {
        let allowed = allowed_actions(current.status);
        ApiError::Conflict {
            code: "invalid_transition",
            message: format!(
                "A {} ticket cannot be {}; allowed: {}.",
                current.status.as_str(),
                action.past_tense(),
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
        &format!("Ticket {}", action.past_tense()),
        &Named("ticket", TicketAnswer::from(&ticket)),
    ))
}

/// `POST /api/crm/tickets/{id or number}/messages` `{body, internal?, attachment_ids?}`:
/// a reply to the customer (emailed to them) or an internal note (never shown on a
/// public route, nor are its files).
pub async fn add_message(call: StaffCall<'_>) -> Answer {
    let (req, ctx, session, params) = call.parts();
    let fields = read_json(&req, ctx).await?;
    add_staff_message(ctx, &session, &params.ticket()?, &fields).await
}

/// A staff reply or internal note (see `add_message`).
pub async fn add_staff_message(
    ctx: &Ctx,
    session: &Session,
    ticket: &TicketRef,
    fields: &Fields,
) -> Answer {
    let rule = TextRule {
        label: "Message",
        max_chars: ctx.config.message_max_chars,
        multiline: true,
    };
    let mut errors = Vec::new();
    let body = required_text(fields, "body", rule, &mut errors);
    let internal = match fields.get("internal") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(FieldError::new(
                "internal",
                "invalid_type",
                "internal must be true or false",
            ));
            false
        }
    };
    let attachment_ids = attachment_ids(fields, ctx, &mut errors);
    let (Some(body), true) = (body, errors.is_empty()) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let db = ctx.db()?;
    let outcome = messages::staff_message(
        &db,
        &StaffMessage {
            ticket_id: ticket_id(&db, ticket).await?,
            staff_id: session.staff_id(),
            body: &body,
            internal,
            attachment_ids: &attachment_ids,
            claim: &ctx.request_id,
            expired_at_or_before: expiry(ctx.config, ctx.now),
        },
        &ctx.outbox(),
    )
    .await?;
    let (message, attachments, notifications) = match outcome {
        StaffMessageOutcome::Added {
            message,
            attachments,
            notifications,
        } => (message, attachments, notifications),
        StaffMessageOutcome::NoTicket => return Err(ticket_not_found()),
        StaffMessageOutcome::Unusable(id, why) => {
            return Err(
                ValidationError::single("attachment_ids", why.code(), why.message(id)).into(),
            )
        }
    };
    ctx.deliver_after_response(notifications);
    let what = if internal {
        "Internal note added"
    } else {
        "Reply sent"
    };
    Ok(success(
        201,
        what,
        &Named("message", MessageAnswer::new(&message, attachments.iter())),
    ))
}

#[derive(Serialize)]
struct StatsAnswer {
    total: i64,
    by_status: BTreeMap<&'static str, i64>,
    by_priority: BTreeMap<&'static str, i64>,
    /// The configured categories, in order (the first is the default): what the
    /// staff app offers in its filters and edits.
    categories: &'static [String],
    unassigned_open: i64,
    queues: QueueCounts,
}

/// The staff app's queues, each a list filter:
/// `mine` (`assigned_to=me&status=open,assigned`), `unassigned`
/// (`assigned_to=none&status=open`), `open` (`status=open,assigned`), `waiting`
/// (`status=resolved`: waiting for the customer) and `all`.
#[derive(Serialize)]
struct QueueCounts {
    mine: i64,
    unassigned: i64,
    open: i64,
    waiting: i64,
    all: i64,
}

/// `GET /api/crm/stats`: counts for the dashboard and the queues, in one round trip.
pub async fn stats(call: ClaimCall<'_>) -> Answer {
    let (_, ctx, claim, _) = call.parts();
    ticket_stats(ctx, Staff::Claimed(claim)).await
}

/// The dashboard counts, and the caller's queues (see `stats`).
pub async fn ticket_stats(ctx: &Ctx, staff: Staff<'_>) -> Answer {
    let s = staff.open(stats::stats(&ctx.db()?, &staff.guard(), staff.staff_id()).await?)?;
    let count = |status| {
        s.by_status
            .iter()
            .find(|(k, _)| *k == status)
            .map_or(0, |(_, n)| *n)
    };
    let queues = QueueCounts {
        mine: s.mine,
        unassigned: s.unassigned_open,
        open: Status::ACTIVE.into_iter().map(count).sum(),
        waiting: count(Status::Resolved),
        all: s.total,
    };
    Ok(success(
        200,
        "Ticket statistics",
        &StatsAnswer {
            total: s.total,
            by_status: s.by_status.iter().map(|(k, n)| (k.as_str(), *n)).collect(),
            by_priority: s
                .by_priority
                .iter()
                .map(|(k, n)| (k.as_str(), *n))
                .collect(),
            categories: &ctx.config.categories,
            unassigned_open: s.unassigned_open,
            queues,
        },
    ))
}

/// The id of a ticket addressed by id or number (a number costs a read).
pub(super) async fn ticket_id(db: &Database, ticket: &TicketRef) -> Result<i64, ApiError> {
    match ticket {
        TicketRef::Id(id) => Ok(*id),
        TicketRef::Number(_) => reads::one(db, ticket)
            .await?
            .map(|t| t.id)
            .ok_or_else(ticket_not_found),
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
