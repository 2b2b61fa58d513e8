//! Reading one ticket: with its whole thread and timeline for staff, with its public
//! messages for the customer.

use super::TicketRef;
use crate::store::attachments;
use crate::store::rows::{
    Attachment, Message, Ticket, TicketEvent, EVENT_COLUMNS, M_MESSAGE_COLUMNS, T_TICKET_COLUMNS,
};
use crate::store::{Database, Statement};

/// A ticket's conversation: its messages and the files sent with them.
pub struct Thread {
    pub messages: Vec<Message>,
    pub attachments: Vec<Attachment>,
}

impl Thread {
    /// The files sent with one message, in upload order.
    pub fn attachments_of(&self, message_id: i64) -> impl Iterator<Item = &Attachment> {
        self.attachments
            .iter()
            .filter(move |a| a.message_id == Some(message_id))
    }
}

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

/// The ticket with its whole event timeline and conversation (internal notes and
/// their files included), in one round trip.
pub async fn with_thread_and_events(
    db: &Database,
    reference: &TicketRef,
) -> worker::Result<Option<(Ticket, Vec<TicketEvent>, Thread)>> {
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
        attachments::of_thread(db, reference, false)?,
    ];
    let results = db.batch(statements).await?;
    let Some(ticket) = results[0].rows::<Ticket>()?.into_iter().next() else {
        return Ok(None);
    };
    let thread = Thread {
        messages: results[2].rows()?,
        attachments: results[3].rows()?,
    };
    Ok(Some((ticket, results[1].rows()?, thread)))
}

/// The ticket with its public messages and their files (never internal notes or
/// internal files), in one round trip.
pub async fn with_public_thread(
    db: &Database,
    reference: &TicketRef,
) -> worker::Result<Option<(Ticket, Thread)>> {
    let statements = vec![
        ticket(db, reference)?,
        messages(db, reference, false)?,
        attachments::of_thread(db, reference, true)?,
    ];
    let results = db.batch(statements).await?;
    let Some(ticket) = results[0].rows::<Ticket>()?.into_iter().next() else {
        return Ok(None);
    };
    let thread = Thread {
        messages: results[1].rows()?,
        attachments: results[2].rows()?,
    };
    Ok(Some((ticket, thread)))
}
