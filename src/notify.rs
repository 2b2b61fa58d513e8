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
    Email, TicketFacts,
};
use crate::store::notifications::{self, Context, Delivery, Notification};
use crate::store::tickets::Ticket;

/// How many due rows one round delivers.
const BATCH: u32 = 25;
/// How long a claimed row is left alone before another deliverer may take it.
const LEASE_SECONDS: u64 = 120;

/// Delivers due notifications (`ids`: only these), logging rather than failing.
pub async fn deliver(env: Env, config: Config, now: Now, base_url: String, ids: Option<Vec<i64>>) {
    if let Err(e) = deliver_round(&env, &config, now, &base_url, ids.as_deref()).await {
        console_error!("notification delivery failed: {e}");
    }
}

async fn deliver_round(
    env: &Env,
    config: &Config,
    now: Now,
    base_url: &str,
    ids: Option<&[i64]>,
) -> worker::Result<usize> {
    if ids.is_some_and(|ids| ids.is_empty()) {
        return Ok(0);
    }
    let db = env.d1("DB")?;
    let now_text = now.rfc3339();
    let lease = now.plus_seconds(LEASE_SECONDS).rfc3339();
    let claimed = notifications::claim(&db, ids, &now_text, &lease, BATCH).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let context = notifications::context(&db, &claimed).await?;
    let mut outcomes = Vec::with_capacity(claimed.len());
    for n in &claimed {
        let outcome = match send(config, now, base_url, n, &context).await {
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
    notifications::record(&db, &outcomes, &now_text).await?;
    Ok(outcomes.len())
}

/// One delivery; `Err` is a failure worth retrying.
async fn send(
    config: &Config,
    now: Now,
    base_url: &str,
    n: &Notification,
    cx: &Context,
) -> Result<Delivery, String> {
    let ticket = n
        .ticket_id
        .and_then(|id| cx.tickets.iter().find(|t| t.id == id));
    match n.channel.as_str() {
        "webhook" => {
            let (Some(url), Some(secret)) =
                (&config.notify.webhook_url, &config.notify.webhook_secret)
            else {
                return Ok(Delivery::Skipped(
                    "WEBHOOK_URL or WEBHOOK_SECRET is not set".into(),
                ));
            };
            let message = n.message_id.and_then(|id| {
                cx.messages
                    .iter()
                    .find(|m| m["id"].as_f64() == Some(id as f64))
            });
            let body = json!({
                "id": n.id,
                "type": n.kind,
                "created_at": n.created_at,
                "ticket": ticket.map(ticket_summary),
                "message": message.map(|m| json!({"body": m["body"], "author_type": m["author_type"]})),
            })
            .to_string();
            post_webhook(config, url, secret, n.id, now, &body).await
        }
        _ => {
            let Some(key) = &config.notify.email_api_key else {
                return Ok(Delivery::Skipped("EMAIL_API_KEY is not set".into()));
            };
            let Some(email) = compose_email(config, base_url, n, ticket, cx).await? else {
                return Ok(Delivery::Skipped("nothing to send".into()));
            };
            post_email(config, key, &email).await
        }
    }
}

fn ticket_summary(t: &Ticket) -> Value {
    json!({
        "id": t.id, "ticket_number": t.ticket_number, "subject": t.subject, "status": t.status,
        "priority": t.priority, "category": t.category, "customer_name": t.customer_name,
        "customer_email": t.customer_email, "created_at": t.created_at,
    })
}

async fn link(config: &Config, base_url: &str, t: &Ticket) -> Result<String, String> {
    match &config.ticket_token_secret {
        Some(secret) => access::ticket_token(secret, t.id, &t.ticket_number)
            .await
            .map(|token| access::status_url(base_url, &t.ticket_number, &token))
            .map_err(|_| "could not derive the status link".to_owned()),
        None => Ok("(status links are not configured)".to_owned()),
    }
}

async fn compose_email(
    config: &Config,
    base_url: &str,
    n: &Notification,
    ticket: Option<&Ticket>,
    cx: &Context,
) -> Result<Option<Email>, String> {
    let Some(to) = n.recipient.as_deref() else {
        return Ok(None);
    };
    let facts = |t: &'_ Ticket, url: String| {
        (
            t.ticket_number.clone(),
            t.subject.clone(),
            t.status.clone(),
            t.customer_name.clone().unwrap_or_default(),
            url,
        )
    };
    match (n.kind.as_str(), ticket) {
        ("ticket_created", Some(t)) => {
            let (number, subject, status, name, url) = facts(t, link(config, base_url, t).await?);
            Ok(Some(ticket_created_email(
                to,
                &TicketFacts {
                    number: &number,
                    subject: &subject,
                    status: &status,
                    customer_name: &name,
                    status_url: &url,
                },
            )))
        }
        ("staff_reply", Some(t)) => {
            let message = n.message_id.and_then(|id| {
                cx.messages
                    .iter()
                    .find(|m| m["id"].as_f64() == Some(id as f64))
            });
            let Some(message) = message else {
                return Ok(None);
            };
            let (number, subject, status, name, url) = facts(t, link(config, base_url, t).await?);
            Ok(Some(staff_reply_email(
                to,
                &TicketFacts {
                    number: &number,
                    subject: &subject,
                    status: &status,
                    customer_name: &name,
                    status_url: &url,
                },
                message["staff_name"].as_str().unwrap_or("Support"),
                message["body"].as_str().unwrap_or_default(),
            )))
        }
        ("lookup", _) => {
            let tickets = cx
                .by_email
                .iter()
                .find(|(email, _)| email == to)
                .map(|(_, t)| t.as_slice())
                .unwrap_or_default();
            if tickets.is_empty() {
                return Ok(None);
            }
            let mut rows = Vec::with_capacity(tickets.len());
            for t in tickets {
                rows.push(facts(t, link(config, base_url, t).await?));
            }
            let facts: Vec<TicketFacts> = rows
                .iter()
                .map(|(number, subject, status, name, url)| TicketFacts {
                    number,
                    subject,
                    status,
                    customer_name: name,
                    status_url: url,
                })
                .collect();
            Ok(Some(lookup_email(to, &facts)))
        }
        _ => Ok(None),
    }
}

fn json_post(url: &str, headers: Headers, body: String) -> Result<Request, String> {
    let _ = headers.set("Content-Type", "application/json");
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    Request::new_with_init(url, &init).map_err(|_| "the target URL is invalid".to_owned())
}

async fn post_email(config: &Config, key: &str, email: &Email) -> Result<Delivery, String> {
    let headers = Headers::new();
    let _ = headers.set("Authorization", &format!("Bearer {key}"));
    let request = json_post(
        &config.notify.email_api_url,
        headers,
        email.resend_body(&config.notify.email_from).to_string(),
    )?;
    let response = crate::outbound::send(request, config.notify.timeout_ms).await?;
    match response.status_code() {
        200..=299 => Ok(Delivery::Sent),
        status => Err(format!("email API answered {status}")),
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
    body: &str,
) -> Result<Delivery, String> {
    let timestamp = now.unix_seconds();
    let signature = crypto::hmac_sha256(
        secret.as_bytes(),
        webhook_signed_text(timestamp, body).as_bytes(),
    )
    .await
    .map_err(|_| "could not sign the webhook".to_owned())?;
    let headers = Headers::new();
    let _ = headers.set("X-Helpdesk-Delivery", &id.to_string());
    let _ = headers.set("X-Helpdesk-Timestamp", &timestamp.to_string());
    let _ = headers.set(
        "X-Helpdesk-Signature",
        &format!("sha256={}", hex(&signature)),
    );
    let request = json_post(url, headers, body.to_owned())?;
    let response = crate::outbound::send(request, config.notify.timeout_ms).await?;
    match response.status_code() {
        200..=299 => Ok(Delivery::Sent),
        status => Err(format!("webhook answered {status}")),
    }
}
