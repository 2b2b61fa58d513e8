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

use std::cell::RefCell;
use std::sync::OnceLock;

use serde::Serialize;
use worker::js_sys::Function;
use worker::wasm_bindgen::prelude::*;
use worker::{event, web_sys, Context, Env, ScheduleContext, ScheduledEvent};

use crate::app::Ctx;
use crate::config::Config;
use crate::domain::encoding::hex;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::{error_response, Response};
use crate::notify::Tally;
use crate::platform::log;
use crate::platform::request::Request;
use crate::platform::trips::RoundTrips;
use crate::routes::table::{self, Audience, Resolved, Route};
use crate::store::maintenance::{self, Cutoffs};
use crate::store::Database;

/// Request headers a browser client may send (answered in preflights).
const CORS_ALLOW_HEADERS: &str = "Content-Type, Authorization, Idempotency-Key, X-Ticket-Token, \
    Content-Disposition, Range, If-None-Match, If-Range";
/// Response headers a browser client may read.
const CORS_EXPOSE_HEADERS: &str = "Location, Retry-After, RateLimit, RateLimit-Policy, \
    X-Request-Id, Idempotent-Replayed, Content-Disposition, Content-Range, ETag";

/// The fetch handler, called by `src/entry.mjs` (the module's default export) with the
/// runtime's request, env and context, and the promise it returned to the runtime:
/// the answer settles it (`platform::response::respond`). The request runs on
/// `platform::task`, polled at once.
#[wasm_bindgen]
pub fn fetch(
    raw: web_sys::Request,
    env: Env,
    ctx: worker::worker_sys::Context,
    resolve: Function,
    reject: Function,
) {
    platform::task::spawn(async move {
        let response = serve(raw, env, Context::new(ctx)).await;
        platform::response::respond(&response, &resolve, &reject);
    });
}

/// Takes the runtime's own `Request` (see `platform::request`); answers the response.
async fn serve(raw: web_sys::Request, env: Env, worker_ctx: Context) -> Response {
    let started = Timestamp::now();
    let req = Request::new(raw);
    let method = req.method().to_owned();
    let path = req.path().to_owned();
    let cors_origin = req.header("Origin");
    let config = config(&env);
    let mut ctx = Ctx {
        env,
        worker: worker_ctx,
        config,
        now: started,
        request_id: new_request_id(),
        request_origin: req.origin().to_owned(),
        d1_trips: RoundTrips::default(),
        kv_trips: RoundTrips::default(),
        r2_trips: RoundTrips::default(),
        note: RefCell::new(None),
    };

    let (route, outcome) = handle(req, &mut ctx, &method, &path).await;
    let (mut response, error) = match outcome {
        Ok(response) => (response, None),
        Err(error) => (error_response(&error), Some(error)),
    };
    decorate(
        &mut response,
        &ctx,
        table::audience_of(&path),
        cors_origin.as_deref(),
    );
    log_request(
        &ctx,
        &method,
        route,
        response.status(),
        error.as_ref(),
        started,
    );
    response
}

/// The one log line of a request (JSON, see `log_request`).
#[derive(Serialize)]
struct RequestLine<'a> {
    event: &'static str,
    request_id: &'a str,
    method: &'a str,
    /// The route's name from the table, never the path or query: those carry ticket
    /// numbers and tokens. None when the path matched no route (404, 405, preflight).
    route: Option<&'static str>,
    status: u16,
    duration_ms: u64,
    d1: u32,
    kv: u32,
    r2: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    /// The internal cause of a 5xx (never sent to the client).
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// Writes the request's line: one serialization, one console call; at level error for
/// a 5xx. Nothing in it comes from the request but its method (and only a plain token).
fn log_request(
    ctx: &Ctx,
    method: &str,
    route: Option<&'static Route>,
    status: u16,
    error: Option<&ApiError>,
    started: Timestamp,
) {
    let plain_method = method.len() <= 16 && method.bytes().all(|b| b.is_ascii_alphabetic());
    let line = RequestLine {
        event: "request",
        request_id: &ctx.request_id,
        method: if plain_method { method } else { "(invalid)" },
        route: route.map(|r| r.name),
        status,
        duration_ms: Timestamp::now().millis_since(started),
        d1: ctx.d1_trips.count(),
        kv: ctx.kv_trips.count(),
        r2: ctx.r2_trips.count(),
        code: match error {
            Some(error) => Some(error.code()),
            // A page answered with its own HTML (the status page's 404).
            None if status == 404 => Some("not_found"),
            None if status >= 400 => Some("http_error"),
            None => None,
        },
        cause: error.and_then(ApiError::internal_cause),
        note: ctx.note.take(),
    };
    if status >= 500 {
        log::error(&line);
    } else {
        log::info(&line);
    }
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
    let started = Timestamp::now();
    let config = config(&env);
    let now = Timestamp::from_unix_millis(event.schedule() as i64);
    let trips = RoundTrips::default();
    let notifications = notify::deliver_due(&env, config, now, &trips).await;
    let days = |n: u64| n.saturating_mul(86_400);
    let cutoffs = Cutoffs {
        now,
        rate_window_start: now.minus_seconds(config.rate_limit_window_seconds),
        login_window_start: now.minus_seconds(config.login_window_seconds),
        notifications_before: now.minus_seconds(days(config.notify.retention_days)),
    };
    let pruned = match Database::from_env(&env, trips.clone()) {
        Ok(db) => maintenance::clean_up(&db, &cutoffs).await,
        Err(e) => Err(e),
    };
    let r2_trips = RoundTrips::default();
    let files = app::attachments::remove_expired(&env, config, now, &trips, &r2_trips).await;
    let line = CronLine {
        event: "cron",
        duration_ms: Timestamp::now().millis_since(started),
        d1: trips.count(),
        r2: r2_trips.count(),
        cleanup_error: pruned.as_ref().err().map(ToString::to_string),
        pruned: pruned.ok(),
        notifications,
        files_error: files.as_ref().err().cloned(),
        unsent_files_removed: files.ok(),
    };
    let failed = line.cleanup_error.is_some()
        || line.files_error.is_some()
        || line.notifications.error.is_some();
    if failed {
        log::error(&line);
    } else {
        log::info(&line);
    }
}

/// The cron's one summary line per run.
#[derive(Serialize)]
struct CronLine {
    event: &'static str,
    duration_ms: u64,
    d1: u32,
    /// Delivered, skipped, retried and given-up notifications (and a failed round's cause).
    notifications: Tally,
    /// Rows removed per table (absent when the cleanup failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pruned: Option<maintenance::Cleanup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cleanup_error: Option<String>,
    r2: u32,
    /// Uploads never sent with a message, removed (objects and rows) after
    /// `ATTACHMENT_ORPHAN_HOURS`; absent when the sweep failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    unsent_files_removed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_error: Option<String>,
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
