//! `GET /api/health`.

use serde::Serialize;

use super::params::Params;
use crate::app::Ctx;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::{success, Response};
use crate::platform::request::Request;
use crate::store::{self, Database};

#[derive(Serialize)]
struct Health {
    database: &'static str,
    time: Timestamp,
}

/// 200 when D1 answers, 503 when it does not.
pub async fn get(_req: Request, ctx: &Ctx, _params: Params) -> Result<Response, ApiError> {
    let unavailable = |e: worker::Error| ApiError::Unavailable(format!("health check: D1: {e}"));
    let db = Database::from_env(&ctx.env).map_err(unavailable)?;
    store::health::ping(&db).await.map_err(unavailable)?;
    Ok(success(
        200,
        "ok",
        &Health {
            database: "ok",
            time: ctx.now,
        },
    ))
}
