//! `GET /api/health`: whether D1 answers, which build this is, and which settings
//! look wrong (names only). `make deploy` reads it after a deploy.

use serde::Serialize;

use super::call::{Answer, Call};
use crate::app::sessions;
use crate::config::ConfigProblem;
use crate::domain::time::Timestamp;
use crate::error::ApiError;
use crate::http::success;
use crate::platform::version::{build_version, BuildVersion};
use crate::store::{self, Database};

#[derive(Serialize)]
struct Health {
    database: &'static str,
    time: Timestamp,
    /// `local`, or the deployed environment (`ENVIRONMENT`).
    environment: &'static str,
    version: &'static BuildVersion,
    /// Settings that look wrong; empty when none do.
    config: Vec<ConfigProblem>,
}

/// A binding the worker cannot run without, as a configuration problem.
const SESSIONS_MISSING: ConfigProblem = ConfigProblem {
    names: &[sessions::SESSIONS_BINDING],
    problem: "binding_missing",
    message: "The KV namespace for staff sessions is not bound: no one can log in to the CRM.",
};

/// 200 when D1 answers, 503 when it does not.
pub async fn get(call: Call<'_>) -> Answer {
    let (_, ctx, _) = call.parts();
    let unavailable = |e: worker::Error| ApiError::Unavailable(format!("health check: D1: {e}"));
    let db = Database::from_env(&ctx.env, ctx.d1_trips.clone()).map_err(unavailable)?;
    store::health::ping(&db).await.map_err(unavailable)?;
    let mut config = ctx.config.problems();
    if sessions::sessions(ctx).is_err() {
        config.push(SESSIONS_MISSING);
    }
    Ok(success(
        200,
        "ok",
        &Health {
            database: "ok",
            time: ctx.now,
            environment: ctx.config.environment.name(),
            version: build_version(),
            config,
        },
    ))
}
