//! Reading a request's input for a handler: the body under the configured cap,
//! decoded by its media type, and the fields several routes share.

use crate::app::Ctx;
use serde_json::Value;

use crate::domain::attachment::parse_ids;
use crate::domain::fields::{optional_id, Fields};
use crate::domain::validation::{FieldError, ValidationError};
use crate::error::ApiError;
use crate::http::body::JSON_ONLY;
use crate::http::{decode_fields, BodyKind};
use crate::platform::request::Request;

/// The media type a body was sent as (JSON or a form).
pub fn body_kind(req: &Request) -> Result<BodyKind, ApiError> {
    BodyKind::of(req.header("Content-Type").as_deref())
}

/// The body's bytes, refused past `MAX_BODY_BYTES`.
pub async fn body(req: &Request, ctx: &Ctx) -> Result<Vec<u8>, ApiError> {
    req.body(ctx.config.max_body_bytes).await
}

/// A JSON or form body, decoded into fields; also its kind and bytes (the create's
/// idempotency record identifies a request by them).
pub async fn read_fields(
    req: &Request,
    ctx: &Ctx,
) -> Result<(BodyKind, Vec<u8>, Fields), ApiError> {
    read_fields_as(body_kind(req)?, req, ctx).await
}

/// `read_fields` for a caller that already read the body's kind.
pub async fn read_fields_as(
    kind: BodyKind,
    req: &Request,
    ctx: &Ctx,
) -> Result<(BodyKind, Vec<u8>, Fields), ApiError> {
    let bytes = body(req, ctx).await?;
    let fields = decode_fields(kind, &bytes)?;
    Ok((kind, bytes, fields))
}

fn json_only() -> ApiError {
    ApiError::UnsupportedMediaType {
        accepted: JSON_ONLY,
    }
}

/// A 415 unless the body is declared JSON.
pub fn require_json(req: &Request) -> Result<(), ApiError> {
    if body_kind(req)? != BodyKind::Json {
        return Err(json_only());
    }
    Ok(())
}

/// A JSON object body (the CRM API speaks JSON only).
pub async fn read_json(req: &Request, ctx: &Ctx) -> Result<Fields, ApiError> {
    require_json(req)?;
    decode_fields(BodyKind::Json, &body(req, ctx).await?)
}

/// Like `read_json`, but an empty body (with or without a `Content-Type`) reads as
/// `{}`: lifecycle actions often have nothing to say.
pub async fn read_optional_json(req: &Request, ctx: &Ctx) -> Result<Fields, ApiError> {
    let json = match req.header("Content-Type") {
        None => false,
        Some(_) => body_kind(req)? == BodyKind::Json,
    };
    let body = body(req, ctx).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::new());
    }
    if !json {
        return Err(json_only());
    }
    decode_fields(BodyKind::Json, &body)
}

/// The optional `version` for optimistic concurrency.
pub fn version(fields: &Fields) -> Result<Option<i64>, ApiError> {
    let mut errors = Vec::new();
    let version = optional_id(fields, "version", "Version", &mut errors);
    if errors.is_empty() {
        Ok(version)
    } else {
        Err(ValidationError::from_details(errors).into())
    }
}

/// The `attachment_ids` of a message (a JSON array, or a form's comma-separated ids).
pub fn attachment_ids(fields: &Fields, ctx: &Ctx, errors: &mut Vec<FieldError>) -> Vec<i64> {
    let value = fields.get("attachment_ids").unwrap_or(&Value::Null);
    match parse_ids(value, ctx.config.attachments.max_per_message) {
        Ok(ids) => ids,
        Err((code, message)) => {
            errors.push(FieldError::new("attachment_ids", code, message));
            vec![]
        }
    }
}
