//! HTTP plumbing shared by every handler: the request context, the request and
//! response types, decoding JSON and form bodies, and the envelope.

mod request;
mod response;

pub use request::Request;
pub use response::Response;

use serde_json::Value;
use worker::{Context, Env};

use crate::config::Config;
use crate::domain::clock::Now;
use crate::domain::fields::Fields;
use crate::error::ApiError;

/// What a handler gets besides the request.
pub struct Ctx {
    pub env: Env,
    /// For work that continues after the response (`wait_until`).
    pub worker: Context,
    pub config: &'static Config,
    pub now: Now,
    pub request_id: String,
    /// `scheme://host[:port]` this request came to (the default base of status links).
    pub request_origin: String,
}

impl Ctx {
    pub fn db(&self) -> Result<crate::store::Database, ApiError> {
        crate::store::Database::from_env(&self.env).map_err(ApiError::from)
    }

    /// How outbox rows written by this request start (claimed by it, or skipped).
    pub fn outbox(&self) -> crate::store::notifications::OutboxPolicy {
        crate::notify::outbox_policy(self.config, self.now, crate::access::base_url(self))
    }

    /// Delivers outbox rows this request claimed right after the response; the cron
    /// trigger retries whatever this does not manage.
    pub fn deliver_after_response(&self, claimed: Vec<crate::store::notifications::Notification>) {
        if claimed.is_empty() {
            return;
        }
        self.worker.wait_until(crate::notify::deliver_claimed(
            self.env.clone(),
            self.config,
            self.now,
            claimed,
        ));
    }
}

/// The media types a create accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

const ACCEPTED_BODIES: &str = "application/json or application/x-www-form-urlencoded";

/// Classifies `Content-Type`, ignoring parameters such as `charset`.
pub fn body_kind(req: &Request) -> Result<BodyKind, ApiError> {
    let header = req.header("Content-Type").unwrap_or_default();
    let media = header
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "application/x-www-form-urlencoded" => Ok(BodyKind::Form),
        _ => Err(ApiError::UnsupportedMediaType {
            accepted: ACCEPTED_BODIES,
        }),
    }
}

/// Decodes a body into fields: a JSON object, or form pairs (the first of repeated names wins).
pub fn decode_fields(kind: BodyKind, body: &[u8]) -> Result<Fields, ApiError> {
    match kind {
        BodyKind::Json if body.iter().all(u8::is_ascii_whitespace) => Err(ApiError::bad_request(
            "malformed_json",
            "The request body is empty; send a JSON object.",
        )),
        BodyKind::Json => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => Ok(fields),
            Ok(other) => Err(ApiError::bad_request(
                "invalid_body",
                format!(
                    "The JSON body must be an object, not {}.",
                    crate::domain::fields::json_type(&other)
                ),
            )),
            Err(e) => Err(ApiError::bad_request(
                "malformed_json",
                format!("The body is not valid JSON: {e}."),
            )),
        },
        BodyKind::Form => {
            let text = std::str::from_utf8(body).map_err(|_| {
                ApiError::bad_request("invalid_body", "The form body is not valid UTF-8.")
            })?;
            let mut fields = Fields::new();
            for (name, value) in worker::url::form_urlencoded::parse(text.as_bytes()) {
                fields
                    .entry(name.into_owned())
                    .or_insert_with(|| Value::String(value.into_owned()));
            }
            Ok(fields)
        }
    }
}

/// Reads a JSON object body (the CRM API speaks JSON only).
pub async fn read_json(req: &Request, ctx: &Ctx) -> Result<Fields, ApiError> {
    if body_kind(req)? != BodyKind::Json {
        return Err(ApiError::UnsupportedMediaType {
            accepted: "application/json",
        });
    }
    let body = req.body(ctx.config.max_body_bytes).await?;
    decode_fields(BodyKind::Json, &body)
}

/// Like `read_json`, but an empty body (with or without a `Content-Type`) reads as
/// `{}`: lifecycle actions often have nothing to say.
pub async fn read_optional_json(req: &Request, ctx: &Ctx) -> Result<Fields, ApiError> {
    let json = match req.header("Content-Type") {
        None => false,
        Some(_) => body_kind(req)? == BodyKind::Json,
    };
    let body = req.body(ctx.config.max_body_bytes).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::new());
    }
    if !json {
        return Err(ApiError::UnsupportedMediaType {
            accepted: "application/json",
        });
    }
    decode_fields(BodyKind::Json, &body)
}

/// A success envelope: `{success: true, message, data}`.
pub fn success(status: u16, message: &str, data: Value) -> Response {
    Response::json(
        status,
        &Envelope {
            data,
            message,
            success: true,
        },
    )
}

/// Fields in the order `json!` writes them (sorted), so answers stay byte for byte
/// what clients have seen.
#[derive(serde::Serialize)]
struct Envelope<'a> {
    data: Value,
    message: &'a str,
    success: bool,
}

/// Renders an error as the failure envelope.
pub fn error_response(error: &ApiError) -> Response {
    let mut response = Response::json(error.status(), &error.body());
    for (name, value) in error.headers() {
        response.set_header(name, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_must_be_objects() {
        assert!(decode_fields(BodyKind::Json, br#"{"a": 1}"#).is_ok());
        for (body, code) in [
            (&b"[1,2]"[..], "invalid_body"),
            (b"\"text\"", "invalid_body"),
            (b"{\"a\":", "malformed_json"),
            (b"", "malformed_json"),
            (b"  ", "malformed_json"),
        ] {
            let err = decode_fields(BodyKind::Json, body).unwrap_err();
            assert_eq!(err.code(), code, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn malformed_json_says_where() {
        let err = decode_fields(BodyKind::Json, b"{\"subject\": \"x\",\n}").unwrap_err();
        assert!(err.body()["message"].as_str().unwrap().contains("line 2"));
    }

    #[test]
    fn form_bodies_decode_and_first_value_wins() {
        let fields = decode_fields(
            BodyKind::Form,
            b"subject=Hello+world&description=caf%C3%A9%20%26%20more&subject=second",
        )
        .unwrap();
        assert_eq!(fields["subject"], "Hello world");
        assert_eq!(fields["description"], "café & more");
    }
}
