//! Notifications: what each kind says, and when a failed delivery is retried.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Retry `attempts` (>= 1) failed deliveries after `base * 2^(attempts - 1)` seconds,
/// capped at a day.
pub fn backoff_seconds(base: u64, attempts: u32) -> u64 {
    let factor = 1u64 << attempts.saturating_sub(1).min(20);
    base.saturating_mul(factor).min(86_400)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// To the customer: the ticket number and the status link.
    TicketCreated,
    /// To the team (webhook): a new ticket.
    NewTicket,
    /// To the customer: a staff reply.
    StaffReply,
    /// To the team (webhook): a customer reply.
    CustomerReply,
    /// To the customer: fresh links to their tickets ("I lost my link").
    Lookup,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TicketCreated => "ticket_created",
            Kind::NewTicket => "new_ticket",
            Kind::StaffReply => "staff_reply",
            Kind::CustomerReply => "customer_reply",
            Kind::Lookup => "lookup",
        }
    }

    /// Where this kind goes: customers get emails, the team a webhook.
    pub fn channel(self) -> Channel {
        match self {
            Kind::TicketCreated | Kind::StaffReply | Kind::Lookup => Channel::Email,
            Kind::NewTicket | Kind::CustomerReply => Channel::Webhook,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// Where an outbox row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Due at `next_attempt_at` (or leased by a deliverer until then).
    Pending,
    Sent,
    /// Gave up after the last attempt; staff may retry it.
    Failed,
    /// Its target is not configured (or nothing was left to send).
    Skipped,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// An email, ready for a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Email {
    /// Resend's request body (`POST https://api.resend.com/emails`); MailChannels-style
    /// providers take the same fields under other names.
    pub fn resend_body(&self, from: &str) -> Value {
        json!({"from": from, "to": [self.to], "subject": self.subject, "text": self.text})
    }
}

/// What an email about one ticket needs.
pub struct TicketFacts {
    pub number: String,
    pub status: &'static str,
    pub subject: String,
    pub customer_name: String,
    /// Whether the requester proved the address is theirs. Until then an email carries
    /// nothing they wrote: anyone can type any address into the form, and the service
    /// must not relay their text (a phishing subject, a fake name) from our domain.
    pub requester_verified: bool,
    /// The customer's status link; `None` without `PUBLIC_BASE_URL` (a link built
    /// from the request's Host could point anywhere).
    pub status_url: Option<String>,
}

impl TicketFacts {
    /// What the requester wrote that an email may carry: nothing until they proved
    /// the address (see `requester_verified`).
    fn requester_text(&self) -> Option<(&str, &str)> {
        self.requester_verified
            .then_some((self.subject.as_str(), self.customer_name.as_str()))
    }

    fn greeting(&self) -> String {
        match self.requester_text() {
            Some((_, name)) if !name.is_empty() => format!("Hello {name},"),
            _ => "Hello,".to_owned(),
        }
    }

    fn link(&self, what: &str) -> String {
        match &self.status_url {
            Some(url) => format!("{what} (keep this link private):\n{url}\n"),
            None => format!("Keep the ticket number {} for reference.\n", self.number),
        }
    }
}

pub fn ticket_created_email(to: &str, t: &TicketFacts) -> Email {
    let (subject, request) = match t.requester_text() {
        Some((subject, _)) => (
            format!("[{}] We received your request: {subject}", t.number),
            format!("\nYour request: {subject}\n"),
        ),
        None => (
            format!("[{}] We received your support request", t.number),
            "\nIf you did not contact us, you can ignore this email.\n".to_owned(),
        ),
    };
    Email {
        to: to.to_owned(),
        subject,
        text: format!(
            "{}\n\nThank you for contacting support. Your ticket number is {}.\n\n{}{request}",
            t.greeting(),
            t.number,
            t.link("Follow your ticket and reply to us here"),
        ),
    }
}

/// The body and the staff member's name are the team's words; the subject is the
/// requester's, so it is left out until they proved the address (as in every email).
pub fn staff_reply_email(to: &str, t: &TicketFacts, staff_name: &str, body: &str) -> Email {
    let subject = match t.requester_text() {
        Some((subject, _)) => format!("[{}] New reply to your request: {subject}", t.number),
        None => format!("[{}] New reply to your support request", t.number),
    };
    Email {
        to: to.to_owned(),
        subject,
        text: format!(
            "{}\n\n{staff_name} replied to your ticket {}:\n\n{body}\n\n{}",
            t.greeting(),
            t.number,
            t.link("Read the conversation and answer here")
        ),
    }
}

pub fn lookup_email(to: &str, tickets: &[TicketFacts]) -> Email {
    let list: String = tickets
        .iter()
        .map(|t| {
            let subject = t
                .requester_text()
                .map_or(String::new(), |(subject, _)| format!(": {subject}"));
            let url = t
                .status_url
                .as_deref()
                .unwrap_or("(no link: ask us by email)");
            format!("- {} ({}){subject}\n  {url}\n", t.number, t.status)
        })
        .collect();
    Email {
        to: to.to_owned(),
        subject: "Your support tickets".to_owned(),
        text: format!(
            "Hello,\n\nSomeone (hopefully you) asked for the links to the support tickets of this \
             address. Keep them private:\n\n{list}\nIf you did not ask, you can ignore this email.\n"
        ),
    }
}

/// The text a webhook signature covers: `<timestamp>.<body>`, as Zendesk and
/// Chatwoot sign theirs, so a receiver can refuse replays of old deliveries.
pub fn webhook_signed_text(timestamp: i64, body: &str) -> String {
    format!("{timestamp}.{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_seconds(60, 1), 60);
        assert_eq!(backoff_seconds(60, 2), 120);
        assert_eq!(backoff_seconds(60, 5), 960);
        assert_eq!(backoff_seconds(60, 40), 86_400);
    }

    #[test]
    fn emails_carry_number_and_link() {
        let url = "https://help.example/t/TKT-2026-0008?token=abc";
        let facts = TicketFacts {
            number: "TKT-2026-0008".into(),
            subject: "Machine stopped".into(),
            status: "open",
            customer_name: "John".into(),
            requester_verified: true,
            status_url: Some(url.into()),
        };
        let e = ticket_created_email("john@example.com", &facts);
        assert_eq!(
            e.subject,
            "[TKT-2026-0008] We received your request: Machine stopped"
        );
        assert!(e.text.contains("TKT-2026-0008") && e.text.contains(url));
        assert!(e.text.starts_with("Hello John,"));
        let body = e.resend_body("Support <support@example.com>");
        assert_eq!(body["to"][0], "john@example.com");
        let lookup = lookup_email("john@example.com", &[facts]);
        assert!(lookup
            .text
            .contains("- TKT-2026-0008 (open): Machine stopped"));
        assert_eq!(Kind::StaffReply.channel(), Channel::Email);
    }

    #[test]
    fn an_unproven_address_gets_no_requester_text() {
        let facts = TicketFacts {
            number: "TKT-2026-0009".into(),
            subject: "Verify your account at evil.example".into(),
            status: "open",
            customer_name: "Bank Security".into(),
            requester_verified: false,
            status_url: None,
        };
        for e in [
            ticket_created_email("v@example.com", &facts),
            staff_reply_email("v@example.com", &facts, "Ana", "We fixed it."),
            lookup_email("v@example.com", &[facts]),
        ] {
            let all = format!("{}\n{}", e.subject, e.text);
            assert!(
                !all.contains("evil.example") && !all.contains("Bank"),
                "{all}"
            );
            assert!(!all.contains("http"), "no link without a base: {all}");
        }
        assert_eq!(
            DeliveryStatus::parse("failed"),
            Some(DeliveryStatus::Failed)
        );
    }

    #[test]
    fn signature_text() {
        assert_eq!(webhook_signed_text(1700000000, "{}"), "1700000000.{}");
    }
}
