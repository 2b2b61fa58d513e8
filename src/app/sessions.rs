//! Staff sessions: opaque bearer tokens whose SHA-256 is the KV key. The route
//! table's `dispatch` authenticates every staff route through `authenticate` before
//! its handler runs.
//!
//! Per request: one KV read (the session) and one D1 query (the staff row, its
//! session epoch and whether this token was revoked), so deactivation, role changes,
//! password resets and logouts take effect at once, not when KV propagates.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::domain::encoding::{base64url, hex};
use crate::domain::hash::sha256;
use crate::domain::staff::Role;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::headers::bearer;
use crate::platform::kv::Kv;
use crate::platform::webcrypto::random_bytes;
use crate::store::rows::StaffMember;
use crate::store::staff;

const TOKEN_BYTES: usize = 32;
/// base64url of 32 bytes, unpadded.
const TOKEN_CHARS: usize = 43;

/// What KV holds for a session (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    staff_id: i64,
    epoch: i64,
    created_at: Timestamp,
    expires_at: Timestamp,
}

/// An authenticated staff member and the session they used.
pub struct Session {
    pub staff: StaffMember,
    token_hash: String,
    pub expires_at: Timestamp,
}

impl Session {
    pub fn staff_id(&self) -> i64 {
        self.staff.id
    }
}

fn sessions(ctx: &Ctx) -> Result<Kv, ApiError> {
    Kv::from_env(&ctx.env, "SESSIONS", ctx.kv_trips.clone()).map_err(ApiError::from)
}

fn kv_key(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

fn token_hash(token: &str) -> String {
    hex(&sha256(token.as_bytes()))
}

/// Issues a new session: a random token for the client, its hash in KV.
pub async fn create_session(
    ctx: &Ctx,
    staff_id: i64,
    epoch: i64,
) -> Result<(String, Timestamp), ApiError> {
    let token = base64url(&random_bytes::<TOKEN_BYTES>()?);
    let ttl = ctx.config.session_ttl_seconds;
    let expires_at = ctx.now.plus_seconds(ttl);
    let record = SessionRecord {
        staff_id,
        epoch,
        created_at: ctx.now,
        expires_at,
    };
    sessions(ctx)?
        .put(
            &kv_key(&token_hash(&token)),
            &serde_json::to_string(&record).unwrap_or_default(),
            ttl,
        )
        .await?;
    Ok((token, expires_at))
}

/// Ends a session: removed from KV and listed as revoked in D1 (which every
/// location sees at once).
pub async fn revoke_session(ctx: &Ctx, session: &Session) -> Result<(), ApiError> {
    staff::revoke_session(&ctx.db()?, &session.token_hash, session.expires_at).await?;
    sessions(ctx)?.delete(&kv_key(&session.token_hash)).await?;
    Ok(())
}

fn unauthorized(message: &'static str) -> ApiError {
    ApiError::Unauthorized { message }
}

/// Checks the `Authorization` header's session; `needs` is the least role the route
/// requires (admins may do everything agents may).
pub async fn authenticate(
    authorization: Option<&str>,
    ctx: &Ctx,
    needs: Role,
) -> Result<Session, ApiError> {
    let token = authorization
        .ok_or_else(|| {
            unauthorized("Send Authorization: Bearer <token> from POST /api/crm/auth/login.")
        })
        .and_then(|h| {
            bearer(h)
                .filter(|t| looks_like_a_session_token(t))
                .ok_or_else(|| unauthorized("The Authorization header must be: Bearer <token>."))
        })?;
    let invalid = || unauthorized("The session is invalid or has expired; log in again.");

    let token_hash = token_hash(token);
    let record = sessions(ctx)?
        .get(&kv_key(&token_hash))
        .await?
        .and_then(|text| serde_json::from_slice::<SessionRecord>(text.as_bytes()).ok())
        .ok_or_else(invalid)?;
    // KV expiry is lazy and eventually consistent: the record's own deadline rules.
    if record.expires_at <= ctx.now {
        return Err(invalid());
    }
    let check = staff::session_check(&ctx.db()?, record.staff_id, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    if check.revoked || !check.staff.active || check.session_epoch != record.epoch {
        return Err(invalid());
    }
    if needs == Role::Admin && check.staff.role != Role::Admin {
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

/// Whether a bearer credential has the shape of the tokens this API issues.
fn looks_like_a_session_token(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_must_look_like_ours() {
        assert!(looks_like_a_session_token(&"a".repeat(43)));
        assert!(!looks_like_a_session_token("short"));
        assert!(!looks_like_a_session_token(&("a".repeat(42) + "=")));
    }
}
