//! Support staff: roles and the validated inputs of the staff admin routes.

use super::email::EmailAddress;
use super::fields::{optional_text, required_text, Fields, TextRule};
use super::password::check_new_password;
use super::validation::{FieldError, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const STAFF_NAME: TextRule = TextRule {
    label: "Name",
    max_chars: 100,
    multiline: false,
};
const STAFF_EMAIL: TextRule = TextRule {
    label: "Email",
    max_chars: 1_000,
    multiline: false,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works tickets.
    Agent,
    /// Also manages staff and integration keys.
    Admin,
}

impl Role {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    pub email: EmailAddress,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// A partial update of a staff member; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffUpdate {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

impl StaffUpdate {
    /// Role and active changes end the person's live sessions.
    pub fn revokes_sessions(&self) -> bool {
        self.role.is_some() || self.active == Some(false)
    }
}

/// Staff emails are stored and looked up in one form: trimmed, lower case by Unicode
/// rules (`ÉLISE@x.com` is `élise@x.com`; SQL's NOCASE folds ASCII only).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl NewStaff {
    pub fn parse(fields: &Fields) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let email = required_text(fields, "email", STAFF_EMAIL, &mut errors).and_then(|raw| {
            EmailAddress::parse(&normalize_email(&raw))
                .map_err(|code| {
                    errors.push(FieldError::new(
                        "email",
                        code,
                        "Email is not a valid email address",
                    ))
                })
                .ok()
        });
        let name = required_text(fields, "name", STAFF_NAME, &mut errors);
        let role = role(fields, &mut errors).unwrap_or(Role::Agent);
        let password = password(fields, "password", &mut errors);
        match (email, name, password) {
            (Some(email), Some(name), Some(password)) if errors.is_empty() => Ok(NewStaff {
                email,
                name,
                role,
                password,
            }),
            _ => Err(ValidationError::from_details(errors)),
        }
    }
}

impl StaffUpdate {
    pub fn parse(fields: &Fields) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let update = StaffUpdate {
            name: optional_text(fields, "name", STAFF_NAME, &mut errors),
            role: role(fields, &mut errors),
            active: match fields.get("active") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    errors.push(FieldError::new(
                        "active",
                        "invalid_type",
                        "active must be true or false",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() && update == StaffUpdate::default() {
            errors.push(FieldError::new(
                "name",
                "required",
                "Send at least one of name, role, active",
            ));
        }
        if errors.is_empty() {
            Ok(update)
        } else {
            Err(ValidationError::from_details(errors))
        }
    }
}

/// Reads a new password: not trimmed (spaces are part of a passphrase).
pub fn password(fields: &Fields, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match fields.get(name) {
        Some(Value::String(p)) => match check_new_password(p) {
            Ok(()) => Some(p.clone()),
            Err(message) => {
                errors.push(FieldError::new(name, "weak_password", message));
                None
            }
        },
        None | Some(Value::Null) => {
            errors.push(FieldError::new(name, "required", "Password is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(
                name,
                "invalid_type",
                "Password must be a string",
            ));
            None
        }
    }
}

fn role(fields: &Fields, errors: &mut Vec<FieldError>) -> Option<Role> {
    let rule = TextRule {
        label: "Role",
        max_chars: 20,
        multiline: false,
    };
    let value = optional_text(fields, "role", rule, errors)?;
    let role = Role::parse(&value);
    if role.is_none() {
        errors.push(FieldError::new(
            "role",
            "invalid_choice",
            "Role must be admin or agent",
        ));
    }
    role
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn new_staff() {
        let s = NewStaff::parse(&fields(json!({
            "email": "ana@example.com", "name": " Ana ", "password": "correct horse battery"
        })))
        .unwrap();
        assert_eq!(s.role, Role::Agent);
        assert_eq!(s.name, "Ana");
        let s = NewStaff::parse(&fields(json!({
            "email": " ÉLISE@Example.COM ", "name": "Élise", "password": "correct horse battery"
        })))
        .unwrap();
        assert_eq!(s.email.as_str(), "élise@example.com");
        let e = NewStaff::parse(&fields(
            json!({"email": "x", "name": "", "role": "boss", "password": "short"}),
        ))
        .unwrap_err();
        let codes: Vec<&str> = e.details.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "invalid_email",
                "required",
                "invalid_choice",
                "weak_password"
            ]
        );
    }

    #[test]
    fn staff_update() {
        let u = StaffUpdate::parse(&fields(json!({"active": false}))).unwrap();
        assert!(u.revokes_sessions());
        let u = StaffUpdate::parse(&fields(json!({"name": "New name"}))).unwrap();
        assert!(!u.revokes_sessions());
        assert!(StaffUpdate::parse(&fields(json!({}))).is_err());
        assert!(StaffUpdate::parse(&fields(json!({"active": "no"}))).is_err());
    }
}
