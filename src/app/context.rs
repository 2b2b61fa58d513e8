//! The request context: what a handler gets besides the request.

use worker::{Context, Env};

use crate::config::Config;
use crate::domain::abuse::Window;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::notify;
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
}

impl Ctx {
    pub fn db(&self) -> Result<Database, ApiError> {
        Database::from_env(&self.env).map_err(ApiError::from)
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
        ));
    }
}
