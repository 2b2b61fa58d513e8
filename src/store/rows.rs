//! What the store reads back: one type per row shape, and the column lists that
//! select them, in one place. Rows are not answers: they only deserialize, and each
//! endpoint renders its own answer type, so a new column never becomes public by
//! accident.

use std::sync::LazyLock;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::attachment::{UploadStatus, Uploader};
use crate::domain::notification::{Channel, DeliveryStatus, Kind};
use crate::domain::staff::Role;
use crate::domain::ticket::{MessageAuthor, Priority, Status, TicketNumber};
use crate::domain::time::Timestamp;

/// `a, b, c`, or `t.a, t.b, t.c` with a table alias.
fn column_list(fields: &[&str], alias: &str) -> String {
    fields
        .iter()
        .map(|f| format!("{alias}{f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQLite has no boolean: D1 returns 0/1.
fn sqlite_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let n: f64 = Deserialize::deserialize(d)?;
    Ok(n != 0.0)
}

/// `ticket_events.data` is JSON stored as text.
fn json_text<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    let raw: String = Deserialize::deserialize(d)?;
    Ok(serde_json::from_slice(raw.as_bytes()).unwrap_or(Value::Null))
}

/// Every column of a ticket, in `Ticket`'s order.
pub const TICKET_FIELDS: [&str; 19] = [
    "id",
    "ticket_number",
    "subject",
    "description",
    "user_id",
    "customer_name",
    "customer_email",
    "priority",
    "category",
    "status",
    "assigned_to",
    "assigned_at",
    "resolved_at",
    "closed_at",
    "created_by",
    "created_at",
    "updated_at",
    "version",
    "requester_verified",
];

/// `id, ticket_number, ...`: every ticket column, built once per isolate.
pub static TICKET_COLUMNS: LazyLock<String> = LazyLock::new(|| column_list(&TICKET_FIELDS, ""));
/// The same, of the table aliased `t`.
pub static T_TICKET_COLUMNS: LazyLock<String> = LazyLock::new(|| column_list(&TICKET_FIELDS, "t."));

#[derive(Debug, Clone, Deserialize)]
pub struct Ticket {
    pub id: i64,
    pub ticket_number: TicketNumber,
    pub subject: String,
    pub description: String,
    pub user_id: Option<i64>,
    pub customer_name: Option<String>,
    pub customer_email: String,
    pub priority: Priority,
    pub category: Option<String>,
    pub status: Status,
    pub assigned_to: Option<i64>,
    pub assigned_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    /// Whether the requester proved control of `customer_email` (migration 0005).
    /// Idempotency records written before it lack the field: not verified.
    #[serde(default, deserialize_with = "sqlite_bool")]
    pub requester_verified: bool,
}

pub const EVENT_COLUMNS: &str = "e.id, e.kind, e.actor_type, e.actor_id, e.data, e.created_at";

#[derive(Debug, Clone, Deserialize)]
pub struct TicketEvent {
    pub id: i64,
    pub kind: String,
    pub actor_type: String,
    pub actor_id: Option<i64>,
    #[serde(deserialize_with = "json_text")]
    pub data: Value,
    pub created_at: Timestamp,
}

const MESSAGE_FIELDS: [&str; 6] = [
    "id",
    "author_type",
    "staff_id",
    "body",
    "internal",
    "created_at",
];

/// Every column of a message (for `RETURNING`).
pub static MESSAGE_COLUMNS: LazyLock<String> = LazyLock::new(|| column_list(&MESSAGE_FIELDS, ""));
/// The same, of the table aliased `m`.
pub static M_MESSAGE_COLUMNS: LazyLock<String> =
    LazyLock::new(|| column_list(&MESSAGE_FIELDS, "m."));

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub id: i64,
    pub author_type: MessageAuthor,
    pub staff_id: Option<i64>,
    pub body: String,
    #[serde(deserialize_with = "sqlite_bool")]
    pub internal: bool,
    pub created_at: Timestamp,
}

const ATTACHMENT_FIELDS: [&str; 14] = [
    "id",
    "ticket_id",
    "message_id",
    "uploader_type",
    "staff_id",
    "filename",
    "content_type",
    "size",
    "r2_key",
    "etag",
    "status",
    "internal",
    "created_at",
    "uploaded_at",
];

/// Every column of an attachment (for `RETURNING`).
pub static ATTACHMENT_COLUMNS: LazyLock<String> =
    LazyLock::new(|| column_list(&ATTACHMENT_FIELDS, ""));
/// The same, of the table aliased `a`.
pub static A_ATTACHMENT_COLUMNS: LazyLock<String> =
    LazyLock::new(|| column_list(&ATTACHMENT_FIELDS, "a."));

/// A file's metadata (the bytes are in R2 under `r2_key`).
#[derive(Debug, Clone, Deserialize)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub message_id: Option<i64>,
    pub uploader_type: Uploader,
    pub staff_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub r2_key: String,
    /// R2's entity tag, quoted as in an HTTP header; set once uploaded.
    pub etag: Option<String>,
    pub status: UploadStatus,
    #[serde(deserialize_with = "sqlite_bool")]
    pub internal: bool,
    pub created_at: Timestamp,
    pub uploaded_at: Option<Timestamp>,
}

pub const NOTIFICATION_COLUMNS: &str =
    "id, kind, channel, ticket_id, message_id, recipient, link_base, status, attempts, \
    next_attempt_at, last_error, created_at, updated_at, sent_at";

/// An outbox row.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub kind: Kind,
    pub channel: Channel,
    pub ticket_id: Option<i64>,
    pub message_id: Option<i64>,
    pub recipient: Option<String>,
    /// Where status links in it point (see migration 0004).
    pub link_base: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// A message as a notification about it needs it: with its author's name.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageFacts {
    pub id: i64,
    pub body: String,
    pub author_type: MessageAuthor,
    pub staff_name: Option<String>,
}

pub const STAFF_COLUMNS: &str = "id, email, name, role, active, created_at, updated_at";

/// A staff row (never the password hash: it is selected only for a login).
#[derive(Debug, Clone, Deserialize)]
pub struct StaffMember {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(deserialize_with = "sqlite_bool")]
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What authenticating a session needs, read in one query.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionCheck {
    #[serde(flatten)]
    pub staff: StaffMember,
    pub session_epoch: i64,
    #[serde(deserialize_with = "sqlite_bool")]
    pub revoked: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoginCandidate {
    #[serde(flatten)]
    pub staff: StaffMember,
    pub password_hash: String,
    pub session_epoch: i64,
}

/// A login throttle's fixed window for one key.
#[derive(Debug, Clone, Deserialize)]
pub struct LoginAttempts {
    pub key: String,
    pub failures: i64,
    pub window_started_at: Timestamp,
}

pub const API_KEY_COLUMNS: &str =
    "id, name, key_prefix, rate_limit, created_by, created_at, last_used_at, revoked_at";

/// An integration key (only its SHA-256 is stored, and never selected).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub rate_limit: i64,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_lists() {
        assert!(TICKET_COLUMNS.starts_with("id, ticket_number, subject"));
        assert!(T_TICKET_COLUMNS.ends_with("t.version, t.requester_verified"));
        assert_eq!(
            M_MESSAGE_COLUMNS.as_str(),
            "m.id, m.author_type, m.staff_id, m.body, m.internal, m.created_at"
        );
    }

    #[test]
    fn rows_read_what_d1_returns() {
        let m: Message = serde_json::from_str(
            r#"{"id":1,"author_type":"staff","staff_id":2,"body":"b","internal":1,"created_at":"2026-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert!(m.internal);
        assert_eq!(m.author_type, MessageAuthor::Staff);
    }
}
