//! Integration keys: only their SHA-256 is stored.

use super::guard::{Guard, Guarded};
use super::rows::{ApiKey, API_KEY_COLUMNS};
use super::{int, text, time, Database};
use crate::domain::time::Timestamp;

/// Authenticates a key and records its use, in one statement. `None`: unknown or revoked.
pub async fn use_key(
    db: &Database,
    key_hash: &str,
    now: Timestamp,
) -> worker::Result<Option<ApiKey>> {
    let sql = format!(
        "UPDATE api_keys SET last_used_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL
         RETURNING {API_KEY_COLUMNS}"
    );
    db.prepare(&sql, &[text(key_hash), time(now)])?
        .first()
        .await
}

pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub key_hash: &'a str,
    pub key_prefix: &'a str,
    pub rate_limit: u32,
    pub created_by: i64,
    pub now: Timestamp,
}

pub async fn create(db: &Database, k: &NewApiKey<'_>) -> worker::Result<Option<ApiKey>> {
    db.prepare(
        &format!(
            "INSERT INTO api_keys (name, key_hash, key_prefix, rate_limit, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {API_KEY_COLUMNS}"
        ),
        &[
            text(k.name),
            text(k.key_hash),
            text(k.key_prefix),
            int(Some(k.rate_limit.into())),
            int(Some(k.created_by)),
            time(k.now),
        ],
    )?
    .first()
    .await
}

pub async fn list(db: &Database, guard: &Guard<'_>) -> worker::Result<Guarded<Vec<ApiKey>>> {
    let mut params = Vec::new();
    let sql = format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE {} ORDER BY id",
        guard.condition(&mut params)
    );
    let list = db.prepare(&sql, &params)?;
    guard.run(db, vec![list]).await?.read(|r| r[0].rows())
}

/// Revokes a key (idempotent: a revoked key keeps its first revocation time).
pub async fn revoke(db: &Database, id: i64, now: Timestamp) -> worker::Result<Option<ApiKey>> {
    let sql = format!(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1 RETURNING {API_KEY_COLUMNS}"
    );
    db.prepare(&sql, &[int(Some(id)), time(now)])?.first().await
}
