//! Customers' private status links. A token is derived (HMAC-SHA256 of the ticket's id
//! and number under `TICKET_TOKEN_SECRET`), never stored: a replayed create or a
//! "lost my link" email can give the same link again, and old links keep working.
//!
//! A ticket has two tokens that open the same page: the one the create answers to its
//! caller, and the one in links that are emailed to the customer. Presenting the
//! emailed one proves control of the address (anyone can open a ticket in anyone's
//! name; only the address's owner reads its mail).

use super::encoding::{base64url, constant_time_eq};
use super::hash::hmac_sha256;
use super::ticket::TicketNumber;

/// 192 bits of the MAC: unguessable, and short enough for a URL.
const TOKEN_BYTES: usize = 24;

/// How a presented token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The token the create answered (or any copy of it).
    Answered,
    /// The token from an email sent to the ticket's address.
    Emailed,
}

fn mac(secret: &str, purpose: &str, id: i64, number: &TicketNumber) -> String {
    let mac = hmac_sha256(
        secret.as_bytes(),
        format!("{purpose}:{id}:{number}").as_bytes(),
    );
    base64url(&mac[..TOKEN_BYTES])
}

/// The token a create answers with.
pub fn token(secret: &str, id: i64, number: &TicketNumber) -> String {
    mac(secret, "ticket-access", id, number)
}

/// The token of links sent by email to the ticket's address.
pub fn email_token(secret: &str, id: i64, number: &TicketNumber) -> String {
    mac(secret, "ticket-email", id, number)
}

/// Which of this ticket's tokens `presented` is, if either (both compared, in
/// constant time).
pub fn check(secret: &str, id: i64, number: &TicketNumber, presented: &str) -> Option<Proof> {
    let answered = constant_time_eq(token(secret, id, number).as_bytes(), presented.as_bytes());
    let emailed = constant_time_eq(
        email_token(secret, id, number).as_bytes(),
        presented.as_bytes(),
    );
    match (answered, emailed) {
        (true, _) => Some(Proof::Answered),
        (_, true) => Some(Proof::Emailed),
        _ => None,
    }
}

/// The page a customer opens: `<base>/t/<number>?token=<token>`.
pub fn url(base: &str, number: &TicketNumber, token: &str) -> String {
    format!("{base}/t/{number}?token={token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_the_ticket_and_the_secret() {
        let number = TicketNumber::new(2026, 1);
        let t = token("secret", 1, &number);
        let e = email_token("secret", 1, &number);
        assert_eq!(t.len(), 32);
        assert_ne!(t, e);
        assert_eq!(check("secret", 1, &number, &t), Some(Proof::Answered));
        assert_eq!(check("secret", 1, &number, &e), Some(Proof::Emailed));
        assert_eq!(check("secret", 2, &number, &t), None);
        assert_eq!(check("other", 1, &number, &e), None);
        assert_eq!(check("secret", 1, &TicketNumber::new(2026, 2), &t), None);
        assert_eq!(check("secret", 1, &number, ""), None);
        assert_eq!(
            url("https://help.example", &number, "abc"),
            "https://help.example/t/TKT-2026-0001?token=abc"
        );
    }
}
