//! `GET /api/health`.

use serde::Serialize;

use super::call::{Answer, Call};
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::success;
use crate::store::{self, Database};

#[derive(Serialize)]
struct Health {
    database: &'static str,
    time: Timestamp,
}

/// 200 when D1 answers, 503 when it does not.
pub async fn get(call: Call<'_>) -> Answer {
    let (_, ctx, _) = call.parts();
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
