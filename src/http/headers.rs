//! Request headers with a meaning of their own.

use crate::domain::abuse::valid_idempotency_key;
use crate::error::ApiError;

/// The credential of `Authorization: Bearer <credential>` (scheme case-insensitive,
/// surrounding space ignored); `None` for another scheme or an empty credential.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, credential) = header.trim().split_once(' ')?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential)
}

/// The `Idempotency-Key` header, if sent and well formed.
pub fn idempotency_key(header: Option<String>) -> Result<Option<String>, ApiError> {
    match header {
        None => Ok(None),
        Some(key) if valid_idempotency_key(&key) => Ok(Some(key)),
        Some(_) => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_credentials() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("  bearer   abc  "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer   "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn idempotency_keys_are_checked() {
        assert_eq!(idempotency_key(None).unwrap(), None);
        assert_eq!(
            idempotency_key(Some("k-1".into())).unwrap().as_deref(),
            Some("k-1")
        );
        assert_eq!(
            idempotency_key(Some("a\nb".into())).unwrap_err().code(),
            "invalid_idempotency_key"
        );
    }
}
