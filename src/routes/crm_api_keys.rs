//! Integration keys for trusted callers of the public API (admins only). A key is
//! shown once, at creation; only its SHA-256 is stored.

use serde::Serialize;
use serde_json::Value;

use super::answers::{all, ApiKeyAnswer};
use super::call::{Answer, ClaimCall, StaffCall};
use super::input::read_json;
use crate::app::sessions::Staff;
use crate::domain::encoding::{base64url, hex};
use crate::domain::fields::{required_text, TextRule};
use crate::domain::hash::sha256;
use crate::domain::validation::{FieldError, ValidationError};
use crate::error::ApiError;
use crate::http::{success, Named};
use crate::platform::webcrypto::random_bytes;
use crate::store::api_keys::{self, NewApiKey};

/// How every integration key begins (so a bearer credential's kind shows).
pub const KEY_PREFIX: &str = "hk_";
const NAME: TextRule = TextRule {
    label: "Name",
    max_chars: 100,
    multiline: false,
};

#[derive(Serialize)]
struct CreatedKey<'a> {
    key: &'a str,
    api_key: ApiKeyAnswer<'a>,
}

/// `GET /api/crm/api-keys`
pub async fn list(call: ClaimCall<'_>) -> Answer {
    let (_, ctx, claim, _) = call.parts();
    let staff = Staff::Claimed(claim);
    let keys = staff.open(api_keys::list(&ctx.db()?, &staff.guard()).await?)?;
    Ok(success(
        200,
        "API keys",
        &Named("api_keys", all::<_, ApiKeyAnswer>(&keys)),
    ))
}

/// `POST /api/crm/api-keys` `{name, rate_limit?}` -> `{key, api_key}`: the only
/// time the key is ever shown.
pub async fn create(call: StaffCall<'_>) -> Answer {
    let (req, ctx, session, _) = call.parts();
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
    let key = format!("{KEY_PREFIX}{}", base64url(&random_bytes::<32>()?));
    let created = api_keys::create(
        &ctx.db()?,
        &NewApiKey {
            name: &name,
            key_hash: &hex(&sha256(key.as_bytes())),
            key_prefix: &key[..10],
            rate_limit,
            created_by: session.staff_id(),
            now: ctx.now,
        },
    )
    .await?
    .ok_or_else(|| ApiError::Internal("api key insert returned no row".into()))?;
    Ok(success(
        201,
        "API key created; store it now, it will not be shown again",
        &CreatedKey {
            key: &key,
            api_key: ApiKeyAnswer::from(&created),
        },
    )
    .with_header("Location", format!("/api/crm/api-keys/{}", created.id)))
}

/// `DELETE /api/crm/api-keys/{id}`: revokes the key at once.
pub async fn revoke(call: StaffCall<'_>) -> Answer {
    let (_, ctx, _, params) = call.parts();
    let key = api_keys::revoke(&ctx.db()?, params.id()?, ctx.now)
        .await?
        .ok_or(ApiError::NotFound {
            message: "No API key has this id.",
        })?;
    Ok(success(
        200,
        "API key revoked",
        &Named("api_key", ApiKeyAnswer::from(&key)),
    ))
}
