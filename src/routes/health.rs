use crate::error::ApiError;
use crate::http::{success, Ctx, Response};
use crate::store;
use serde_json::json;

/// `GET /api/health`: 200 when D1 answers, 503 when it does not.
pub async fn get(ctx: &Ctx) -> Result<Response, ApiError> {
    let unavailable = |e: worker::Error| ApiError::Unavailable(format!("health check: D1: {e}"));
    let db = store::Database::from_env(&ctx.env).map_err(unavailable)?;
    store::health::ping(&db).await.map_err(unavailable)?;
    Ok(success(
        200,
        "ok",
        json!({"database": "ok", "time": ctx.now.rfc3339()}),
    ))
}
