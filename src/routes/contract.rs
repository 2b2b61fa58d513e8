//! The machine contract: `GET /api/openapi.json`, the OpenAPI 3.1 document that
//! `scripts/openapi.mjs` writes from the route table and `openapi/source.mjs` (the
//! contract test fails when the committed file is stale). Embedded as bytes: the wasm
//! pays for the file and no generator.

use super::call::{Answer, Call};
use crate::http::Response;

const DOCUMENT: &str = include_str!("../../openapi/openapi.json");

/// Public, cacheable for five minutes, readable from any origin (`Audience::Everyone`).
pub async fn document(_: Call<'_>) -> Answer {
    Ok(Response::with_body(
        200,
        "application/json; charset=utf-8",
        DOCUMENT.as_bytes().to_vec(),
    )
    .with_header("Cache-Control", "public, max-age=300"))
}
