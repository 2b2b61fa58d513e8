//! Emails to customers, through an HTTP email API in Resend's request format.

use worker::Headers;

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
    // Rows from before link bases were recorded fall back to the configured base.
    let base_url = n
        .link_base
        .as_deref()
        .or(config.public_base_url.as_deref())
        .unwrap_or("http://localhost:8787");
    let Some(to) = n.recipient.as_deref() else {
        return Ok(Delivery::Skipped("no recipient".into()));
    };
    let ticket = facts.ticket(n.ticket_id);
    let email = match (n.kind, ticket, facts.message(n.message_id)) {
        (Kind::TicketCreated, Some(t), _) => {
            ticket_created_email(to, &ticket_facts(config, base_url, t))
        }
        (Kind::StaffReply, Some(t), Some(m)) => staff_reply_email(
            to,
            &ticket_facts(config, base_url, t),
            m.staff_name.as_deref().unwrap_or("Support"),
            &m.body,
        ),
        (Kind::Lookup, _, _) => {
            let tickets = facts.tickets_of(to);
            if tickets.is_empty() {
                return Ok(Delivery::Skipped("no tickets for this address".into()));
            }
            let all: Vec<TicketFacts> = tickets
                .iter()
                .map(|t| ticket_facts(config, base_url, t))
                .collect();
            lookup_email(to, &all)
        }
        _ => return Ok(Delivery::Skipped("the ticket or message is gone".into())),
    };
    let headers = Headers::new();
    let _ = headers.set("Authorization", &format!("Bearer {api_key}"));
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

/// What an email says about a ticket, with its status link.
fn ticket_facts(config: &Config, base_url: &str, t: &Ticket) -> TicketFacts {
    let status_url = match &config.ticket_token_secret {
        Some(secret) => {
            let token = status_link::token(secret, t.id, &t.ticket_number);
            status_link::url(base_url, &t.ticket_number, &token)
        }
        None => "(status links are not configured)".to_owned(),
    };
    TicketFacts {
        number: t.ticket_number.to_string(),
        subject: t.subject.clone(),
        status: t.status.as_str(),
        customer_name: t.customer_name.clone().unwrap_or_default(),
        status_url,
    }
}
