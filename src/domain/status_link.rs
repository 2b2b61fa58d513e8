//! Customers' private status links. The token is derived (HMAC-SHA256 of the ticket's
//! id and number under `TICKET_TOKEN_SECRET`), never stored: a replayed create or a
//! "lost my link" email can give the same link again, and old links keep working.

use super::encoding::{base64url, constant_time_eq};
use super::hash::hmac_sha256;
use super::ticket::TicketNumber;

/// 192 bits of the MAC: unguessable, and short enough for a URL.
const TOKEN_BYTES: usize = 24;

pub fn token(secret: &str, id: i64, number: &TicketNumber) -> String {
    let mac = hmac_sha256(
        secret.as_bytes(),
        format!("ticket-access:{id}:{number}").as_bytes(),
    );
    base64url(&mac[..TOKEN_BYTES])
}

/// Whether `presented` is the token of this ticket (constant-time).
pub fn verify(secret: &str, id: i64, number: &TicketNumber, presented: &str) -> bool {
    let expected = token(secret, id, number);
    constant_time_eq(expected.as_bytes(), presented.as_bytes())
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
        assert_eq!(t.len(), 32);
        assert!(verify("secret", 1, &number, &t));
        assert!(!verify("secret", 2, &number, &t));
        assert!(!verify("other", 1, &number, &t));
        assert!(!verify("secret", 1, &TicketNumber::new(2026, 2), &t));
        assert!(!verify("secret", 1, &number, ""));
        assert_eq!(
            url("https://help.example", &number, "abc"),
            "https://help.example/t/TKT-2026-0001?token=abc"
        );
    }
}
