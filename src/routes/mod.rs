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
use call::{Answer, Call, ClaimCall, Params, StaffCall};
use table::{Access, Route, Staffed};

/// Runs a route: staff and admin routes authenticate first, and only then is the
/// handler called, with the session; or, for a route whose batch checks the session
/// itself, with the claim, and its answer leaves only once the claim was judged.
pub async fn dispatch(route: &'static Route, params: Params, req: Request, ctx: &Ctx) -> Answer {
    let (staffed, needs) = match route.access {
        Access::Anyone(handler) => return handler(Call { req, ctx, params }).await,
        Access::Staff(staffed) => (staffed, Role::Agent),
        Access::Admin(staffed) => (staffed, Role::Admin),
    };
    let claim = sessions::claim(req.header("Authorization").as_deref(), ctx, needs).await?;
    match staffed {
        Staffed::Checked(handler) => {
            let session = sessions::check_alone(&claim, ctx).await?;
            handler(StaffCall {
                req,
                ctx,
                session,
                params,
            })
            .await
        }
        Staffed::InBatch(handler) => {
            let answer = handler(ClaimCall {
                req,
                ctx,
                claim: &claim,
                params,
            })
            .await;
            // An answer given before the batch (a 400 for a bad query) waits for the
            // check on its own: a bad session gets its 401/403 first, as always.
            if !claim.confirmed() {
                sessions::check_alone(&claim, ctx).await?;
            }
            answer
        }
    }
}
