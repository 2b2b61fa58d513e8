use serde::Deserialize;
use serde_json::json;
use worker::D1Database;

use super::{int, text};
use crate::domain::ticket::{NewTicket, Status};

/// The number SQL gives a ticket from the counter row; `format_ticket_number` in the
/// domain is its Rust twin.
const NUMBER_FROM_COUNTER: &str = "printf('TKT-%d-%04d', c.year, c.last_seq)";

/// Who caused a change, as recorded in `ticket_events`.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    /// An anonymous caller of the public API.
    Public,
}

impl Actor {
    fn kind(self) -> &'static str {
        match self {
            Actor::Public => "public",
        }
    }

    fn id(self) -> Option<i64> {
        match self {
            Actor::Public => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreatedTicket {
    pub id: i64,
    pub ticket_number: String,
    pub status: String,
    pub priority: String,
    pub category: String,
    pub created_at: String,
}

/// Why a create wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateRefused {
    /// `user_id` names no user.
    UnknownUser,
}

/// Creates a ticket in one D1 batch (one transaction, one round trip):
/// 1. claim the year's next number, only if the guards hold (the user exists),
///    marking the counter row with this request's id;
/// 2. insert the ticket numbered from the counter row this request claimed;
/// 3. append the `created` event for that ticket.
///
/// When a guard fails, statement 1 changes nothing, so 2 and 3 find no claimed row
/// and write nothing either: no number is used up, no gap appears.
pub async fn create(
    db: &D1Database,
    ticket: &NewTicket,
    actor: Actor,
    request_id: &str,
    year: i32,
    now: &str,
) -> Result<Result<CreatedTicket, CreateRefused>, worker::Error> {
    let claim = db
        .prepare(
            "INSERT INTO ticket_counters (year, last_seq, claimed_by)
             SELECT ?1, 1, ?2
             WHERE ?3 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?3)
             ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1, claimed_by = excluded.claimed_by",
        )
        .bind(&[int(Some(year.into())), text(request_id), int(ticket.user_id)])?;

    let insert = db
        .prepare(format!(
            "INSERT INTO support_tickets
               (ticket_number, subject, description, user_id, customer_name, customer_email,
                priority, category, status, created_at, updated_at)
             SELECT {NUMBER_FROM_COUNTER}, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11
             FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2
             RETURNING id, ticket_number, status, priority, category, created_at"
        ))
        .bind(&[
            int(Some(year.into())),
            text(request_id),
            text(&ticket.subject),
            text(&ticket.description),
            int(ticket.user_id),
            text(&ticket.customer_name),
            text(ticket.customer_email.as_str()),
            text(ticket.priority.as_str()),
            text(&ticket.category),
            text(Status::Open.as_str()),
            text(now),
        ])?;

    let event_data = json!({
        "status": Status::Open.as_str(),
        "priority": ticket.priority.as_str(),
        "category": ticket.category,
    });
    let event = db
        .prepare(format!(
            "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
             SELECT t.id, 'created', ?3, ?4, ?5, ?6
             FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = {NUMBER_FROM_COUNTER}
             WHERE c.year = ?1 AND c.claimed_by = ?2"
        ))
        .bind(&[
            int(Some(year.into())),
            text(request_id),
            text(actor.kind()),
            int(actor.id()),
            text(&event_data.to_string()),
            text(now),
        ])?;

    let results = db.batch(vec![claim, insert, event]).await?;
    let created = results
        .get(1)
        .map(|r| r.results::<CreatedTicket>())
        .transpose()?
        .and_then(|rows| rows.into_iter().next());
    Ok(created.ok_or(CreateRefused::UnknownUser))
}
