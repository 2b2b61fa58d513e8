//! Customers' private status links. The token is derived (HMAC-SHA256 of the ticket's
//! id and number under `TICKET_TOKEN_SECRET`), never stored: a replayed create or a
//! "lost my link" email can give the same link again, and old links keep working.

use crate::crypto;
use crate::domain::encoding::{base64url, constant_time_eq};
use crate::error::ApiError;
use crate::http::Ctx;

/// 192 bits of the MAC: unguessable, and short enough for a URL.
const TOKEN_BYTES: usize = 24;

pub async fn ticket_token(secret: &str, id: i64, number: &str) -> Result<String, ApiError> {
    let mac = crypto::hmac_sha256(
        secret.as_bytes(),
        format!("ticket-access:{id}:{number}").as_bytes(),
    )
    .await?;
    Ok(base64url(&mac[..TOKEN_BYTES]))
}

/// Whether `presented` is the token of this ticket (constant-time).
pub async fn verify(
    secret: &str,
    id: i64,
    number: &str,
    presented: &str,
) -> Result<bool, ApiError> {
    let expected = ticket_token(secret, id, number).await?;
    Ok(constant_time_eq(expected.as_bytes(), presented.as_bytes()))
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
pub async fn link_fields(
    ctx: &Ctx,
    id: i64,
    number: &str,
) -> Result<Option<(String, String)>, ApiError> {
    let Some(secret) = &ctx.config.ticket_token_secret else {
        return Ok(None);
    };
    let token = ticket_token(secret, id, number).await?;
    let url = status_url(&base_url(ctx), number, &token);
    Ok(Some((token, url)))
}
