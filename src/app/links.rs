//! Status links in answers: the one place that adds `access_token` and `status_url`
//! to what a caller sees.

use serde::Serialize;

use super::Ctx;
use crate::domain::status_link;
use crate::domain::ticket::TicketNumber;

/// A ticket's private status link, flattened into an answer.
#[derive(Debug, Serialize)]
pub struct StatusLink {
    pub access_token: String,
    pub status_url: String,
}

impl StatusLink {
    /// The link of a ticket, when links are configured (`TICKET_TOKEN_SECRET`).
    pub fn of(ctx: &Ctx, id: i64, number: &TicketNumber) -> Option<Self> {
        let secret = ctx.config.ticket_token_secret.as_ref()?;
        Some(Self::with_token(
            ctx,
            number,
            status_link::token(secret, id, number),
        ))
    }

    /// A link carrying `token` (the honeypot's decoy uses a random one).
    pub fn with_token(ctx: &Ctx, number: &TicketNumber, token: String) -> Self {
        StatusLink {
            status_url: status_link::url(ctx.link_base(), number, &token),
            access_token: token,
        }
    }
}
