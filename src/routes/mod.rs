//! The route table: every endpoint is one arm of `resolve`, and one hop from there
//! to its handler. Literal paths are matched before parameterized ones, so
//! `/api/tickets/create` can never be read as a ticket number.

mod creating;
mod crm_api_keys;
mod crm_auth;
mod crm_notifications;
mod crm_staff;
mod crm_tickets;
mod health;
mod public_status;
mod public_tickets;

use crate::http::{Request, Response};

use std::future::Future;
use std::pin::Pin;

use crate::domain::lifecycle::Action;
use crate::domain::ticket::parse_ticket_number;
use crate::error::ApiError;
use crate::http::Ctx;
use crate::store::tickets::TicketRef;

#[derive(Debug, Clone)]
pub enum Endpoint {
    Health,
    CreatePublicTicket,
    Login,
    Logout,
    Me,
    ListStaff,
    CreateStaff,
    UpdateStaff(i64),
    SetStaffPassword(i64),
    CreateCrmTicket,
    ListTickets,
    GetTicket(TicketRef),
    EditTicket(i64),
    TicketAction(i64, Action),
    Stats,
    ListApiKeys,
    CreateApiKey,
    RevokeApiKey(i64),
    TicketStatus(String),
    StatusPage(String),
    CustomerReply(String),
    LookupTickets,
    AddMessage(i64),
    ListNotifications,
    RetryNotification(i64),
}

/// Which CORS policy a path falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, from the configured public origins (default: any).
    Public,
    /// The CRM admin panel, from `CRM_ALLOWED_ORIGINS` only.
    Crm,
}

#[derive(Debug, Clone)]
pub enum Route {
    Endpoint(Endpoint),
    /// A CORS preflight (`OPTIONS`) for a known path.
    Preflight {
        allow: &'static str,
    },
}

pub fn audience(path: &str) -> Audience {
    if path.starts_with("/api/crm/") {
        Audience::Crm
    } else {
        Audience::Public
    }
}

/// Maps a method and path to an endpoint: 404 for unknown paths, 405 (with the
/// `Allow` list) for a known path with another method.
pub fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    use Endpoint::*;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (allow, endpoint) = match segments.as_slice() {
        ["api", "health"] => ("GET, OPTIONS", on(method, [("GET", Health)])),
        ["api", "tickets", "create"] => {
            ("POST, OPTIONS", on(method, [("POST", CreatePublicTicket)]))
        }
        ["api", "tickets", "lookup"] => ("POST, OPTIONS", on(method, [("POST", LookupTickets)])),
        ["api", "tickets", number] => {
            let number = parse_number(number)?;
            ("GET, OPTIONS", on(method, [("GET", TicketStatus(number))]))
        }
        ["api", "tickets", number, "messages"] => {
            let number = parse_number(number)?;
            (
                "POST, OPTIONS",
                on(method, [("POST", CustomerReply(number))]),
            )
        }
        ["t", number] => {
            let number = parse_number(number)?;
            ("GET", on(method, [("GET", StatusPage(number))]))
        }

        ["api", "crm", "auth", "login"] => ("POST, OPTIONS", on(method, [("POST", Login)])),
        ["api", "crm", "auth", "logout"] => ("POST, OPTIONS", on(method, [("POST", Logout)])),
        ["api", "crm", "auth", "me"] => ("GET, OPTIONS", on(method, [("GET", Me)])),

        ["api", "crm", "staff"] => (
            "GET, POST, OPTIONS",
            on(method, [("GET", ListStaff), ("POST", CreateStaff)]),
        ),
        ["api", "crm", "staff", id] => {
            let id = parse_id(id)?;
            ("PATCH, OPTIONS", on(method, [("PATCH", UpdateStaff(id))]))
        }
        ["api", "crm", "staff", id, "password"] => {
            let id = parse_id(id)?;
            (
                "POST, OPTIONS",
                on(method, [("POST", SetStaffPassword(id))]),
            )
        }

        ["api", "crm", "api-keys"] => (
            "GET, POST, OPTIONS",
            on(method, [("GET", ListApiKeys), ("POST", CreateApiKey)]),
        ),
        ["api", "crm", "api-keys", id] => {
            let id = parse_id(id)?;
            (
                "DELETE, OPTIONS",
                on(method, [("DELETE", RevokeApiKey(id))]),
            )
        }
        ["api", "crm", "notifications"] => {
            ("GET, OPTIONS", on(method, [("GET", ListNotifications)]))
        }
        ["api", "crm", "notifications", id, "retry"] => {
            let id = parse_id(id)?;
            (
                "POST, OPTIONS",
                on(method, [("POST", RetryNotification(id))]),
            )
        }
        ["api", "crm", "stats"] => ("GET, OPTIONS", on(method, [("GET", Stats)])),
        ["api", "crm", "tickets"] => ("GET, OPTIONS", on(method, [("GET", ListTickets)])),
        ["api", "crm", "tickets", "create"] => {
            ("POST, OPTIONS", on(method, [("POST", CreateCrmTicket)]))
        }
        ["api", "crm", "tickets", reference] => {
            let reference = parse_ticket_ref(reference)?;
            let edit = match &reference {
                TicketRef::Id(id) => Some(("PATCH", EditTicket(*id))),
                TicketRef::Number(_) => None,
            };
            let allow = if edit.is_some() {
                "GET, PATCH, OPTIONS"
            } else {
                "GET, OPTIONS"
            };
            let get = ("GET", GetTicket(reference));
            (allow, on(method, [Some(get), edit].into_iter().flatten()))
        }
        ["api", "crm", "tickets", id, "messages"] => {
            let id = parse_id(id)?;
            ("POST, OPTIONS", on(method, [("POST", AddMessage(id))]))
        }
        ["api", "crm", "tickets", id, action] => {
            let id = parse_id(id)?;
            let action = Action::parse(action).ok_or_else(ApiError::no_route)?;
            (
                "POST, OPTIONS",
                on(method, [("POST", TicketAction(id, action))]),
            )
        }
        _ => return Err(ApiError::no_route()),
    };
    match endpoint {
        Some(endpoint) => Ok(Route::Endpoint(endpoint)),
        None if method == "OPTIONS" => Ok(Route::Preflight { allow }),
        None => Err(ApiError::MethodNotAllowed { allow }),
    }
}

/// The endpoint registered for `method`, if any.
fn on(
    method: &str,
    endpoints: impl IntoIterator<Item = (&'static str, Endpoint)>,
) -> Option<Endpoint> {
    endpoints
        .into_iter()
        .find_map(|(m, endpoint)| (m == method).then_some(endpoint))
}

/// A positive integer id segment; anything else is no route.
fn parse_id(segment: &str) -> Result<i64, ApiError> {
    let valid =
        !segment.is_empty() && segment.len() <= 15 && segment.bytes().all(|b| b.is_ascii_digit());
    segment
        .parse::<i64>()
        .ok()
        .filter(|id| valid && *id > 0)
        .ok_or_else(ApiError::no_route)
}

fn parse_number(segment: &str) -> Result<String, ApiError> {
    parse_ticket_number(segment)
        .map(|_| segment.to_owned())
        .ok_or_else(ApiError::no_route)
}

fn parse_ticket_ref(segment: &str) -> Result<TicketRef, ApiError> {
    if parse_ticket_number(segment).is_some() {
        Ok(TicketRef::Number(segment.to_owned()))
    } else {
        parse_id(segment).map(TicketRef::Id)
    }
}

/// A handler's future, boxed: each route keeps its own state machine (and poll
/// function) instead of all of them being inlined into one.
type Handling<'a> = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + 'a>>;

pub async fn dispatch(endpoint: Endpoint, req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    use Endpoint::*;
    let handling: Handling<'_> = match endpoint {
        Health => Box::pin(health::get(ctx)),
        CreatePublicTicket => Box::pin(public_tickets::create(req, ctx)),
        Login => Box::pin(crm_auth::login(req, ctx)),
        Logout => Box::pin(crm_auth::logout(req, ctx)),
        Me => Box::pin(crm_auth::me(req, ctx)),
        ListStaff => Box::pin(crm_staff::list(req, ctx)),
        CreateStaff => Box::pin(crm_staff::create(req, ctx)),
        UpdateStaff(id) => Box::pin(crm_staff::update(req, ctx, id)),
        SetStaffPassword(id) => Box::pin(crm_staff::set_password(req, ctx, id)),
        CreateCrmTicket => Box::pin(crm_tickets::create(req, ctx)),
        ListTickets => Box::pin(crm_tickets::list(req, ctx)),
        GetTicket(reference) => Box::pin(crm_tickets::get(req, ctx, reference)),
        EditTicket(id) => Box::pin(crm_tickets::edit(req, ctx, id)),
        TicketAction(id, action) => Box::pin(crm_tickets::act(req, ctx, id, action)),
        Stats => Box::pin(crm_tickets::stats(req, ctx)),
        ListApiKeys => Box::pin(crm_api_keys::list(req, ctx)),
        CreateApiKey => Box::pin(crm_api_keys::create(req, ctx)),
        RevokeApiKey(id) => Box::pin(crm_api_keys::revoke(req, ctx, id)),
        TicketStatus(number) => Box::pin(public_status::status(req, ctx, number)),
        StatusPage(number) => Box::pin(public_status::page(req, ctx, number)),
        CustomerReply(number) => Box::pin(public_status::reply(req, ctx, number)),
        LookupTickets => Box::pin(public_status::lookup(req, ctx)),
        AddMessage(id) => Box::pin(crm_tickets::add_message(req, ctx, id)),
        ListNotifications => Box::pin(crm_notifications::list(req, ctx)),
        RetryNotification(id) => Box::pin(crm_notifications::retry(req, ctx, id)),
    };
    handling.await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: &str, path: &str) -> String {
        match resolve(method, path) {
            Ok(Route::Endpoint(e)) => format!("{e:?}"),
            Ok(Route::Preflight { allow }) => format!("Preflight({allow})"),
            Err(e) => format!("{}", e.status()),
        }
    }

    #[test]
    fn resolves_known_routes() {
        for (method, path, expected) in [
            ("POST", "/api/tickets/create", "CreatePublicTicket"),
            ("GET", "/api/health", "Health"),
            ("OPTIONS", "/api/tickets/create", "Preflight(POST, OPTIONS)"),
            ("POST", "/api/crm/tickets/create", "CreateCrmTicket"),
            ("GET", "/api/crm/tickets/12", "GetTicket(Id(12))"),
            (
                "GET",
                "/api/crm/tickets/TKT-2026-0008",
                "GetTicket(Number(\"TKT-2026-0008\"))",
            ),
            ("PATCH", "/api/crm/tickets/12", "EditTicket(12)"),
            (
                "POST",
                "/api/crm/tickets/12/resolve",
                "TicketAction(12, Resolve)",
            ),
            ("PATCH", "/api/crm/staff/3", "UpdateStaff(3)"),
            ("POST", "/api/crm/staff/3/password", "SetStaffPassword(3)"),
        ] {
            assert_eq!(endpoint(method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn literal_paths_never_become_parameters() {
        assert_eq!(endpoint("GET", "/api/crm/tickets/create"), "405");
        assert_eq!(endpoint("PATCH", "/api/crm/tickets/TKT-2026-0008"), "405");
        for path in [
            "/api/crm/tickets/0",
            "/api/crm/tickets/-1",
            "/api/crm/tickets/abc",
            "/api/crm/tickets/12/delete",
            "/api/crm/tickets/99999999999999999999",
        ] {
            assert_eq!(endpoint("GET", path), "404", "{path}");
        }
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        match resolve("GET", "/api/tickets/create") {
            Err(ApiError::MethodNotAllowed { allow }) => assert_eq!(allow, "POST, OPTIONS"),
            _ => panic!("expected 405"),
        }
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in [
            "/",
            "/api",
            "/api/tickets",
            "/api/tickets/create/",
            "/api/health/x",
            "/API/health",
        ] {
            assert!(
                matches!(resolve("GET", path), Err(ApiError::NotFound { .. })),
                "{path}"
            );
        }
    }
}
