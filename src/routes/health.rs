use serde_json::json;
use worker::Response;

use crate::error::ApiError;
use crate::http::{success, Ctx};
use crate::store;

/// `GET /api/health`: 200 when D1 answers, 503 when it does not.
pub async fn get(ctx: &Ctx) -> Result<Response, ApiError> {
    store::health::ping(&ctx.db()?)
        .await
        .map_err(|e| ApiError::Unavailable(format!("health check: D1 unreachable: {e}")))?;
    Ok(success(
        200,
        "ok",
        json!({"database": "ok", "time": ctx.now.rfc3339()}),
    ))
}
