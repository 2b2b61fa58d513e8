//! Staff sessions: opaque bearer tokens whose SHA-256 is the KV key. The route
//! table's `dispatch` authenticates every staff route before its handler runs, or,
//! for routes whose handler checks the session in its own batch, before its answer
//! leaves (`Claim`).
//!
//! Per request: one KV read (the session) and one D1 read of the staff row, its
//! session epoch and whether this token was revoked, so deactivation, role changes,
//! password resets and logouts take effect at once, not when KV propagates. That read
//! is a round trip of its own (`check_alone`), or the first statement of the route's
//! batch, whose other statements are guarded by the same condition
//! (`store::guard::Guard`): 1 KV + 1 D1 round trip instead of 1 KV + 2.

use std::cell::Cell;

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
use crate::store::guard::{Guard, Guarded};
use crate::store::rows::{SessionCheck, StaffMember};
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
    epoch: i64,
    pub expires_at: Timestamp,
}

impl Session {
    pub fn staff_id(&self) -> i64 {
        self.staff.id
    }
}

/// A session its KV record vouches for (the token is known and not expired), not yet
/// checked against D1: the route's own batch reads the check first (`guard`), and the
/// handler judges it (`confirm`) before it uses anything the batch read. `dispatch`
/// checks a claim nobody confirmed (an answer given before the batch, such as a 400)
/// on its own before that answer leaves, so a bad session always gets its 401/403.
pub struct Claim {
    record: SessionRecord,
    token_hash: String,
    needs: Role,
    confirmed: Cell<bool>,
}

impl Claim {
    /// The staff member the record names (not yet checked: only for guarded statements).
    pub fn staff_id(&self) -> i64 {
        self.record.staff_id
    }

    /// Whether `confirm` judged a check (whatever its verdict).
    pub fn confirmed(&self) -> bool {
        self.confirmed.get()
    }

    /// Judges the claim by its check's row, and remembers that it was.
    fn judge(&self, check: Option<SessionCheck>) -> Result<StaffMember, ApiError> {
        self.confirmed.set(true);
        judge(check, self.record.epoch, self.needs)
    }
}

/// The staff member a CRM operation runs for, however the session was checked.
#[derive(Clone, Copy)]
pub enum Staff<'a> {
    /// Checked on its own before the operation (the MCP endpoint, the routes that write).
    Checked(&'a Session),
    /// To be checked by the operation's batch.
    Claimed(&'a Claim),
}

impl Staff<'_> {
    /// The staff member's id (for a claim, as its record says: see `Claim::staff_id`).
    pub fn staff_id(&self) -> i64 {
        match self {
            Staff::Checked(session) => session.staff_id(),
            Staff::Claimed(claim) => claim.staff_id(),
        }
    }

    /// The condition the operation's statements carry.
    pub fn guard(&self) -> Guard<'_> {
        match self {
            Staff::Checked(session) => Guard {
                staff_id: session.staff_id(),
                epoch: session.epoch,
                token_hash: &session.token_hash,
                // Its role was judged when it was checked.
                admin_only: false,
            },
            Staff::Claimed(claim) => Guard {
                staff_id: claim.record.staff_id,
                epoch: claim.record.epoch,
                token_hash: &claim.token_hash,
                admin_only: claim.needs == Role::Admin,
            },
        }
    }

    /// What a guarded batch read, once its check is judged (`confirm`).
    pub fn open<T>(&self, guarded: Guarded<T>) -> Result<T, ApiError> {
        self.confirm(guarded.check)?;
        Ok(guarded.value)
    }

    /// Judges the check the operation's batch read first: the session's 401/403 when
    /// it no longer holds (then the batch's other statements read and wrote nothing).
    pub fn confirm(&self, check: Option<SessionCheck>) -> Result<(), ApiError> {
        match self {
            Staff::Checked(session) => judge(check, session.epoch, Role::Agent).map(drop),
            Staff::Claimed(claim) => claim.judge(check).map(drop),
        }
    }
}

/// The KV binding staff sessions live in (`SESSIONS`); health reports it missing.
pub fn sessions(ctx: &Ctx) -> Result<Kv, ApiError> {
    Kv::from_env(&ctx.env, SESSIONS_BINDING, ctx.kv_trips.clone()).map_err(ApiError::from)
}

/// The binding's name in wrangler.toml.
pub const SESSIONS_BINDING: &str = "SESSIONS";

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

/// Ends a session, if it holds (else its 401): listed as revoked in D1 (which every
/// location sees at once), in the batch that checks it, then removed from KV.
pub async fn revoke_session(ctx: &Ctx, claim: &Claim) -> Result<(), ApiError> {
    let staff = Staff::Claimed(claim);
    let db = ctx.db()?;
    let revoked = staff::revoke_session(&db, &staff.guard(), claim.record.expires_at).await?;
    staff.open(revoked)?;
    sessions(ctx)?.delete(&kv_key(&claim.token_hash)).await?;
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
    check_alone(&claim(authorization, ctx, needs).await?, ctx).await
}

/// The KV half of `authenticate`: the token's record, unexpired (else 401).
pub async fn claim(authorization: Option<&str>, ctx: &Ctx, needs: Role) -> Result<Claim, ApiError> {
    let token = authorization
        .ok_or_else(|| {
            unauthorized("Send Authorization: Bearer <token> from POST /api/crm/auth/login.")
        })
        .and_then(|h| {
            bearer(h)
                .filter(|t| looks_like_a_session_token(t))
                .ok_or_else(|| unauthorized("The Authorization header must be: Bearer <token>."))
        })?;
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
    Ok(Claim {
        record,
        token_hash,
        needs,
        confirmed: Cell::new(false),
    })
}

/// The D1 half of `authenticate`, in a round trip of its own.
pub async fn check_alone(claim: &Claim, ctx: &Ctx) -> Result<Session, ApiError> {
    let check = staff::session_check(&ctx.db()?, claim.record.staff_id, &claim.token_hash).await?;
    confirmed_session(claim, check)
}

/// Turns a claim confirmed by its check into the session.
fn confirmed_session(claim: &Claim, check: Option<SessionCheck>) -> Result<Session, ApiError> {
    let staff = claim.judge(check)?;
    Ok(Session {
        staff,
        token_hash: claim.token_hash.clone(),
        epoch: claim.record.epoch,
        expires_at: claim.record.expires_at,
    })
}

fn invalid() -> ApiError {
    unauthorized("The session is invalid or has expired; log in again.")
}

/// The verdict on a session's check row: the staff member, or 401 (gone, deactivated,
/// revoked, or the epoch moved on: a role change or password reset), or 403 (an agent
/// on an admin route).
fn judge(check: Option<SessionCheck>, epoch: i64, needs: Role) -> Result<StaffMember, ApiError> {
    let check = check.ok_or_else(invalid)?;
    if check.revoked || !check.staff.active || check.session_epoch != epoch {
        return Err(invalid());
    }
    if needs == Role::Admin && check.staff.role != Role::Admin {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            message: "This route is for admins.",
        });
    }
    Ok(check.staff)
}

/// Whether a bearer credential has the shape of the session tokens this API issues
/// (43 base64url characters; an integration key is longer, `hk_` and 43 more).
pub fn looks_like_a_session_token(token: &str) -> bool {
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
        // A session token may begin like an integration key; a key is longer.
        assert!(looks_like_a_session_token(
            &("hk_".to_owned() + &"a".repeat(40))
        ));
        assert!(!looks_like_a_session_token(
            &("hk_".to_owned() + &"a".repeat(43))
        ));
    }
}
