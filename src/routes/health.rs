use serde_json::json;
use worker::Response;

use crate::error::ApiError;
use crate::http::{success, Ctx};
use crate::store;

/// `GET /api/health`: 200 when D1 answers, 503 when it does not.
pub async fn get(ctx: &Ctx) -> Result<Response, ApiError> {
    let unavailable = |e: worker::Error| ApiError::Unavailable(format!("health check: D1: {e}"));
    let db = ctx.env.d1("DB").map_err(unavailable)?;
    store::health::ping(&db).await.map_err(unavailable)?;
    Ok(success(
        200,
        "ok",
        json!({"database": "ok", "time": ctx.now.rfc3339()}),
    ))
}
