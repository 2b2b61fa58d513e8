//! The route table (`table.rs`) and thin handlers, one module per area: each reads
//! its input, calls the app and the store, and renders its own answer type.

mod answers;
mod attachments;
mod call;
mod crm_api_keys;
mod crm_auth;
mod crm_notifications;
mod crm_staff;
mod crm_tickets;
mod health;
mod input;
mod mcp;
mod public_pages;
mod public_status;
mod public_tickets;
pub mod table;

use crate::app::sessions;
use crate::app::Ctx;
use crate::domain::staff::Role;
use crate::platform::request::Request;
use call::{Answer, Call, Params, StaffCall};
use table::{Access, Route};

/// Runs a route: staff and admin routes authenticate first, and only then is the
/// handler called, with the session.
pub async fn dispatch(route: &'static Route, params: Params, req: Request, ctx: &Ctx) -> Answer {
    let (handler, needs) = match route.access {
        Access::Anyone(handler) => return handler(Call { req, ctx, params }).await,
        Access::Staff(handler) => (handler, Role::Agent),
        Access::Admin(handler) => (handler, Role::Admin),
    };
    let session =
        sessions::authenticate(req.header("Authorization").as_deref(), ctx, needs).await?;
    handler(StaffCall {
        req,
        ctx,
        session,
        params,
    })
    .await
}
