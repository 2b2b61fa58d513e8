//! The public support page (`GET /support`), rendered here so it works without
//! JavaScript and always lists the configured categories.

use super::call::{Answer, Call};
use crate::app::Ctx;
use crate::domain::fields::Fields;
use crate::domain::ticket::{Priority, TicketNumber};
use crate::http::html::{page_response, scripted_csp};
use crate::http::support_page::{support_page, Problem, SupportPage};
use crate::http::Response;

/// `GET /support[?created=TKT-...]`: the form; `created` (where a form post lands
/// when status links are off) adds a banner with the number.
pub async fn support(call: Call<'_>) -> Answer {
    let (req, ctx, _) = call.parts();
    let created = req
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "created")
        .and_then(|(_, v)| TicketNumber::parse(&v));
    Ok(support_form(ctx, 200, None, None, created.as_ref()))
}

/// The support page with `status`: empty, or again after a refused post with the
/// API's messages and what the person typed.
pub fn support_form(
    ctx: &Ctx,
    status: u16,
    values: Option<&Fields>,
    problem: Option<Problem>,
    created: Option<&TicketNumber>,
) -> Response {
    let priorities = Priority::PUBLIC.map(Priority::as_str);
    let site_key = ctx.config.turnstile_site_key.as_deref();
    let html = support_page(&SupportPage {
        categories: &ctx.config.categories,
        priorities: &priorities,
        default_priority: Priority::Medium.as_str(),
        turnstile_site_key: site_key,
        values,
        problem,
        created: created.map(TicketNumber::as_str),
    });
    page_response(status, scripted_csp(site_key.is_some()), html)
}
