//! The validated input of a ticket create and of a CRM edit.

use super::email::EmailAddress;
use super::fields::{optional_id, optional_text, required_text, Fields, TextRule};
use super::ticket::Priority;
use super::validation::{FieldError, ValidationError};

pub const SUBJECT: TextRule = TextRule {
    label: "Subject",
    max_chars: 200,
    multiline: false,
};
pub const DESCRIPTION: TextRule = TextRule {
    label: "Description",
    max_chars: 20_000,
    multiline: true,
};
pub const CUSTOMER_NAME: TextRule = TextRule {
    label: "Customer name",
    max_chars: 100,
    multiline: false,
};
const EMAIL: TextRule = TextRule {
    label: "Customer email",
    // Checked precisely by `EmailAddress::parse`; this only stops absurd input early.
    max_chars: 1_000,
    multiline: false,
};
const CHOICE: TextRule = TextRule {
    label: "",
    max_chars: 100,
    multiline: false,
};

pub const DEFAULT_CUSTOMER_NAME: &str = "Guest";

/// The seed's own messages, kept because existing clients show them.
pub const SUBJECT_AND_DESCRIPTION_REQUIRED: &str = "Subject and description are required";
pub const CUSTOMER_EMAIL_REQUIRED: &str = "Customer email is required";

/// Who may set what on a new ticket.
pub struct CreatePolicy<'a> {
    /// The configured categories; the first is the default.
    pub categories: &'a [String],
    pub priorities: &'a [Priority],
}

/// A ticket as submitted, every field validated and normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub subject: String,
    pub description: String,
    pub customer_name: String,
    pub customer_email: EmailAddress,
    pub priority: Priority,
    pub category: String,
    pub user_id: Option<i64>,
}

impl NewTicket {
    /// Validates a create request's fields, reporting every problem at once.
    /// Unknown fields are ignored so clients can send extra context.
    pub fn parse(fields: &Fields, policy: &CreatePolicy) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let subject = required_text(fields, "subject", SUBJECT, &mut errors);
        let description = required_text(fields, "description", DESCRIPTION, &mut errors);
        let customer_name = optional_text(fields, "customer_name", CUSTOMER_NAME, &mut errors);
        let customer_email =
            required_text(fields, "customer_email", EMAIL, &mut errors).and_then(|raw| {
                match EmailAddress::parse(&raw) {
                    Ok(email) => Some(email),
                    Err(code) => {
                        let message = if code == "too_long" {
                            format!(
                                "Customer email must be at most {} characters",
                                super::email::MAX_EMAIL_CHARS
                            )
                        } else {
                            "Customer email is not a valid email address".to_owned()
                        };
                        errors.push(FieldError::new("customer_email", code, message));
                        None
                    }
                }
            });
        let priority = choice(
            fields,
            "priority",
            "Priority",
            policy.priorities,
            |p| p.as_str(),
            &mut errors,
        )
        .copied()
        .unwrap_or(Priority::Medium);
        let category = choice(
            fields,
            "category",
            "Category",
            policy.categories,
            |c| c.as_str(),
            &mut errors,
        )
        .or_else(|| policy.categories.first())
        .cloned()
        .unwrap_or_else(|| "general".to_owned());
        let user_id = optional_id(fields, "user_id", "User id", &mut errors);

        match (subject, description, customer_email, errors.is_empty()) {
            (Some(subject), Some(description), Some(customer_email), true) => Ok(NewTicket {
                subject,
                description,
                customer_name: customer_name.unwrap_or_else(|| DEFAULT_CUSTOMER_NAME.to_owned()),
                customer_email,
                priority,
                category,
                user_id,
            }),
            _ => Err(create_error(errors)),
        }
    }
}

/// A CRM edit: only the fields sent change. At least one is required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketEdit {
    pub subject: Option<String>,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub category: Option<String>,
}

impl TicketEdit {
    pub fn parse(fields: &Fields, categories: &[String]) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let edit = TicketEdit {
            subject: optional_text(fields, "subject", SUBJECT, &mut errors),
            description: optional_text(fields, "description", DESCRIPTION, &mut errors),
            priority: choice(
                fields,
                "priority",
                "Priority",
                &Priority::ALL,
                |p| p.as_str(),
                &mut errors,
            )
            .copied(),
            category: choice(
                fields,
                "category",
                "Category",
                categories,
                |c| c.as_str(),
                &mut errors,
            )
            .cloned(),
        };
        if errors.is_empty() && edit == TicketEdit::default() {
            errors.push(FieldError::new(
                "subject",
                "required",
                "Send at least one of subject, description, priority, category",
            ));
        }
        if errors.is_empty() {
            Ok(edit)
        } else {
            Err(ValidationError::from_details(errors))
        }
    }
}

/// Keeps the seed's headlines: a missing subject or description first, then a
/// missing email; anything else gets the generic headline.
fn create_error(details: Vec<FieldError>) -> ValidationError {
    let missing = |field: &str| {
        details
            .iter()
            .any(|d| d.field == field && d.code == "required")
    };
    let headline = if missing("subject") || missing("description") {
        Some(SUBJECT_AND_DESCRIPTION_REQUIRED)
    } else if missing("customer_email") {
        Some(CUSTOMER_EMAIL_REQUIRED)
    } else {
        None
    };
    let mut error = ValidationError::from_details(details);
    if let Some(headline) = headline {
        error.headline = headline.to_owned();
    }
    error
}

/// Reads an optional value that must be one of `allowed` (case-insensitive).
fn choice<'a, T>(
    fields: &Fields,
    name: &str,
    label: &'static str,
    allowed: &'a [T],
    as_str: impl Fn(&T) -> &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a T> {
    let rule = TextRule { label, ..CHOICE };
    let value = optional_text(fields, name, rule, errors)?;
    let found = allowed
        .iter()
        .find(|candidate| as_str(candidate).eq_ignore_ascii_case(&value));
    if found.is_none() {
        let names: Vec<&str> = allowed.iter().map(&as_str).collect();
        errors.push(FieldError::new(
            name,
            "invalid_choice",
            format!("{label} must be one of: {}", names.join(", ")),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn categories() -> Vec<String> {
        ["general", "technical", "billing", "account", "other"]
            .map(String::from)
            .to_vec()
    }

    fn parse(v: Value) -> Result<NewTicket, ValidationError> {
        let cats = categories();
        let policy = CreatePolicy {
            categories: &cats,
            priorities: &Priority::PUBLIC,
        };
        NewTicket::parse(v.as_object().unwrap(), &policy)
    }

    #[test]
    fn seed_example_with_defaults() {
        let t = parse(json!({
            "subject": " Issue with mining machine ",
            "description": "Detailed description of the problem",
            "customer_email": "john@example.com"
        }))
        .unwrap();
        assert_eq!(t.subject, "Issue with mining machine");
        assert_eq!(t.customer_name, "Guest");
        assert_eq!(t.priority, Priority::Medium);
        assert_eq!(t.category, "general");
        assert_eq!(t.user_id, None);
    }

    #[test]
    fn normalizes_choices() {
        let t = parse(json!({
            "subject": "s", "description": "d", "customer_email": "a@b.co",
            "priority": "HIGH", "category": " Billing ", "user_id": 123, "customer_name": "Zoë"
        }))
        .unwrap();
        assert_eq!(t.priority, Priority::High);
        assert_eq!(t.category, "billing");
        assert_eq!(t.user_id, Some(123));
        assert_eq!(t.customer_name, "Zoë");
    }

    #[test]
    fn seed_messages_for_missing_fields() {
        let e = parse(json!({"subject": "Test"})).unwrap_err();
        assert_eq!(e.headline, SUBJECT_AND_DESCRIPTION_REQUIRED);
        let fields: Vec<&str> = e.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["description", "customer_email"]);

        let e = parse(json!({"subject": "s", "description": "d"})).unwrap_err();
        assert_eq!(e.headline, CUSTOMER_EMAIL_REQUIRED);
    }

    #[test]
    fn public_callers_cannot_ask_for_urgent() {
        let e = parse(json!({"subject": "s", "description": "d", "customer_email": "a@b.co", "priority": "urgent"}))
            .unwrap_err();
        assert_eq!(e.details[0].code, "invalid_choice");
        assert_eq!(e.headline, "Priority must be one of: low, medium, high");
    }

    #[test]
    fn reports_every_problem() {
        let e = parse(json!({
            "subject": "x".repeat(201), "description": 5, "customer_email": "nope",
            "category": "sales", "user_id": "abc"
        }))
        .unwrap_err();
        let codes: Vec<(&str, &str)> = e
            .details
            .iter()
            .map(|d| (d.field.as_str(), d.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("subject", "too_long"),
                ("description", "invalid_type"),
                ("customer_email", "invalid_email"),
                ("category", "invalid_choice"),
                ("user_id", "invalid_integer"),
            ]
        );
        assert_eq!(e.headline, "Some fields are invalid");
    }

    #[test]
    fn edits_need_a_field_and_allow_urgent() {
        let cats = categories();
        let fields = |v: Value| v.as_object().unwrap().clone();
        let e = TicketEdit::parse(&fields(json!({"priority": "urgent"})), &cats).unwrap();
        assert_eq!(e.priority, Some(Priority::Urgent));
        assert!(TicketEdit::parse(&fields(json!({})), &cats).is_err());
        assert!(TicketEdit::parse(&fields(json!({"subject": " "})), &cats).is_err());
        assert!(TicketEdit::parse(&fields(json!({"category": "sales"})), &cats).is_err());
    }
}
