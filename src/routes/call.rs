//! What a handler is called with: the request, the context, the path's typed
//! parameters, and for staff routes the checked session (or the claim its own batch
//! checks).

use crate::app::sessions::{Claim, Session};
use crate::app::Ctx;
use crate::domain::ticket::TicketNumber;
use crate::error::ApiError;
use crate::http::Response;
use crate::platform::request::Request;
use crate::store::tickets::TicketRef;

/// The typed values of a matched template's parameters (see `table.rs`).
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

/// What a handler answers.
pub type Answer = Result<Response, ApiError>;

/// A call of a route anyone may call.
pub struct Call<'a> {
    pub req: Request,
    pub ctx: &'a Ctx,
    pub params: Params,
}

/// A call of a staff or admin route: only `routes::dispatch` makes one, after the
/// session was checked.
pub struct StaffCall<'a> {
    pub req: Request,
    pub ctx: &'a Ctx,
    pub session: Session,
    pub params: Params,
}

/// A call of a staff or admin route whose handler checks the session in its own batch
/// (`app::sessions::Claim`): only `routes::dispatch` makes one, after the KV half.
pub struct ClaimCall<'a> {
    pub req: Request,
    pub ctx: &'a Ctx,
    pub claim: &'a Claim,
    pub params: Params,
}

impl<'a> ClaimCall<'a> {
    pub fn parts(self) -> (Request, &'a Ctx, &'a Claim, Params) {
        (self.req, self.ctx, self.claim, self.params)
    }
}

impl<'a> Call<'a> {
    pub fn parts(self) -> (Request, &'a Ctx, Params) {
        (self.req, self.ctx, self.params)
    }
}

impl<'a> StaffCall<'a> {
    pub fn parts(self) -> (Request, &'a Ctx, Session, Params) {
        (self.req, self.ctx, self.session, self.params)
    }
}
