//! Reading one ticket: with its whole thread and timeline for staff, with its public
//! messages for the customer.

use super::TicketRef;
use crate::store::attachments;
use crate::store::guard::{Guard, Guarded};
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

/// The ticket `reference` selects (for a staff route, while its session holds).
fn ticket(
    db: &Database,
    reference: &TicketRef,
    guard: Option<&Guard<'_>>,
) -> worker::Result<Statement> {
    let (condition, value) = reference.condition();
    let mut params = vec![value];
    let guarded = Guard::and(guard, &mut params);
    db.prepare(
        &format!(
            "SELECT {} FROM support_tickets t WHERE {condition}{guarded}",
            T_TICKET_COLUMNS.as_str()
        ),
        &params,
    )
}

/// Its messages, internal notes included or not.
fn messages(
    db: &Database,
    reference: &TicketRef,
    internal: bool,
    guard: Option<&Guard<'_>>,
) -> worker::Result<Statement> {
    let (condition, value) = reference.condition();
    let public_only = if internal { "" } else { " AND m.internal = 0" };
    let mut params = vec![value];
    let guarded = Guard::and(guard, &mut params);
    db.prepare(
        &format!(
            "SELECT {} FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id
             WHERE {condition}{public_only}{guarded} ORDER BY m.id",
            M_MESSAGE_COLUMNS.as_str()
        ),
        &params,
    )
}

/// The ticket alone.
pub async fn one(db: &Database, reference: &TicketRef) -> worker::Result<Option<Ticket>> {
    ticket(db, reference, None)?.first().await
}

/// What a staff member sees of a ticket: its whole event timeline and conversation
/// (internal notes and their files included).
pub type StaffView = (Ticket, Vec<TicketEvent>, Thread);

/// The ticket with its whole event timeline and conversation, in one round trip
/// with the session's check (`guard`).
pub async fn with_thread_and_events(
    db: &Database,
    guard: &Guard<'_>,
    reference: &TicketRef,
) -> worker::Result<Guarded<Option<StaffView>>> {
    let (condition, value) = reference.condition();
    let mut event_params = vec![value];
    let guarded = guard.condition(&mut event_params);
    let events = db.prepare(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM ticket_events e JOIN support_tickets t ON t.id = e.ticket_id
             WHERE {condition} AND {guarded} ORDER BY e.id"
        ),
        &event_params,
    )?;
    let statements = vec![
        ticket(db, reference, Some(guard))?,
        events,
        messages(db, reference, true, Some(guard))?,
        attachments::of_thread(db, reference, false, Some(guard))?,
    ];
    guard.run(db, statements).await?.read(|results| {
        let Some(ticket) = results[0].rows::<Ticket>()?.into_iter().next() else {
            return Ok(None);
        };
        let thread = Thread {
            messages: results[2].rows()?,
            attachments: results[3].rows()?,
        };
        Ok(Some((ticket, results[1].rows()?, thread)))
    })
}

/// The ticket with its public messages and their files (never internal notes or
/// internal files), in one round trip.
pub async fn with_public_thread(
    db: &Database,
    reference: &TicketRef,
) -> worker::Result<Option<(Ticket, Thread)>> {
    let statements = vec![
        ticket(db, reference, None)?,
        messages(db, reference, false, None)?,
        attachments::of_thread(db, reference, true, None)?,
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
