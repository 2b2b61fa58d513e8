//! The one error type. Each variant knows its HTTP status and stable `code`, and
//! renders the seed's JSON envelope. Internal causes are logged by the entry point
//! with the request id and never sent to the client.

use serde_json::{json, Value};

use crate::domain::validation::ValidationError;

#[derive(Debug)]
pub enum ApiError {
    /// 400 `validation_failed`: one or more fields are wrong (with `details`).
    Validation(ValidationError),
    /// 400: the body or a header could not be read at all (`malformed_json`, ...).
    BadRequest { code: &'static str, message: String },
    /// 401 `unauthorized`: no, or no valid, bearer credentials (`WWW-Authenticate: Bearer`).
    Unauthorized { message: &'static str },
    /// 403: authenticated but not allowed (`forbidden`), or a failed bot check
    /// (`bot_check_failed`).
    Forbidden {
        code: &'static str,
        message: &'static str,
    },
    /// 404 `not_found`.
    NotFound { message: &'static str },
    /// 405 `method_not_allowed`, answered with an `Allow` header (from the route table).
    MethodNotAllowed { allow: String },
    /// 409: the request conflicts with the resource's state (`stale_version`,
    /// `invalid_transition`, `email_taken`, ...); `details` says what would work.
    Conflict {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// 411 `length_required`: an upload without `Content-Length` (R2 takes a stream
    /// only with a known length, and the limits are checked before reading).
    LengthRequired,
    /// 413 `payload_too_large`.
    PayloadTooLarge { limit: usize },
    /// 413 `ticket_storage_full`: this file would take the ticket's attachments past
    /// their total.
    StorageFull { message: String },
    /// 415 `unsupported_media_type`.
    UnsupportedMediaType { accepted: &'static str },
    /// 416 `range_not_satisfiable`, with `Content-Range: bytes */<size>`.
    RangeNotSatisfiable { size: u64 },
    /// 422 `idempotency_key_reused`: the key was first used with another request.
    KeyReused,
    /// 429 `rate_limited`, with `Retry-After` in seconds and any `RateLimit` headers.
    RateLimited {
        retry_after: u64,
        message: String,
        headers: Vec<(&'static str, String)>,
    },
    /// 503 `service_unavailable`: the health check could not reach D1. (Elsewhere a
    /// failing D1 is a 500: the request may have been half understood.)
    Unavailable(String),
    /// 500 `internal_error`: the cause is logged, the client sees a generic message.
    Internal(String),
}

/// The seed's guidance for failures the client cannot fix.
const CONTACT_SUPPORT: &str = "Please try again or contact support.";

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest { .. } => 400,
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::NotFound { .. } => 404,
            ApiError::Conflict { .. } => 409,
            ApiError::KeyReused => 422,
            ApiError::RateLimited { .. } => 429,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::LengthRequired => 411,
            ApiError::PayloadTooLarge { .. } | ApiError::StorageFull { .. } => 413,
            ApiError::RangeNotSatisfiable { .. } => 416,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Forbidden { code, .. } => code,
            ApiError::NotFound { .. } => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::KeyReused => "idempotency_key_reused",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::LengthRequired => "length_required",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::StorageFull { .. } => "ticket_storage_full",
            ApiError::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// The cause to log, for errors whose details must stay server-side.
    pub fn internal_cause(&self) -> Option<&str> {
        match self {
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => Some(cause),
            _ => None,
        }
    }

    /// The failure envelope: `{success: false, error, message, code, details?}`.
    pub fn body(&self) -> Value {
        let (error, message) = self.title_and_message();
        let mut body = json!({
            "success": false,
            "error": error,
            "message": message,
            "code": self.code(),
        });
        match self {
            ApiError::Validation(v) => body["details"] = json!(v.details),
            ApiError::Conflict {
                details: Some(details),
                ..
            } => body["details"] = details.clone(),
            _ => {}
        }
        body
    }

    /// What the error says to a person, as the envelope's `message` says it.
    pub fn message(&self) -> String {
        self.title_and_message().1
    }

    /// The envelope's `error` (a title) and `message`.
    fn title_and_message(&self) -> (String, String) {
        match self {
            ApiError::Validation(v) => (v.headline.clone(), v.summary()),
            ApiError::BadRequest { message, .. } => ("Bad request".to_owned(), message.clone()),
            ApiError::Unauthorized { message } => {
                ("Authentication required".to_owned(), (*message).to_owned())
            }
            ApiError::Forbidden { message, .. } => ("Forbidden".to_owned(), (*message).to_owned()),
            ApiError::KeyReused => (
                "Idempotency key reused".to_owned(),
                "This Idempotency-Key was first used with a different request; use a new key for a new request.".to_owned(),
            ),
            ApiError::NotFound { message } => ("Not found".to_owned(), (*message).to_owned()),
            ApiError::Conflict { message, .. } => ("Conflict".to_owned(), message.clone()),
            ApiError::RateLimited { message, .. } => {
                ("Too many requests".to_owned(), message.clone())
            }
            ApiError::MethodNotAllowed { allow } => (
                "Method not allowed".to_owned(),
                format!("This path accepts: {allow}."),
            ),
            ApiError::LengthRequired => (
                "Length required".to_owned(),
                "Send the file with a Content-Length header (not chunked).".to_owned(),
            ),
            ApiError::PayloadTooLarge { limit } => (
                "Request body too large".to_owned(),
                format!("The body must be at most {limit} bytes."),
            ),
            ApiError::StorageFull { message } => {
                ("Ticket storage full".to_owned(), message.clone())
            }
            ApiError::RangeNotSatisfiable { size } => (
                "Range not satisfiable".to_owned(),
                format!("The file has {size} bytes; no requested range starts within it."),
            ),
            ApiError::UnsupportedMediaType { accepted } => (
                "Unsupported media type".to_owned(),
                format!("Send the body as {accepted}."),
            ),
            ApiError::Unavailable(_) => {
                ("Service unavailable".to_owned(), CONTACT_SUPPORT.to_owned())
            }
            ApiError::Internal(_) => ("Internal error".to_owned(), CONTACT_SUPPORT.to_owned()),
        }
    }

    /// Headers the status code calls for.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::MethodNotAllowed { allow } => vec![("Allow", allow.clone())],
            ApiError::Unauthorized { .. } => {
                vec![("WWW-Authenticate", r#"Bearer realm="crm""#.to_owned())]
            }
            ApiError::RangeNotSatisfiable { size } => {
                vec![("Content-Range", format!("bytes */{size}"))]
            }
            ApiError::RateLimited {
                retry_after,
                headers,
                ..
            } => {
                let mut all = vec![("Retry-After", retry_after.to_string())];
                all.extend(headers.iter().cloned());
                all
            }
            _ => vec![],
        }
    }

    /// A 429 for a limit other than the create's, with `Retry-After`.
    pub fn too_many(what: &str, retry_after: u64) -> Self {
        ApiError::RateLimited {
            retry_after,
            message: crate::domain::abuse::try_again_message(what, retry_after),
            headers: vec![],
        }
    }

    /// The 404 for a path no route serves.
    pub fn no_route() -> Self {
        ApiError::NotFound {
            message: "No resource exists at this path.",
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Validation(e)
    }
}

impl From<worker::KvError> for ApiError {
    fn from(e: worker::KvError) -> Self {
        ApiError::Internal(format!("KV: {e}"))
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_envelope_has_details() {
        let e = ApiError::from(ValidationError::single(
            "subject",
            "required",
            "Subject is required",
        ));
        let body = e.body();
        assert_eq!(e.status(), 400);
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["error"], "Subject is required");
        assert_eq!(body["details"][0]["field"], "subject");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::Internal("D1_ERROR: no such table: support_tickets".into());
        let text = e.body().to_string();
        assert_eq!(e.status(), 500);
        assert!(!text.contains("D1_ERROR"));
        assert!(!text.contains("support_tickets"));
        assert_eq!(
            e.internal_cause(),
            Some("D1_ERROR: no such table: support_tickets")
        );
    }
}
