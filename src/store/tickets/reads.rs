//! Reading one ticket: with its whole thread and timeline for staff, with its public
//! messages for the customer.

use super::TicketRef;
use crate::store::rows::{
    Message, Ticket, TicketEvent, EVENT_COLUMNS, M_MESSAGE_COLUMNS, T_TICKET_COLUMNS,
};
use crate::store::{Database, Statement};

/// The ticket `reference` selects.
fn ticket(db: &Database, reference: &TicketRef) -> worker::Result<Statement> {
    let (condition, value) = reference.condition();
    db.prepare(
        &format!(
            "SELECT {} FROM support_tickets t WHERE {condition}",
            T_TICKET_COLUMNS.as_str()
        ),
        &[value],
    )
}

/// Its messages, internal notes included or not.
fn messages(db: &Database, reference: &TicketRef, internal: bool) -> worker::Result<Statement> {
    let (condition, value) = reference.condition();
    let public_only = if internal { "" } else { " AND m.internal = 0" };
    db.prepare(
        &format!(
            "SELECT {} FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id
             WHERE {condition}{public_only} ORDER BY m.id",
            M_MESSAGE_COLUMNS.as_str()
        ),
        &[value],
    )
}

/// The ticket alone.
pub async fn one(db: &Database, reference: &TicketRef) -> worker::Result<Option<Ticket>> {
    ticket(db, reference)?.first().await
}

/// The ticket with its whole event timeline and conversation (internal notes
/// included), in one round trip.
pub async fn with_thread_and_events(
    db: &Database,
    reference: &TicketRef,
) -> worker::Result<Option<(Ticket, Vec<TicketEvent>, Vec<Message>)>> {
    let (condition, value) = reference.condition();
    let events = db.prepare(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM ticket_events e JOIN support_tickets t ON t.id = e.ticket_id
             WHERE {condition} ORDER BY e.id"
        ),
        &[value],
    )?;
    let statements = vec![
        ticket(db, reference)?,
        events,
        messages(db, reference, true)?,
    ];
    let results = db.batch(statements).await?;
    let Some(ticket) = results[0].rows::<Ticket>()?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some((ticket, results[1].rows()?, results[2].rows()?)))
}

/// The ticket with its public messages (never internal notes), in one round trip.
pub async fn with_public_thread(
    db: &Database,
    reference: &TicketRef,
) -> worker::Result<Option<(Ticket, Vec<Message>)>> {
    let statements = vec![ticket(db, reference)?, messages(db, reference, false)?];
    let results = db.batch(statements).await?;
    let Some(ticket) = results[0].rows::<Ticket>()?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some((ticket, results[1].rows()?)))
}
