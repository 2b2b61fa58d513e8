//! Emails to customers, through an HTTP email API in Resend's request format.

use std::sync::atomic::{AtomicBool, Ordering};

use super::post::post_json;
use crate::config::Config;
use crate::domain::notification::{
    lookup_email, staff_reply_email, ticket_created_email, Kind, TicketFacts,
};
use crate::domain::status_link;
use crate::store::notifications::{Delivery, OutboxFacts};
use crate::store::rows::{Notification, Ticket};

pub(super) async fn send(
    config: &Config,
    api_key: &str,
    n: &Notification,
    facts: &OutboxFacts,
) -> Result<Delivery, String> {
    let Some(to) = n.recipient.as_deref() else {
        return Ok(Delivery::Skipped("no recipient".into()));
    };
    let ticket = facts.ticket(n.ticket_id);
    let email = match (n.kind, ticket, facts.message(n.message_id)) {
        (Kind::TicketCreated, Some(t), _) => ticket_created_email(to, &ticket_facts(config, t)),
        (Kind::StaffReply, Some(t), Some(m)) => staff_reply_email(
            to,
            &ticket_facts(config, t),
            m.staff_name.as_deref().unwrap_or("Support"),
            &m.body,
        ),
        (Kind::Lookup, _, _) => {
            let tickets = facts.tickets_of(to);
            if tickets.is_empty() {
                return Ok(Delivery::Skipped("no tickets for this address".into()));
            }
            let all: Vec<TicketFacts> = tickets.iter().map(|t| ticket_facts(config, t)).collect();
            lookup_email(to, &all)
        }
        _ => return Ok(Delivery::Skipped("the ticket or message is gone".into())),
    };
    let authorization = format!("Bearer {api_key}");
    // The provider sends a retried delivery once (Resend honours this header).
    let idempotency_key = format!("helpdesk-notification-{}", n.id);
    let headers = [
        ("Authorization", authorization.as_str()),
        ("Idempotency-Key", idempotency_key.as_str()),
    ];
    let body = email.resend_body(&config.notify.email_from).to_string();
    post_json(
        config,
        &config.notify.email_api_url,
        &headers,
        body,
        "email API",
    )
    .await
}

/// What an email says about a ticket. Its link carries the emailed token (opening it
/// proves the address is the requester's) and is built only from `PUBLIC_BASE_URL`:
/// never from the Host of the request that caused the email.
fn ticket_facts(config: &Config, t: &Ticket) -> TicketFacts {
    let status_url = match (&config.ticket_token_secret, &config.public_base_url) {
        (Some(secret), Some(base)) => {
            let token = status_link::email_token(secret, t.id, &t.ticket_number);
            Some(status_link::url(base, &t.ticket_number, &token))
        }
        (Some(_), None) => {
            warn_once_without_base();
            None
        }
        (None, _) => None,
    };
    TicketFacts {
        number: t.ticket_number.to_string(),
        status: t.status.as_str(),
        subject: t.subject.clone(),
        customer_name: t.customer_name.clone().unwrap_or_default(),
        requester_verified: t.requester_verified,
        status_url,
    }
}

/// One warning per isolate, not one per email.
fn warn_once_without_base() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        crate::platform::log::warn(&serde_json::json!({
            "event": "config",
            "problem": "PUBLIC_BASE_URL is not set: emails carry no status links. Set it to the public origin of this service (for example https://help.example.com).",
        }));
    }
}
