//! The route table: every endpoint is one arm of `resolve`, and one hop from there
//! to its handler. Literal paths are matched before parameterized ones, so
//! `/api/tickets/create` can never be read as a ticket number.

mod health;
mod public_tickets;

use worker::{Request, Response};

use crate::error::ApiError;
use crate::http::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    CreatePublicTicket,
}

/// Which CORS policy a path falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, from the configured public origins (default: any).
    Public,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Endpoint(Endpoint),
    /// A CORS preflight (`OPTIONS`) for a known path.
    Preflight {
        allow: &'static str,
    },
}

/// The path's audience, or `None` when no endpoint lives there.
pub fn audience(path: &str) -> Option<Audience> {
    path.starts_with("/api/").then_some(Audience::Public)
}

/// Maps a method and path to an endpoint: 404 for unknown paths, 405 (with the
/// `Allow` list) for a known path with another method.
pub fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (allow, endpoint) = match segments.as_slice() {
        ["api", "health"] => ("GET, OPTIONS", get(method, Endpoint::Health)),
        ["api", "tickets", "create"] => {
            ("POST, OPTIONS", post(method, Endpoint::CreatePublicTicket))
        }
        _ => return Err(ApiError::NotFound),
    };
    match endpoint {
        Some(endpoint) => Ok(Route::Endpoint(endpoint)),
        None if method == "OPTIONS" => Ok(Route::Preflight { allow }),
        None => Err(ApiError::MethodNotAllowed { allow }),
    }
}

fn get(method: &str, endpoint: Endpoint) -> Option<Endpoint> {
    (method == "GET").then_some(endpoint)
}

fn post(method: &str, endpoint: Endpoint) -> Option<Endpoint> {
    (method == "POST").then_some(endpoint)
}

pub async fn dispatch(endpoint: Endpoint, req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    match endpoint {
        Endpoint::Health => health::get(ctx).await,
        Endpoint::CreatePublicTicket => public_tickets::create(req, ctx).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_known_routes() {
        assert_eq!(
            resolve("POST", "/api/tickets/create").unwrap(),
            Route::Endpoint(Endpoint::CreatePublicTicket)
        );
        assert_eq!(
            resolve("GET", "/api/health").unwrap(),
            Route::Endpoint(Endpoint::Health)
        );
        assert_eq!(
            resolve("OPTIONS", "/api/tickets/create").unwrap(),
            Route::Preflight {
                allow: "POST, OPTIONS"
            }
        );
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        match resolve("GET", "/api/tickets/create") {
            Err(ApiError::MethodNotAllowed { allow }) => assert_eq!(allow, "POST, OPTIONS"),
            other => panic!("{other:?}"),
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
                matches!(resolve("GET", path), Err(ApiError::NotFound)),
                "{path}"
            );
        }
    }
}
