//! Customers' private status links. The token is derived (HMAC-SHA256 of the ticket's
//! id and number under `TICKET_TOKEN_SECRET`), never stored: a replayed create or a
//! "lost my link" email can give the same link again, and old links keep working.

use crate::crypto;
use crate::domain::encoding::{base64url, constant_time_eq};
use crate::http::Ctx;

/// 192 bits of the MAC: unguessable, and short enough for a URL.
const TOKEN_BYTES: usize = 24;

pub fn ticket_token(secret: &str, id: i64, number: &str) -> String {
    let mac = crypto::hmac_sha256(
        secret.as_bytes(),
        format!("ticket-access:{id}:{number}").as_bytes(),
    );
    base64url(&mac[..TOKEN_BYTES])
}

/// Whether `presented` is the token of this ticket (constant-time).
pub fn verify(secret: &str, id: i64, number: &str, presented: &str) -> bool {
    let expected = ticket_token(secret, id, number);
    constant_time_eq(expected.as_bytes(), presented.as_bytes())
}

pub fn status_url(base: &str, number: &str, token: &str) -> String {
    format!("{base}/t/{number}?token={token}")
}

/// The base of status links: `PUBLIC_BASE_URL`, else the origin this request came to.
pub fn base_url(ctx: &Ctx) -> String {
    ctx.config
        .public_base_url
        .clone()
        .unwrap_or_else(|| ctx.request_origin.clone())
}

/// `access_token` and `status_url` for a create's answer, when links are configured.
pub fn link_fields(ctx: &Ctx, id: i64, number: &str) -> Option<(String, String)> {
    let secret = ctx.config.ticket_token_secret.as_ref()?;
    let token = ticket_token(secret, id, number);
    let url = status_url(&base_url(ctx), number, &token);
    Some((token, url))
}
