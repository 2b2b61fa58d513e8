//! Request bodies: which media type was sent, and decoding it into fields (a JSON
//! object, or form pairs turned into one) with errors that say what is wrong.

use serde_json::Value;

use crate::domain::fields::{json_type, Fields};
use crate::error::ApiError;

/// The media types a body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

pub const JSON_ONLY: &str = "application/json";
const JSON_OR_FORM: &str = "application/json or application/x-www-form-urlencoded";

impl BodyKind {
    /// Classifies a `Content-Type` header, ignoring parameters such as `charset`.
    pub fn of(content_type: Option<&str>) -> Result<Self, ApiError> {
        let media = content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/json" => Ok(BodyKind::Json),
            "application/x-www-form-urlencoded" => Ok(BodyKind::Form),
            _ => Err(ApiError::UnsupportedMediaType {
                accepted: JSON_OR_FORM,
            }),
        }
    }

    /// A short name for the kind, part of an idempotent request's identity.
    pub fn name(self) -> &'static str {
        match self {
            BodyKind::Json => "json",
            BodyKind::Form => "form",
        }
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
                    json_type(&other)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_ignore_parameters_and_case() {
        assert_eq!(
            BodyKind::of(Some("Application/JSON; charset=utf-8")).unwrap(),
            BodyKind::Json
        );
        assert_eq!(
            BodyKind::of(Some("application/x-www-form-urlencoded")).unwrap(),
            BodyKind::Form
        );
        assert_eq!(BodyKind::of(None).unwrap_err().status(), 415);
        assert_eq!(BodyKind::of(Some("text/plain")).unwrap_err().status(), 415);
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
