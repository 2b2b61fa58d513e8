//! A matched route's path parameters, typed by the template (see `table.rs`).

use crate::domain::ticket::TicketNumber;
use crate::error::ApiError;
use crate::store::tickets::TicketRef;

/// The typed values of a matched template's parameters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params {
    pub(super) id: Option<i64>,
    pub(super) ticket_number: Option<TicketNumber>,
    pub(super) ticket: Option<TicketRef>,
}

impl Params {
    /// `{id}`; only routes whose template has it ask.
    pub fn id(&self) -> Result<i64, ApiError> {
        self.id.ok_or_else(|| missing("{id}"))
    }

    pub fn ticket_number(self) -> Result<TicketNumber, ApiError> {
        self.ticket_number.ok_or_else(|| missing("{ticket_number}"))
    }

    pub fn ticket(self) -> Result<TicketRef, ApiError> {
        self.ticket.ok_or_else(|| missing("{ticket}"))
    }
}

fn missing(param: &str) -> ApiError {
    ApiError::Internal(format!("route template has no {param}"))
}
