//! The team's webhook: a JSON summary of the ticket (and of the message, for replies),
//! signed like Zendesk's and Chatwoot's: HMAC-SHA256 over `<timestamp>.<body>`, with
//! the timestamp and delivery id in headers.

use serde::Serialize;

use super::post::post_json;
use crate::config::Config;
use crate::domain::encoding::hex;
use crate::domain::hash::hmac_sha256;
use crate::domain::notification::{webhook_signed_text, Kind};
use crate::domain::ticket::{MessageAuthor, Priority, Status, TicketNumber};
use crate::domain::time::Timestamp;
use crate::store::notifications::{Delivery, OutboxFacts};
use crate::store::rows::{MessageFacts, Notification, Ticket};

/// The payload: `{id, type, created_at, ticket, message}`.
#[derive(Serialize)]
struct Payload<'a> {
    created_at: Timestamp,
    id: i64,
    message: Option<MessageSummary<'a>>,
    ticket: Option<TicketSummary<'a>>,
    #[serde(rename = "type")]
    kind: Kind,
}

#[derive(Serialize)]
struct TicketSummary<'a> {
    category: &'a Option<String>,
    created_at: Timestamp,
    customer_email: &'a str,
    customer_name: &'a Option<String>,
    id: i64,
    priority: Priority,
    status: Status,
    subject: &'a str,
    ticket_number: &'a TicketNumber,
}

#[derive(Serialize)]
struct MessageSummary<'a> {
    author_type: MessageAuthor,
    body: &'a str,
}

impl<'a> From<&'a Ticket> for TicketSummary<'a> {
    fn from(t: &'a Ticket) -> Self {
        TicketSummary {
            category: &t.category,
            created_at: t.created_at,
            customer_email: &t.customer_email,
            customer_name: &t.customer_name,
            id: t.id,
            priority: t.priority,
            status: t.status,
            subject: &t.subject,
            ticket_number: &t.ticket_number,
        }
    }
}

impl<'a> From<&'a MessageFacts> for MessageSummary<'a> {
    fn from(m: &'a MessageFacts) -> Self {
        MessageSummary {
            author_type: m.author_type,
            body: &m.body,
        }
    }
}

pub(super) async fn send(
    config: &Config,
    url: &str,
    secret: &str,
    now: Timestamp,
    n: &Notification,
    facts: &OutboxFacts,
) -> Result<Delivery, String> {
    let body = serde_json::to_string(&Payload {
        created_at: n.created_at,
        id: n.id,
        message: facts.message(n.message_id).map(MessageSummary::from),
        ticket: facts.ticket(n.ticket_id).map(TicketSummary::from),
        kind: n.kind,
    })
    .map_err(|e| format!("webhook body: {e}"))?;
    let timestamp = now.unix_seconds();
    let signature = hmac_sha256(
        secret.as_bytes(),
        webhook_signed_text(timestamp, &body).as_bytes(),
    );
    let delivery = n.id.to_string();
    let timestamp = timestamp.to_string();
    let signature = format!("sha256={}", hex(&signature));
    let headers = [
        ("X-Helpdesk-Delivery", delivery.as_str()),
        ("X-Helpdesk-Timestamp", timestamp.as_str()),
        ("X-Helpdesk-Signature", signature.as_str()),
    ];
    post_json(config, url, &headers, body, "webhook").await
}
