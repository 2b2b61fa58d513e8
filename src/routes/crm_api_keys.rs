//! Integration keys for trusted callers of the public API (admins only). A key is
//! shown once, at creation; only its SHA-256 is stored.

use crate::http::{Request, Response};
use serde_json::{json, Value};

use crate::auth;
use crate::crypto;
use crate::domain::encoding::{base64url, hex};
use crate::domain::fields::{required_text, TextRule};
use crate::domain::staff::Role;
use crate::domain::validation::{FieldError, ValidationError};
use crate::error::ApiError;
use crate::http::{read_json, success, Ctx};
use crate::store::api_keys::{self, NewApiKey};

const KEY_PREFIX: &str = "hk_";
const NAME: TextRule = TextRule {
    label: "Name",
    max_chars: 100,
    multiline: false,
};

/// `GET /api/crm/api-keys`
pub async fn list(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Admin).await?;
    let keys = api_keys::list(&ctx.db()?).await?;
    Ok(success(200, "API keys", json!({ "api_keys": keys })))
}

/// `POST /api/crm/api-keys` `{name, rate_limit?}` -> `{key, api_key}`: the only
/// time the key is ever shown.
pub async fn create(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let session = auth::require_staff(&req, ctx, Role::Admin).await?;
    let fields = read_json(&req, ctx).await?;
    let mut errors = Vec::new();
    let name = required_text(&fields, "name", NAME, &mut errors);
    let rate_limit = match fields.get("rate_limit") {
        None | Some(Value::Null) => Some(ctx.config.api_key_default_rate_limit),
        Some(v) => match v.as_u64().filter(|n| (1..=1_000_000).contains(n)) {
            Some(n) => Some(n as u32),
            None => {
                errors.push(FieldError::new(
                    "rate_limit",
                    "invalid_integer",
                    "rate_limit must be an integer from 1 to 1000000 (tickets per window)",
                ));
                None
            }
        },
    };
    let (Some(name), Some(rate_limit)) = (name, rate_limit) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let key = format!("{KEY_PREFIX}{}", base64url(&crypto::random_bytes::<32>()?));
    let created = api_keys::create(
        &ctx.db()?,
        &NewApiKey {
            name: &name,
            key_hash: &hex(&crypto::sha256(key.as_bytes())),
            key_prefix: &key[..10],
            rate_limit,
            created_by: session.staff_id(),
            now: &ctx.now.rfc3339(),
        },
    )
    .await?
    .ok_or_else(|| ApiError::Internal("api key insert returned no row".into()))?;
    Ok(success(
        201,
        "API key created; store it now, it will not be shown again",
        json!({ "key": key, "api_key": created }),
    )
    .with_header("Location", format!("/api/crm/api-keys/{}", created.id)))
}

/// `DELETE /api/crm/api-keys/{id}`: revokes the key at once.
pub async fn revoke(req: Request, ctx: &Ctx, id: i64) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Admin).await?;
    let key = api_keys::revoke(&ctx.db()?, id, &ctx.now.rfc3339())
        .await?
        .ok_or(ApiError::NotFound {
            message: "No API key has this id.",
        })?;
    Ok(success(200, "API key revoked", json!({ "api_key": key })))
}
