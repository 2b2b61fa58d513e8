//! HTTP plumbing shared by every handler: the request context, reading bodies under
//! a cap, decoding JSON and form bodies, and building envelope responses.

use futures_util::StreamExt;
use serde_json::{json, Value};
use worker::{Context, Env, Headers, Request, Response};

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
    pub fn db(&self) -> Result<worker::D1Database, ApiError> {
        self.env.d1("DB").map_err(ApiError::from)
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
    let header = req
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .unwrap_or_default();
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

/// Reads the whole body, refusing it by `Content-Length` before reading when that
/// is over `cap`, and cutting a chunked body off as soon as it passes `cap`.
pub async fn read_body(req: &mut Request, cap: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit: cap };
    if let Some(length) = req.headers().get("Content-Length").ok().flatten() {
        match length.trim().parse::<u64>() {
            Ok(n) if n > cap as u64 => return Err(too_large),
            Ok(_) => {}
            Err(_) => {
                return Err(ApiError::bad_request(
                    "invalid_header",
                    "Content-Length is not a number.",
                ))
            }
        }
    }
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream()?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("The body could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > cap {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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
pub async fn read_json(req: &mut Request, ctx: &Ctx) -> Result<Fields, ApiError> {
    if body_kind(req)? != BodyKind::Json {
        return Err(ApiError::UnsupportedMediaType {
            accepted: "application/json",
        });
    }
    let body = read_body(req, ctx.config.max_body_bytes).await?;
    decode_fields(BodyKind::Json, &body)
}

/// Like `read_json`, but an empty body (with or without a `Content-Type`) reads as
/// `{}`: lifecycle actions often have nothing to say.
pub async fn read_optional_json(req: &mut Request, ctx: &Ctx) -> Result<Fields, ApiError> {
    let json = match req.headers().get("Content-Type").ok().flatten() {
        None => false,
        Some(_) => body_kind(req)? == BodyKind::Json,
    };
    let body = read_body(req, ctx.config.max_body_bytes).await?;
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

/// The URL's query pairs, decoded. Reads the serialized URL as text: parsing it with
/// the `url` crate would pull its IDNA tables into the wasm.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let url = req.inner().url();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    worker::url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The client's address as Cloudflare reports it (`unknown` without the header, e.g.
/// through a service binding: such callers share one rate-limit bucket).
pub fn client_ip(req: &Request) -> String {
    req.headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `scheme://host[:port]` of a serialized absolute URL.
pub fn origin_of(url: &str) -> String {
    let host_start = url.find("://").map_or(0, |i| i + 3);
    let end = url[host_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| host_start + i);
    url[..end].to_owned()
}

/// A success envelope: `{success: true, message, data}`.
pub fn success(status: u16, message: &str, data: Value) -> Response {
    json_response(
        status,
        &json!({"success": true, "message": message, "data": data}),
    )
}

/// A JSON response. Infallible: building a fixed body cannot fail.
pub fn json_response(status: u16, body: &Value) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.to_string().into_bytes())
}

/// Renders an error as the failure envelope.
pub fn error_response(error: &ApiError) -> Response {
    let response = json_response(error.status(), &error.body());
    for (name, value) in error.headers() {
        let _ = response.headers().set(name, &value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://help.example/t/x?token=1"),
            "https://help.example"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8787/api"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(origin_of("http://localhost?x"), "http://localhost");
    }

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
