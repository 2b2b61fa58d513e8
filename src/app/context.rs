//! The request context: what a handler gets besides the request.

use std::cell::RefCell;

use worker::{Context, Env};

use crate::config::Config;
use crate::domain::abuse::Window;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::notify;
use crate::platform::trips::RoundTrips;
use crate::store::notifications::OutboxPolicy;
use crate::store::rows::Notification;
use crate::store::Database;

pub struct Ctx {
    pub env: Env,
    /// For work that continues after the response (`wait_until`).
    pub worker: Context,
    pub config: &'static Config,
    /// The request's one clock: every time it writes or compares.
    pub now: Timestamp,
    pub request_id: String,
    /// `scheme://host[:port]` this request came to.
    pub request_origin: String,
    /// This request's D1, KV and R2 round trips, for its log line: every `Database`
    /// made for it counts into `d1_trips`, every KV call into `kv_trips`, every R2 call
    /// into `r2_trips`.
    pub d1_trips: RoundTrips,
    pub kv_trips: RoundTrips,
    pub r2_trips: RoundTrips,
    /// Why a request was answered as it was, for its log line (a refused bot check,
    /// a honeypot): a fixed phrase or a provider's error codes, never what the
    /// client sent.
    pub note: RefCell<Option<String>>,
}

impl Ctx {
    pub fn db(&self) -> Result<Database, ApiError> {
        Database::from_env(&self.env, self.d1_trips.clone()).map_err(ApiError::from)
    }

    /// Sets the note of this request's log line.
    pub fn note(&self, text: impl Into<String>) {
        *self.note.borrow_mut() = Some(text.into());
    }

    /// The window of the public rate limits (creates, replies, lookups).
    pub fn rate_window(&self) -> Window {
        Window {
            seconds: self.config.rate_limit_window_seconds,
        }
    }

    /// The base of status links in answers to this request: `PUBLIC_BASE_URL`, else the
    /// origin it came to. (Emails never use the request's origin: `notify::email`.)
    pub fn link_base(&self) -> &str {
        self.config
            .public_base_url
            .as_deref()
            .unwrap_or(&self.request_origin)
    }

    /// How outbox rows written by this request start (claimed by it, or skipped).
    pub fn outbox(&self) -> OutboxPolicy {
        notify::outbox_policy(self.config, self.now)
    }

    /// Delivers outbox rows this request claimed right after the response; the cron
    /// trigger retries whatever this does not manage.
    pub fn deliver_after_response(&self, claimed: Vec<Notification>) {
        if claimed.is_empty() {
            return;
        }
        self.worker.wait_until(notify::deliver_claimed(
            self.env.clone(),
            self.config,
            self.now,
            claimed,
            self.request_id.clone(),
        ));
    }
}
