//! The route table: every endpoint with its method, path template, name and who may
//! call it, in one list. `dispatch` authenticates staff and admin routes before their
//! handler runs (a staff handler cannot be called without a `Session`); the `Allow`
//! header and the CORS audience come from the same list.
//!
//! Path templates have typed parameters: `{id}` (a positive integer),
//! `{ticket_number}` (`TKT-YYYY-NNNN`) and `{ticket}` (either). Where templates
//! overlap, a literal segment wins over a parameter, so `/api/tickets/create` can
//! never be read as a ticket number.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use super::call::{Answer, Call, ClaimCall, Params, StaffCall};
use super::{attachments, crm_api_keys, crm_auth, crm_notifications, crm_staff};
use super::{crm_tickets, health, mcp, public_pages, public_status, public_tickets};
use crate::domain::lifecycle::Action;
use crate::domain::ticket::TicketNumber;
use crate::error::ApiError;
use crate::store::tickets::TicketRef;

/// A handler's future, boxed: each route keeps its own state machine (and poll
/// function) instead of all of them being inlined into one.
pub type Handling<'a> = Pin<Box<dyn Future<Output = Answer> + 'a>>;
pub type PublicHandler = for<'a> fn(Call<'a>) -> Handling<'a>;
pub type StaffHandler = for<'a> fn(StaffCall<'a>) -> Handling<'a>;
pub type ClaimHandler = for<'a> fn(ClaimCall<'a>) -> Handling<'a>;

/// Who may call an endpoint, with the handler that kind of caller gets.
#[derive(Clone, Copy)]
pub enum Access {
    Anyone(PublicHandler),
    /// Any active staff member with a valid session.
    Staff(Staffed),
    /// Admins only (agents get 403).
    Admin(Staffed),
}

/// When a staff route's session is checked against D1: the answer is the same
/// (401/403 before anything else), the round trips are not.
#[derive(Clone, Copy)]
pub enum Staffed {
    /// In a round trip of its own, before the handler runs (`staff!`, `admin!`).
    Checked(StaffHandler),
    /// By the first statement of the handler's own batch, whose other statements are
    /// guarded by it (`staff_batch!`, `admin_batch!`): one D1 round trip fewer.
    InBatch(ClaimHandler),
}

/// Which CORS policy an answer falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, from the configured public origins (default: any).
    Public,
    /// The CRM admin panel, from `CRM_ALLOWED_ORIGINS` only.
    Crm,
}

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// A stable name: the logs' route name and the contract's operation id.
    pub name: &'static str,
    pub access: Access,
}

/// The CORS audience of a path (or a template): the CRM under `/api/crm/`.
pub fn audience_of(path: &str) -> Audience {
    if path.starts_with("/api/crm/") {
        Audience::Crm
    } else {
        Audience::Public
    }
}

macro_rules! public {
    ($handler:expr) => {
        Access::Anyone(|call| Box::pin($handler(call)))
    };
}
macro_rules! staff {
    ($handler:expr) => {
        Access::Staff(Staffed::Checked(|call| Box::pin($handler(call))))
    };
}
macro_rules! admin {
    ($handler:expr) => {
        Access::Admin(Staffed::Checked(|call| Box::pin($handler(call))))
    };
}
macro_rules! staff_batch {
    ($handler:expr) => {
        Access::Staff(Staffed::InBatch(|call| Box::pin($handler(call))))
    };
}
macro_rules! admin_batch {
    ($handler:expr) => {
        Access::Admin(Staffed::InBatch(|call| Box::pin($handler(call))))
    };
}
macro_rules! action {
    ($action:expr) => {
        Access::Staff(Staffed::InBatch(|call| {
            Box::pin(crm_tickets::act(call, $action))
        }))
    };
}

const fn route(
    method: &'static str,
    path: &'static str,
    name: &'static str,
    access: Access,
) -> Route {
    Route {
        method,
        path,
        name,
        access,
    }
}

/// Every endpoint. Several methods on one path are listed in the order `Allow` gives them.
#[rustfmt::skip]
pub static ROUTES: &[Route] = &[
    route("GET",    "/api/health",                            "health",               public!(health::get)),
    // The public API: anyone (the AI assistant, forms, widgets, customers' status links).
    route("POST",   "/api/tickets/create",                    "create_ticket",        public!(public_tickets::create)),
    route("POST",   "/api/tickets/lookup",                    "request_status_links", public!(public_status::lookup)),
    route("GET",    "/api/tickets/{ticket_number}",           "get_ticket_status",    public!(public_status::status)),
    route("POST",   "/api/tickets/{ticket_number}/messages",  "add_customer_reply",   public!(public_status::reply)),
    route("POST",   "/api/tickets/{ticket_number}/attachments", "upload_customer_attachment", public!(attachments::customer_upload)),
    route("GET",    "/api/tickets/{ticket_number}/attachments/{id}", "download_customer_attachment", public!(attachments::customer_download)),
    route("GET",    "/t/{ticket_number}",                     "status_page",          public!(public_status::page)),
    // AI agents: the same operations as MCP tools (an integration key or a staff session).
    route("POST",   "/mcp",                                   "mcp",                  public!(mcp::endpoint)),
    route("GET",    "/support",                               "support_page",         public!(public_pages::support)),
    // Staff sign-in.
    route("POST",   "/api/crm/auth/login",                    "login",                public!(crm_auth::login)),
    route("POST",   "/api/crm/auth/logout",                   "logout",               staff_batch!(crm_auth::logout)),
    route("GET",    "/api/crm/auth/me",                       "get_session",          staff!(crm_auth::me)),
    // Who a ticket can be assigned to: any staff member may ask.
    route("GET",    "/api/crm/assignees",                     "list_assignees",       staff_batch!(crm_staff::assignees)),
    // Staff and integration keys.
    route("GET",    "/api/crm/staff",                         "list_staff",           admin_batch!(crm_staff::list)),
    route("POST",   "/api/crm/staff",                         "create_staff",         admin!(crm_staff::create)),
    route("PATCH",  "/api/crm/staff/{id}",                    "update_staff",         admin!(crm_staff::update)),
    route("POST",   "/api/crm/staff/{id}/password",           "set_staff_password",   admin!(crm_staff::set_password)),
    route("GET",    "/api/crm/api-keys",                      "list_api_keys",        admin_batch!(crm_api_keys::list)),
    route("POST",   "/api/crm/api-keys",                      "create_api_key",       admin!(crm_api_keys::create)),
    route("DELETE", "/api/crm/api-keys/{id}",                 "revoke_api_key",       admin!(crm_api_keys::revoke)),
    // The outbox.
    route("GET",    "/api/crm/notifications",                 "list_notifications",   admin_batch!(crm_notifications::list)),
    route("POST",   "/api/crm/notifications/{id}/retry",      "retry_notification",   admin_batch!(crm_notifications::retry)),
    // Tickets.
    route("GET",    "/api/crm/stats",                         "ticket_stats",         staff_batch!(crm_tickets::stats)),
    route("GET",    "/api/crm/tickets",                       "list_tickets",         staff_batch!(crm_tickets::list)),
    route("POST",   "/api/crm/tickets/create",                "create_crm_ticket",    staff!(crm_tickets::create)),
    route("GET",    "/api/crm/tickets/{ticket}",              "get_ticket",           staff_batch!(crm_tickets::get)),
    route("PATCH",  "/api/crm/tickets/{ticket}",              "edit_ticket",          staff_batch!(crm_tickets::edit)),
    route("POST",   "/api/crm/tickets/{ticket}/messages",     "add_staff_message",    staff!(crm_tickets::add_message)),
    route("POST",   "/api/crm/tickets/{ticket}/attachments",  "upload_staff_attachment", staff!(attachments::staff_upload)),
    route("POST",   "/api/crm/tickets/{ticket}/assign",       "assign_ticket",        action!(Action::Assign)),
    route("POST",   "/api/crm/tickets/{ticket}/unassign",     "unassign_ticket",      action!(Action::Unassign)),
    route("POST",   "/api/crm/tickets/{ticket}/resolve",      "resolve_ticket",       action!(Action::Resolve)),
    route("POST",   "/api/crm/tickets/{ticket}/close",        "close_ticket",         action!(Action::Close)),
    route("POST",   "/api/crm/tickets/{ticket}/reopen",       "reopen_ticket",        action!(Action::Reopen)),
    // Files.
    route("GET",    "/api/crm/attachments/{id}",              "download_attachment",  staff!(attachments::staff_download)),
    route("DELETE", "/api/crm/attachments/{id}",              "delete_attachment",    admin!(attachments::delete)),
];

/// What a method and path resolve to.
pub enum Resolved {
    Endpoint(&'static Route, Params),
    /// A CORS preflight (`OPTIONS`) for a known path.
    Preflight {
        allow: String,
    },
}

/// Maps a method and path to an endpoint: 404 for unknown paths, 405 (with the
/// `Allow` list) for a known path with another method.
pub fn resolve(method: &str, path: &str) -> Result<Resolved, ApiError> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut matches: Vec<(&'static Route, Params, u64)> = TEMPLATES
        .iter()
        .zip(ROUTES)
        .filter(|(template, _)| template.parts.len() == segments.len())
        .filter_map(|(template, route)| {
            let params = template.matches(&segments)?;
            Some((route, params, template.specificity))
        })
        .collect();
    // Where templates overlap, the one with a literal at the first difference wins.
    let Some(best) = matches.iter().map(|(_, _, s)| *s).min() else {
        return Err(ApiError::no_route());
    };
    matches.retain(|(_, _, s)| *s == best);
    if let Some(i) = matches.iter().position(|(r, _, _)| r.method == method) {
        let (route, params, _) = matches.swap_remove(i);
        return Ok(Resolved::Endpoint(route, params));
    }
    let allow = allow_header(matches.iter().map(|(r, _, _)| *r));
    if method == "OPTIONS" {
        Ok(Resolved::Preflight { allow })
    } else {
        Err(ApiError::MethodNotAllowed { allow })
    }
}

/// The methods of the routes of one path, and `OPTIONS` for the API's paths (which
/// answer CORS preflights).
fn allow_header<'a>(routes: impl Iterator<Item = &'a Route>) -> String {
    let mut methods: Vec<&str> = Vec::new();
    let mut api = false;
    for route in routes {
        if !methods.contains(&route.method) {
            methods.push(route.method);
        }
        api |= route.path.starts_with("/api/");
    }
    if api {
        methods.push("OPTIONS");
    }
    methods.join(", ")
}

/// One segment of a path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Literal(&'static str),
    /// `{id}`
    Id,
    /// `{ticket_number}`
    Number,
    /// `{ticket}`: a number or an id
    Ticket,
}

/// A route's template, split once per isolate (resolving runs on every request).
struct Template {
    parts: Vec<Part>,
    /// A bit per parameter, the first segment highest: the smallest value has a
    /// literal at the first place where two templates differ.
    specificity: u64,
}

impl Template {
    fn parse(path: &'static str) -> Self {
        let parts: Vec<Part> = path
            .split('/')
            .map(|part| match part {
                "{id}" => Part::Id,
                "{ticket_number}" => Part::Number,
                "{ticket}" => Part::Ticket,
                literal => Part::Literal(literal),
            })
            .collect();
        let specificity = parts
            .iter()
            .enumerate()
            .filter(|(_, part)| !matches!(part, Part::Literal(_)))
            .fold(0u64, |bits, (i, _)| bits | 1 << (63 - i.min(63)));
        Template { parts, specificity }
    }

    /// The typed parameters of a path (split on `/`) that fits this template.
    fn matches(&self, segments: &[&str]) -> Option<Params> {
        if self.parts.len() != segments.len() {
            return None;
        }
        // Literals first: a parameter is parsed only when the rest of the path fits.
        let literals_fit = self
            .parts
            .iter()
            .zip(segments)
            .all(|(part, segment)| match part {
                Part::Literal(literal) => literal == segment,
                _ => true,
            });
        if !literals_fit {
            return None;
        }
        let mut params = Params::default();
        for (part, segment) in self.parts.iter().zip(segments) {
            match part {
                Part::Literal(_) => {}
                Part::Id => params.id = Some(parse_id(segment)?),
                Part::Number => params.ticket_number = Some(TicketNumber::parse(segment)?),
                Part::Ticket => {
                    params.ticket = Some(match TicketNumber::parse(segment) {
                        Some(number) => TicketRef::Number(number),
                        None => TicketRef::Id(parse_id(segment)?),
                    })
                }
            }
        }
        Some(params)
    }
}

/// `ROUTES`' templates, in the same order.
static TEMPLATES: LazyLock<Vec<Template>> =
    LazyLock::new(|| ROUTES.iter().map(|r| Template::parse(r.path)).collect());

/// A positive integer id segment, exact as a JS number.
fn parse_id(segment: &str) -> Option<i64> {
    let valid =
        !segment.is_empty() && segment.len() <= 15 && segment.bytes().all(|b| b.is_ascii_digit());
    segment.parse::<i64>().ok().filter(|id| valid && *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(method: &str, path: &str) -> String {
        match resolve(method, path) {
            Ok(Resolved::Endpoint(route, params)) => format!("{} {params:?}", route.name),
            Ok(Resolved::Preflight { allow }) => format!("Preflight({allow})"),
            Err(e) => format!("{}", e.status()),
        }
    }

    /// A concrete path for a template (`{id}` 12, a ticket number for the others).
    fn sample(template: &str) -> String {
        template
            .replace("{id}", "12")
            .replace("{ticket_number}", "TKT-2026-0008")
            .replace("{ticket}", "TKT-2026-0008")
    }

    #[test]
    fn resolves_known_routes() {
        for (method, path, expected) in [
            ("POST", "/api/tickets/create", "create_ticket"),
            ("GET", "/api/health", "health"),
            ("OPTIONS", "/api/tickets/create", "Preflight(POST, OPTIONS)"),
            ("POST", "/api/crm/tickets/create", "create_crm_ticket"),
            ("GET", "/api/crm/tickets/12", "get_ticket"),
            ("GET", "/api/crm/tickets/TKT-2026-0008", "get_ticket"),
            ("PATCH", "/api/crm/tickets/12", "edit_ticket"),
            ("POST", "/api/crm/tickets/12/resolve", "resolve_ticket"),
            ("PATCH", "/api/crm/staff/3", "update_staff"),
            ("POST", "/api/crm/staff/3/password", "set_staff_password"),
            ("OPTIONS", "/t/TKT-2026-0008", "Preflight(GET)"),
            ("GET", "/support", "support_page"),
            ("GET", "/api/crm/assignees", "list_assignees"),
            (
                "GET",
                "/api/tickets/TKT-2026-0008/attachments/3",
                "download_customer_attachment",
            ),
            (
                "OPTIONS",
                "/api/crm/attachments/3",
                "Preflight(GET, DELETE, OPTIONS)",
            ),
        ] {
            let got = outcome(method, path);
            assert!(got.starts_with(expected), "{method} {path}: {got}");
        }
        match resolve("GET", "/api/crm/tickets/TKT-2026-0008") {
            Ok(Resolved::Endpoint(_, params)) => assert_eq!(
                params.ticket().unwrap(),
                TicketRef::Number(TicketNumber::new(2026, 8))
            ),
            _ => panic!("expected the ticket view"),
        }
    }

    #[test]
    fn literal_paths_never_become_parameters() {
        assert_eq!(outcome("GET", "/api/crm/tickets/create"), "405");
        assert_eq!(outcome("DELETE", "/api/crm/tickets/TKT-2026-0008"), "405");
        for path in [
            "/api/crm/tickets/0",
            "/api/crm/tickets/-1",
            "/api/crm/tickets/abc",
            "/api/crm/tickets/12/delete",
            "/api/crm/tickets/99999999999999999999",
        ] {
            assert_eq!(outcome("GET", path), "404", "{path}");
        }
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        match resolve("GET", "/api/tickets/create") {
            Err(ApiError::MethodNotAllowed { allow }) => assert_eq!(allow, "POST, OPTIONS"),
            _ => panic!("expected 405"),
        }
        match resolve("TRACE", "/api/crm/tickets/12") {
            Err(ApiError::MethodNotAllowed { allow }) => {
                assert_eq!(allow, "GET, PATCH, OPTIONS")
            }
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

    /// Every route is reachable at its own template, and nothing else takes its path.
    #[test]
    fn every_route_resolves_to_itself() {
        for route in ROUTES {
            let path = sample(route.path);
            match resolve(route.method, &path) {
                Ok(Resolved::Endpoint(found, _)) => {
                    assert_eq!(found.name, route.name, "{} {path}", route.method)
                }
                _ => panic!("{} {path} does not resolve", route.method),
            }
        }
        let mut names: Vec<&str> = ROUTES.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len(), "route names are unique");
    }

    /// A new CRM route is staff-only unless it says otherwise; login is the exception.
    #[test]
    fn every_crm_route_but_login_requires_staff() {
        for route in ROUTES {
            let open = matches!(route.access, Access::Anyone(_));
            if route.path.starts_with("/api/crm/") {
                assert_eq!(
                    open,
                    route.name == "login",
                    "{} {}",
                    route.method,
                    route.path
                );
                assert_eq!(audience_of(route.path), Audience::Crm);
            } else {
                assert!(open, "{} {}", route.method, route.path);
                assert_ne!(audience_of(route.path), Audience::Crm);
            }
        }
    }

    #[test]
    fn staff_keys_outbox_and_deletes_are_for_admins() {
        for route in ROUTES {
            let admin_area = route.path.starts_with("/api/crm/staff")
                || route.path.starts_with("/api/crm/api-keys")
                || route.path.starts_with("/api/crm/notifications")
                || route.name == "delete_attachment";
            assert_eq!(
                matches!(route.access, Access::Admin(_)),
                admin_area,
                "{} {}",
                route.method,
                route.path
            );
        }
    }

    /// `Allow` lists exactly the methods the table has for the path (and OPTIONS on the API).
    #[test]
    fn allow_matches_the_table() {
        for route in ROUTES {
            let path = sample(route.path);
            let Ok(Resolved::Preflight { allow }) = resolve("OPTIONS", &path) else {
                panic!("OPTIONS {path}");
            };
            let segments: Vec<&str> = path.split('/').collect();
            let mut expected: Vec<&str> = ROUTES
                .iter()
                .filter(|r| Template::parse(r.path).matches(&segments).is_some())
                .map(|r| r.method)
                .collect();
            expected.dedup();
            if path.starts_with("/api/") {
                expected.push("OPTIONS");
            }
            assert_eq!(allow, expected.join(", "), "{path}");
        }
    }
}
