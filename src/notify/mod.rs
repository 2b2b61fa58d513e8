//! Delivering the outbox: email through an HTTP API (Resend's format) and a signed
//! webhook for the team's tools. At least once: rows are claimed with a lease,
//! retried with exponential backoff, and marked failed after the last attempt.
//! Nothing here fails a customer's request, and no secret or link reaches a log.

mod email;
mod post;
mod webhook;

use serde::Serialize;
use worker::Env;

use crate::config::Config;
use crate::domain::notification::{backoff_seconds, Channel};
use crate::domain::time::Timestamp;
use crate::platform::log;
use crate::platform::trips::RoundTrips;
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
pub fn outbox_policy(config: &'static Config, now: Timestamp) -> OutboxPolicy {
    let notify = &config.notify;
    OutboxPolicy {
        now,
        lease_until: now.plus_seconds(lease_seconds(config)),
        link_base: config.public_base_url.as_deref(),
        email_skip: notify.email_api_key.is_none().then_some(EMAIL_OFF),
        webhook_skip: (notify.webhook_url.is_none() || notify.webhook_secret.is_none())
            .then_some(WEBHOOK_OFF),
    }
}

/// What a delivery round did, for the log (the cron's summary line).
#[derive(Debug, Default, Serialize)]
pub struct Tally {
    pub delivered: u32,
    /// Targets that are not configured: recorded as skipped, not tried.
    pub skipped: u32,
    /// Failed this time, due again later with backoff.
    pub retried: u32,
    /// Failed for the last time (or their lease ran out once too often): `failed`.
    pub given_up: u32,
    /// Every failure this round: `retried` + `given_up`.
    pub failed: u32,
    /// Why the round itself could not run or record its outcomes, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Tally {
    fn count(&mut self, delivery: &Delivery) {
        match delivery {
            Delivery::Sent => self.delivered += 1,
            Delivery::Skipped(_) => self.skipped += 1,
            Delivery::Failed {
                retry_at: Some(_), ..
            } => self.retried += 1,
            Delivery::Failed { retry_at: None, .. } => self.given_up += 1,
        }
    }
}

/// The cron's round: claims due rows and delivers them; D1 round trips go to `trips`.
pub async fn deliver_due(
    env: &Env,
    config: &'static Config,
    now: Timestamp,
    trips: &RoundTrips,
) -> Tally {
    let lease = now.plus_seconds(lease_seconds(config));
    let claimed = match Database::from_env(env, trips.clone()) {
        Ok(db) => {
            notifications::claim_due(&db, now, lease, BATCH, config.notify.max_attempts).await
        }
        Err(e) => Err(e),
    };
    match claimed {
        Ok((rows, given_up)) => {
            let mut tally = deliver_rows(env, config, now, &rows, trips).await;
            tally.given_up += u32::try_from(given_up).unwrap_or(u32::MAX);
            tally.failed = tally.retried + tally.given_up;
            tally
        }
        Err(e) => Tally {
            error: Some(format!("claim: {e}")),
            ..Tally::default()
        },
    }
}

/// Delivers rows a request claimed, after its response; logs one line if the round
/// failed (the rows' own failures are recorded on them, and the cron retries).
pub async fn deliver_claimed(
    env: Env,
    config: &'static Config,
    now: Timestamp,
    claimed: Vec<Notification>,
    request_id: String,
) {
    let tally = deliver_rows(&env, config, now, &claimed, &RoundTrips::default()).await;
    if let Some(cause) = &tally.error {
        log::error(&serde_json::json!({
            "event": "delivery",
            "request_id": request_id,
            "cause": cause,
        }));
    }
}

async fn deliver_rows(
    env: &Env,
    config: &Config,
    now: Timestamp,
    claimed: &[Notification],
    trips: &RoundTrips,
) -> Tally {
    let mut tally = Tally::default();
    if claimed.is_empty() {
        return tally;
    }
    if let Err(e) = deliver(env, config, now, claimed, trips, &mut tally).await {
        tally.error = Some(format!("delivery: {e}"));
    }
    tally
}

async fn deliver(
    env: &Env,
    config: &Config,
    now: Timestamp,
    claimed: &[Notification],
    trips: &RoundTrips,
    tally: &mut Tally,
) -> worker::Result<()> {
    let db = Database::from_env(env, trips.clone())?;
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
    notifications::record(&db, &outcomes, now).await?;
    // Counted once recorded: a round that could not record its outcomes delivered
    // nothing as far as the outbox knows (the rows are tried again).
    for (_, outcome) in &outcomes {
        tally.count(outcome);
    }
    Ok(())
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
