//! Staff sessions: opaque bearer tokens whose SHA-256 is the KV key, and the
//! extractor every `/api/crm/*` route but login calls first.
//!
//! Per request: one KV read (the session) and one D1 query (the staff row, its
//! session epoch and whether this token was revoked), so deactivation, role changes,
//! password resets and logouts take effect at once, not when KV propagates.

use serde::{Deserialize, Serialize};
use worker::KvStore;

use crate::http::Request;

use crate::crypto;
use crate::domain::encoding::{base64url, hex};
use crate::domain::staff::Role;
use crate::error::ApiError;
use crate::http::Ctx;
use crate::store::{self, staff::StaffMember};

const TOKEN_BYTES: usize = 32;
/// base64url of 32 bytes, unpadded.
const TOKEN_CHARS: usize = 43;

/// What KV holds for a session (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub staff_id: i64,
    pub epoch: i64,
    pub created_at: String,
    pub expires_at: String,
}

/// An authenticated staff member and the session they used.
pub struct Session {
    pub staff: StaffMember,
    pub token_hash: String,
    pub expires_at: String,
}

impl Session {
    pub fn staff_id(&self) -> i64 {
        self.staff.id
    }
}

fn sessions(ctx: &Ctx) -> Result<KvStore, ApiError> {
    ctx.env.kv("SESSIONS").map_err(ApiError::from)
}

fn kv_key(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

pub fn token_hash(token: &str) -> String {
    hex(&crypto::sha256(token.as_bytes()))
}

/// Issues a new session: a random token for the client, its hash in KV.
pub async fn create_session(
    ctx: &Ctx,
    staff_id: i64,
    epoch: i64,
) -> Result<(String, String), ApiError> {
    let token = base64url(&crypto::random_bytes::<TOKEN_BYTES>()?);
    let ttl = ctx.config.session_ttl_seconds;
    let expires_at = ctx.now.plus_seconds(ttl).rfc3339();
    let record = SessionRecord {
        staff_id,
        epoch,
        created_at: ctx.now.rfc3339(),
        expires_at: expires_at.clone(),
    };
    sessions(ctx)?
        .put(
            &kv_key(&token_hash(&token)),
            serde_json::to_string(&record).unwrap_or_default(),
        )?
        .expiration_ttl(ttl)
        .execute()
        .await?;
    Ok((token, expires_at))
}

/// Ends a session: removed from KV and listed as revoked in D1 (which every
/// location sees at once).
pub async fn revoke_session(ctx: &Ctx, session: &Session) -> Result<(), ApiError> {
    store::staff::revoke_session(&ctx.db()?, &session.token_hash, &session.expires_at).await?;
    sessions(ctx)?.delete(&kv_key(&session.token_hash)).await?;
    Ok(())
}

fn unauthorized(message: &'static str) -> ApiError {
    ApiError::Unauthorized { message }
}

/// Reads `Authorization: Bearer <token>` and checks the session; `needs` is the
/// least role the route requires (admins may do everything agents may).
pub async fn require_staff(req: &Request, ctx: &Ctx, needs: Role) -> Result<Session, ApiError> {
    let header = req.header("Authorization");
    let token = header
        .as_deref()
        .ok_or_else(|| {
            unauthorized("Send Authorization: Bearer <token> from POST /api/crm/auth/login.")
        })
        .and_then(|h| {
            bearer_token(h)
                .ok_or_else(|| unauthorized("The Authorization header must be: Bearer <token>."))
        })?;
    let invalid = || unauthorized("The session is invalid or has expired; log in again.");

    let token_hash = token_hash(token);
    let record = sessions(ctx)?
        .get(&kv_key(&token_hash))
        .text()
        .await?
        .and_then(|text| serde_json::from_str::<SessionRecord>(&text).ok())
        .ok_or_else(invalid)?;
    // KV expiry is lazy and eventually consistent: the record's own deadline rules.
    if record.expires_at.as_str() <= ctx.now.rfc3339().as_str() {
        return Err(invalid());
    }
    let check = store::staff::session_check(&ctx.db()?, record.staff_id, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    if check.revoked || !check.staff.active || check.session_epoch != record.epoch {
        return Err(invalid());
    }
    if needs == Role::Admin && check.staff.role() != Role::Admin {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            message: "This route is for admins.",
        });
    }
    Ok(Session {
        staff: check.staff,
        token_hash,
        expires_at: record.expires_at,
    })
}

/// The token from `Bearer <token>`, if it has the shape this API issues.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    let well_formed = scheme.eq_ignore_ascii_case("bearer")
        && token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_must_look_like_ours() {
        let token = "a".repeat(43);
        assert_eq!(
            bearer_token(&format!("Bearer {token}")),
            Some(token.as_str())
        );
        assert_eq!(
            bearer_token(&format!("bearer   {token} ")),
            Some(token.as_str())
        );
        assert_eq!(bearer_token(&format!("Basic {token}")), None);
        assert_eq!(bearer_token("Bearer short"), None);
        assert_eq!(
            bearer_token(&format!("Bearer {}", "a".repeat(42) + "=")),
            None
        );
        assert_eq!(bearer_token(&token), None);
    }
}
