//! Field-level validation errors, shared by every input type.

use serde::Serialize;

/// One problem with one input field, as sent to clients in `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }
}

/// Every field problem found in one input, plus the one-line headline for `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub headline: String,
    pub details: Vec<FieldError>,
}

impl ValidationError {
    /// A validation error whose headline is the first detail's message.
    pub fn from_details(details: Vec<FieldError>) -> Self {
        let headline = match details.as_slice() {
            [only] => only.message.clone(),
            _ => "Some fields are invalid".to_owned(),
        };
        Self { headline, details }
    }

    pub fn single(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::from_details(vec![FieldError::new(field, code, message)])
    }

    /// The details' messages as one sentence list, for the envelope's `message`.
    pub fn summary(&self) -> String {
        self.details
            .iter()
            .map(|d| d.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}
