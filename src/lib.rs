//! helpdesk-worker: a support-ticket API on Cloudflare Workers, D1 and KV.
//!
//! This file is only the entry point: it resolves the route, runs it, renders any
//! error as the JSON envelope and adds the headers every answer carries. The layers
//! below it, each importing only from those under it (`make lint` checks):
//! `routes` -> `app` -> `notify` -> `store` -> `platform` -> `http` -> `error`,
//! `config` -> `domain`. See docs/architecture.md.

mod app;
mod config;
mod domain;
mod error;
mod http;
mod notify;
mod platform;
mod routes;
mod store;

use std::sync::OnceLock;

use worker::{
    console_error, console_log, event, web_sys, Context, Env, ScheduleContext, ScheduledEvent,
};

use crate::app::Ctx;
use crate::config::Config;
use crate::domain::encoding::hex;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::{error_response, Response};
use crate::platform::request::Request;
use crate::routes::table::{self, Audience, Resolved, Route};
use crate::store::maintenance::{self, Cutoffs};
use crate::store::Database;

/// Request headers a browser client may send (answered in preflights).
const CORS_ALLOW_HEADERS: &str = "Content-Type, Authorization, Idempotency-Key, X-Ticket-Token, \
    Content-Disposition, Range, If-None-Match, If-Range";
/// Response headers a browser client may read.
const CORS_EXPOSE_HEADERS: &str = "Location, Retry-After, RateLimit, RateLimit-Policy, \
    X-Request-Id, Idempotent-Replayed, Content-Disposition, Content-Range, ETag";

/// Takes and answers the runtime's own `Request`/`Response` (see `platform::request`).
#[event(fetch)]
async fn fetch(
    raw: web_sys::Request,
    env: Env,
    worker_ctx: Context,
) -> worker::Result<web_sys::Response> {
    let req = Request::new(raw);
    let method = req.method().to_owned();
    let path = req.path().to_owned();
    let cors_origin = req.header("Origin");
    let config = config(&env);
    let mut ctx = Ctx {
        env,
        worker: worker_ctx,
        config,
        now: Timestamp::now(),
        request_id: new_request_id(),
        request_origin: req.origin().to_owned(),
    };

    let (route, outcome) = handle(req, &mut ctx, &method, &path).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => {
            if let Some(cause) = error.internal_cause() {
                // The route's name, not the path: paths can carry ticket numbers.
                let route = route.map_or("(no route)", |r| r.name);
                console_error!("request {}: {method} {route}: {cause}", ctx.request_id);
            }
            error_response(&error)
        }
    };
    decorate(
        &mut response,
        &ctx,
        table::audience_of(&path),
        cors_origin.as_deref(),
    );
    Ok(platform::response::into_web(&response)?)
}

/// The answer, and the route that gave it (if the path resolved to one).
async fn handle(
    req: Request,
    ctx: &mut Ctx,
    method: &str,
    path: &str,
) -> (Option<&'static Route>, Result<Response, ApiError>) {
    match test_clock(&req, ctx.config) {
        Ok(Some(now)) => ctx.now = now,
        Ok(None) => {}
        Err(e) => return (None, Err(e)),
    }
    match table::resolve(method, path) {
        Ok(Resolved::Endpoint(route, params)) => {
            (Some(route), routes::dispatch(route, params, req, ctx).await)
        }
        Ok(Resolved::Preflight { allow }) => (None, Ok(preflight(allow))),
        Err(e) => (None, Err(e)),
    }
}

/// The cron trigger (`[triggers]` in wrangler.toml): delivers due notifications
/// (retries with backoff), removes rows that expired and files never sent. Its clock
/// is the event's scheduled time (the test harness can set it; in production it is now).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let config = config(&env);
    let now = Timestamp::from_unix_millis(event.schedule() as i64);
    notify::deliver_due(env.clone(), config, now).await;
    let days = |n: u64| n.saturating_mul(86_400);
    let cutoffs = Cutoffs {
        now,
        rate_window_start: now.minus_seconds(config.rate_limit_window_seconds),
        login_window_start: now.minus_seconds(config.login_window_seconds),
        notifications_before: now.minus_seconds(days(config.notify.retention_days)),
    };
    let outcome = match Database::from_env(&env) {
        Ok(db) => maintenance::clean_up(&db, &cutoffs).await.map(|removed| {
            console_log!(
                "scheduled cleanup removed {} rate-limit hits, {} idempotency records, {} revoked sessions, {} login windows, {} notifications",
                removed.rate_limit_hits,
                removed.idempotency_keys,
                removed.revoked_sessions,
                removed.login_attempts,
                removed.notifications
            )
        }),
        Err(e) => Err(e),
    };
    if let Err(e) = outcome {
        console_error!("scheduled cleanup failed: {e}");
    }
    match app::attachments::remove_expired(&env, config, now).await {
        Ok(0) => {}
        Ok(n) => console_log!("scheduled cleanup removed {n} files never sent"),
        Err(e) => console_error!("scheduled cleanup of unsent files failed: {e}"),
    }
}

/// The configuration, read from the vars once per isolate: vars cannot change while
/// an isolate lives, and reading ~40 of them across the JS boundary on every request
/// is measurable CPU.
fn config(env: &Env) -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string())))
}

/// `X-Test-Now` moves the clock, only when the test harness set `ALLOW_TEST_CLOCK`.
fn test_clock(req: &Request, config: &Config) -> Result<Option<Timestamp>, ApiError> {
    if !config.allow_test_clock {
        return Ok(None);
    }
    match req.header("X-Test-Now") {
        None => Ok(None),
        Some(value) => Timestamp::parse(&value).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_test_clock",
                "X-Test-Now must be an RFC 3339 timestamp.",
            )
        }),
    }
}

fn preflight(allow: String) -> Response {
    Response::empty(204)
        .with_header("Access-Control-Allow-Methods", allow)
        .with_header("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS)
        .with_header("Access-Control-Max-Age", "86400")
}

/// Headers on every answer: the request id, no caching of API data (unless the
/// answer says how it may be cached), and CORS.
fn decorate(response: &mut Response, ctx: &Ctx, audience: Audience, origin: Option<&str>) {
    response.set_header("X-Request-Id", ctx.request_id.as_str());
    // API data is never cached, unless the answer says how it may be.
    if response.header("Cache-Control").is_none() {
        response.set_header("Cache-Control", "no-store");
    }
    response.set_header("X-Content-Type-Options", "nosniff");
    let allowed = match audience {
        Audience::Public => &ctx.config.public_origins,
        Audience::Crm => &ctx.config.crm_origins,
    };
    response.set_header("Vary", "Origin");
    if let Some(allow_origin) = allowed.allow(origin) {
        response.set_header("Access-Control-Allow-Origin", allow_origin);
        response.set_header("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
    }
}

/// 128 random bits as hex: unique per request, also used to claim ticket numbers.
fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Without randomness, fall back to the clock: still unique enough to trace.
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        bytes[..8].copy_from_slice(&nanos.to_le_bytes());
    }
    hex(&bytes)
}
