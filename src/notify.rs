//! Delivering the outbox: email through an HTTP API (Resend's format) and a signed
//! webhook for the team's tools. At least once: rows are claimed with a lease,
//! retried with exponential backoff, and marked failed after the last attempt.
//! Nothing here fails a customer's request, and no secret or link reaches a log.

use serde_json::{json, Value};
use worker::{console_error, Env, Headers, Method, Request, RequestInit};

use crate::access;
use crate::config::Config;
use crate::crypto;
use crate::domain::clock::Now;
use crate::domain::encoding::hex;
use crate::domain::notification::{
    backoff_seconds, lookup_email, staff_reply_email, ticket_created_email, webhook_signed_text,
    Kind, TicketFacts,
};
use crate::store::notifications::{self, Context, Delivery, Notification, OutboxPolicy};
use crate::store::tickets::Ticket;

/// How many due rows one round delivers.
const BATCH: u32 = 25;
/// How long a claimed row is left alone before another deliverer may take it.
const LEASE_SECONDS: u64 = 120;

/// New outbox rows for configured targets start claimed by the request that writes
/// them; rows for unconfigured targets are recorded as skipped.
pub fn outbox_policy(config: &Config, now: Now, link_base: String) -> OutboxPolicy {
    let notify = &config.notify;
    OutboxPolicy {
        now: now.rfc3339(),
        lease_until: now.plus_seconds(LEASE_SECONDS).rfc3339(),
        link_base,
        email_skip: notify
            .email_api_key
            .is_none()
            .then_some("EMAIL_API_KEY is not set"),
        webhook_skip: (notify.webhook_url.is_none() || notify.webhook_secret.is_none())
            .then_some("WEBHOOK_URL or WEBHOOK_SECRET is not set"),
    }
}

/// The cron's round: claims due rows and delivers them.
pub async fn deliver_due(env: Env, config: &'static Config, now: Now) {
    let lease = now.plus_seconds(LEASE_SECONDS).rfc3339();
    let claimed = match crate::store::Database::from_env(&env) {
        Ok(db) => notifications::claim_due(&db, &now.rfc3339(), &lease, BATCH).await,
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
    now: Now,
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
    now: Now,
    claimed: &[Notification],
) -> worker::Result<()> {
    let db = crate::store::Database::from_env(env)?;
    let now_text = now.rfc3339();
    let context = notifications::context(&db, claimed).await?;
    let mut outcomes = Vec::with_capacity(claimed.len());
    for n in claimed {
        let outcome = match send(config, now, n, &context).await {
            Ok(delivery) => delivery,
            Err(error) => {
                let attempts = u32::try_from(n.attempts).unwrap_or(u32::MAX);
                let retry_at = (attempts < config.notify.max_attempts).then(|| {
                    now.plus_seconds(backoff_seconds(config.notify.backoff_seconds, attempts))
                        .rfc3339()
                });
                Delivery::Failed { error, retry_at }
            }
        };
        outcomes.push((n.id, outcome));
    }
    notifications::record(&db, &outcomes, &now_text).await
}

/// One delivery; `Err` is a failure worth retrying.
async fn send(
    config: &Config,
    now: Now,
    n: &Notification,
    cx: &Context,
) -> Result<Delivery, String> {
    let ticket = n
        .ticket_id
        .and_then(|id| cx.tickets.iter().find(|t| t.id == id));
    let message = n.message_id.and_then(|id| {
        cx.messages
            .iter()
            .find(|m| m["id"].as_f64() == Some(id as f64))
    });
    if n.channel == "webhook" {
        let (Some(url), Some(secret)) = (&config.notify.webhook_url, &config.notify.webhook_secret)
        else {
            return Ok(Delivery::Skipped(
                "WEBHOOK_URL or WEBHOOK_SECRET is not set".into(),
            ));
        };
        let body = json!({
            "id": n.id,
            "type": n.kind,
            "created_at": n.created_at,
            "ticket": ticket.map(ticket_summary),
            "message": message.map(|m| json!({"body": m["body"], "author_type": m["author_type"]})),
        })
        .to_string();
        return post_webhook(config, url, secret, n.id, now, body).await;
    }
    let Some(key) = &config.notify.email_api_key else {
        return Ok(Delivery::Skipped("EMAIL_API_KEY is not set".into()));
    };
    // Rows from before link bases were recorded fall back to the configured base.
    let base_url = n
        .link_base
        .as_deref()
        .or(config.public_base_url.as_deref())
        .unwrap_or("http://localhost:8787");
    let Some(to) = n.recipient.as_deref() else {
        return Ok(Delivery::Skipped("no recipient".into()));
    };
    let email = match (Kind::parse(&n.kind), ticket, message) {
        (Some(Kind::TicketCreated), Some(t), _) => {
            ticket_created_email(to, &facts(config, base_url, t).await?)
        }
        (Some(Kind::StaffReply), Some(t), Some(m)) => staff_reply_email(
            to,
            &facts(config, base_url, t).await?,
            m["staff_name"].as_str().unwrap_or("Support"),
            m["body"].as_str().unwrap_or_default(),
        ),
        (Some(Kind::Lookup), _, _) => {
            let tickets = cx
                .by_email
                .iter()
                .find(|(email, _)| email == to)
                .map_or(&[][..], |(_, t)| t.as_slice());
            if tickets.is_empty() {
                return Ok(Delivery::Skipped("no tickets for this address".into()));
            }
            let mut all = Vec::with_capacity(tickets.len());
            for t in tickets {
                all.push(facts(config, base_url, t).await?);
            }
            lookup_email(to, &all)
        }
        _ => return Ok(Delivery::Skipped("the ticket or message is gone".into())),
    };
    let headers = Headers::new();
    let _ = headers.set("Authorization", &format!("Bearer {key}"));
    let body = email.resend_body(&config.notify.email_from).to_string();
    post_json(
        config,
        &config.notify.email_api_url,
        headers,
        body,
        "email API",
    )
    .await
}

fn ticket_summary(t: &Ticket) -> Value {
    json!({
        "id": t.id, "ticket_number": t.ticket_number, "subject": t.subject, "status": t.status,
        "priority": t.priority, "category": t.category, "customer_name": t.customer_name,
        "customer_email": t.customer_email, "created_at": t.created_at,
    })
}

/// What an email says about a ticket, with its status link.
async fn facts(config: &Config, base_url: &str, t: &Ticket) -> Result<TicketFacts, String> {
    let status_url = match &config.ticket_token_secret {
        Some(secret) => {
            let token = access::ticket_token(secret, t.id, &t.ticket_number);
            access::status_url(base_url, &t.ticket_number, &token)
        }
        None => "(status links are not configured)".to_owned(),
    };
    Ok(TicketFacts {
        number: t.ticket_number.clone(),
        subject: t.subject.clone(),
        status: t.status.clone(),
        customer_name: t.customer_name.clone().unwrap_or_default(),
        status_url,
    })
}

/// POSTs a JSON body; any 2xx is delivered, anything else a failure to retry.
async fn post_json(
    config: &Config,
    url: &str,
    headers: Headers,
    body: String,
    target: &str,
) -> Result<Delivery, String> {
    let _ = headers.set("Content-Type", "application/json");
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let request =
        Request::new_with_init(url, &init).map_err(|_| format!("the {target} URL is invalid"))?;
    let response = crate::outbound::send(request, config.notify.timeout_ms).await?;
    match response.status_code() {
        200..=299 => Ok(Delivery::Sent),
        status => Err(format!("{target} answered {status}")),
    }
}

/// POSTs the webhook, signed like Zendesk's and Chatwoot's: HMAC-SHA256 over
/// `<timestamp>.<body>`, with the timestamp and delivery id in headers.
async fn post_webhook(
    config: &Config,
    url: &str,
    secret: &str,
    id: i64,
    now: Now,
    body: String,
) -> Result<Delivery, String> {
    let timestamp = now.unix_seconds();
    let signature = crypto::hmac_sha256(
        secret.as_bytes(),
        webhook_signed_text(timestamp, &body).as_bytes(),
    );
    let headers = Headers::new();
    let _ = headers.set("X-Helpdesk-Delivery", &id.to_string());
    let _ = headers.set("X-Helpdesk-Timestamp", &timestamp.to_string());
    let _ = headers.set(
        "X-Helpdesk-Signature",
        &format!("sha256={}", hex(&signature)),
    );
    post_json(config, url, headers, body, "webhook").await
}
