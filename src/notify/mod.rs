//! Delivering the outbox: email through an HTTP API (Resend's format) and a signed
//! webhook for the team's tools. At least once: rows are claimed with a lease,
//! retried with exponential backoff, and marked failed after the last attempt.
//! Nothing here fails a customer's request, and no secret or link reaches a log.

mod email;
mod post;
mod webhook;

use worker::{console_error, Env};

use crate::config::Config;
use crate::domain::notification::{backoff_seconds, Channel};
use crate::domain::time::Timestamp;
use crate::store::notifications::{self, Delivery, OutboxFacts, OutboxPolicy};
use crate::store::rows::Notification;
use crate::store::Database;

/// How many due rows one round delivers.
const BATCH: u32 = 25;

/// How long a claimed row is left alone before another deliverer may take it: longer
/// than a whole round can take (every row timing out), plus a minute, so two
/// deliverers never send the same row.
fn lease_seconds(config: &Config) -> u64 {
    (u64::from(BATCH) * config.notify.timeout_ms).div_ceil(1000) + 60
}

const EMAIL_OFF: &str = "EMAIL_API_KEY is not set";
const WEBHOOK_OFF: &str = "WEBHOOK_URL or WEBHOOK_SECRET is not set";

/// New outbox rows for configured targets start claimed by the request that writes
/// them; rows for unconfigured targets are recorded as skipped.
pub fn outbox_policy(config: &Config, now: Timestamp) -> OutboxPolicy {
    let notify = &config.notify;
    OutboxPolicy {
        now,
        lease_until: now.plus_seconds(lease_seconds(config)),
        link_base: config.public_base_url.clone(),
        email_skip: notify.email_api_key.is_none().then_some(EMAIL_OFF),
        webhook_skip: (notify.webhook_url.is_none() || notify.webhook_secret.is_none())
            .then_some(WEBHOOK_OFF),
    }
}

/// The cron's round: claims due rows and delivers them.
pub async fn deliver_due(env: Env, config: &'static Config, now: Timestamp) {
    let lease = now.plus_seconds(lease_seconds(config));
    let claimed = match Database::from_env(&env) {
        Ok(db) => {
            notifications::claim_due(&db, now, lease, BATCH, config.notify.max_attempts).await
        }
        Err(e) => Err(e),
    };
    match claimed {
        Ok(rows) => deliver_claimed(env, config, now, rows).await,
        Err(e) => console_error!("notification claim failed: {e}"),
    }
}

/// Delivers rows the caller has claimed, logging rather than failing.
pub async fn deliver_claimed(
    env: Env,
    config: &'static Config,
    now: Timestamp,
    claimed: Vec<Notification>,
) {
    if claimed.is_empty() {
        return;
    }
    if let Err(e) = deliver(&env, config, now, &claimed).await {
        console_error!("notification delivery failed: {e}");
    }
}

async fn deliver(
    env: &Env,
    config: &Config,
    now: Timestamp,
    claimed: &[Notification],
) -> worker::Result<()> {
    let db = Database::from_env(env)?;
    let facts = notifications::facts(&db, claimed).await?;
    let mut outcomes = Vec::with_capacity(claimed.len());
    for n in claimed {
        let outcome = match send(config, now, n, &facts).await {
            Ok(delivery) => delivery,
            Err(error) => {
                let attempts = u32::try_from(n.attempts).unwrap_or(u32::MAX);
                let retry_at = (attempts < config.notify.max_attempts).then(|| {
                    now.plus_seconds(backoff_seconds(config.notify.backoff_seconds, attempts))
                });
                Delivery::Failed { error, retry_at }
            }
        };
        outcomes.push((n.id, outcome));
    }
    notifications::record(&db, &outcomes, now).await
}

/// One delivery; `Err` is a failure worth retrying.
async fn send(
    config: &Config,
    now: Timestamp,
    n: &Notification,
    facts: &OutboxFacts,
) -> Result<Delivery, String> {
    match n.channel {
        Channel::Webhook => {
            let (Some(url), Some(secret)) =
                (&config.notify.webhook_url, &config.notify.webhook_secret)
            else {
                return Ok(Delivery::Skipped(WEBHOOK_OFF.into()));
            };
            webhook::send(config, url, secret, now, n, facts).await
        }
        Channel::Email => {
            let Some(key) = &config.notify.email_api_key else {
                return Ok(Delivery::Skipped(EMAIL_OFF.into()));
            };
            email::send(config, key, n, facts).await
        }
    }
}
