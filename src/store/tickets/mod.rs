//! Tickets, by purpose: reading one, guarded lifecycle changes and edits, the CRM
//! list, and the dashboard counts. Creating one is `ticket_create.rs`.

pub mod changes;
pub mod listing;
pub mod reads;
pub mod stats;

use serde_json::Value;

use super::{int, text};
use crate::domain::ticket::TicketNumber;

/// A ticket is addressed by id or by ticket number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketRef {
    Id(i64),
    Number(TicketNumber),
}

impl TicketRef {
    /// The condition on `t` that selects it, with its one parameter (`?1`).
    pub(in crate::store) fn condition(&self) -> (&'static str, Value) {
        match self {
            TicketRef::Id(id) => ("t.id = ?1", int(Some(*id))),
            TicketRef::Number(n) => ("t.ticket_number = ?1", text(n.as_str())),
        }
    }
}
