//! Request bodies: which media type was sent, and decoding it into fields (a JSON
//! object, or form pairs turned into one) with errors that say what is wrong.

use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// Decodes a body into fields: a JSON object, or form pairs. A field sent twice is
/// refused in both (JSON parsers disagree on which copy wins, and forms would too).
pub fn decode_fields(kind: BodyKind, body: &[u8]) -> Result<Fields, ApiError> {
    match kind {
        BodyKind::Json if body.iter().all(u8::is_ascii_whitespace) => Err(ApiError::bad_request(
            "malformed_json",
            "The request body is empty; send a JSON object.",
        )),
        BodyKind::Json => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let top = de
                .deserialize_any(TopVisitor)
                .and_then(|top| de.end().map(|()| top))
                .map_err(|e| {
                    ApiError::bad_request(
                        "malformed_json",
                        format!("The body is not valid JSON: {e}."),
                    )
                })?;
            match top {
                Top::Object(fields) => Ok(fields),
                Top::Duplicate(name) => Err(duplicate(&name)),
                Top::Other(kind) => Err(ApiError::bad_request(
                    "invalid_body",
                    format!("The JSON body must be an object, not {kind}."),
                )),
            }
        }
        BodyKind::Form => {
            let text = std::str::from_utf8(body).map_err(|_| {
                ApiError::bad_request("invalid_body", "The form body is not valid UTF-8.")
            })?;
            let mut fields = Fields::new();
            for (name, value) in worker::url::form_urlencoded::parse(text.as_bytes()) {
                if fields.contains_key(name.as_ref()) {
                    return Err(duplicate(&name));
                }
                fields.insert(name.into_owned(), Value::String(value.into_owned()));
            }
            Ok(fields)
        }
    }
}

fn duplicate(name: &str) -> ApiError {
    ApiError::bad_request(
        "duplicate_field",
        format!("The field `{name}` is sent more than once; send it once."),
    )
}

/// A JSON body's top level: an object (unless a key repeats), or the kind of value
/// it is instead.
enum Top {
    Object(Fields),
    Duplicate(String),
    Other(&'static str),
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut fields = Fields::new();
        let mut repeated = None;
        while let Some(key) = map.next_key::<String>()? {
            if repeated.is_some() || fields.contains_key(&key) {
                repeated.get_or_insert(key);
                map.next_value::<IgnoredAny>()?;
            } else {
                let value: Value = map.next_value()?;
                fields.insert(key, value);
            }
        }
        Ok(repeated.map_or(Top::Object(fields), Top::Duplicate))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::Other(json_type(&Value::Array(vec![]))))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
        Ok(Top::Other(json_type(&Value::String(String::new()))))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
        Ok(Top::Other(json_type(&Value::Bool(false))))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
        Ok(Top::Other(json_type(&Value::from(0))))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
        Ok(Top::Other(json_type(&Value::from(0))))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
        Ok(Top::Other(json_type(&Value::from(0))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        Ok(Top::Other(json_type(&Value::Null)))
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
    fn form_bodies_decode() {
        let fields = decode_fields(
            BodyKind::Form,
            b"subject=Hello+world&description=caf%C3%A9%20%26%20more",
        )
        .unwrap();
        assert_eq!(fields["subject"], "Hello world");
        assert_eq!(fields["description"], "café & more");
    }

    #[test]
    fn a_field_sent_twice_is_refused_in_json_and_forms() {
        for (kind, body) in [
            (BodyKind::Form, &b"subject=a&x=1&subject=b"[..]),
            (
                BodyKind::Json,
                br#"{"subject": "a", "x": {"subject": 1}, "subject": "b"}"#,
            ),
        ] {
            let err = decode_fields(kind, body).unwrap_err();
            assert_eq!(err.code(), "duplicate_field");
            assert!(err.body()["message"]
                .as_str()
                .unwrap()
                .contains("`subject`"));
        }
        // The same name inside a nested object is not a repeat of the top level's.
        assert!(decode_fields(BodyKind::Json, br#"{"a": {"a": 1}}"#).is_ok());
        let err = decode_fields(BodyKind::Json, br#"{"a": 1, "a": 2"#).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
    }
}
