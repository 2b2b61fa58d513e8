//! The CRM ticket list query: filters, sort and keyset cursor, parsed from the URL's
//! query pairs. Keyset pagination on (sort key, id) stays stable while tickets are
//! being created: new tickets never shift the pages a client is walking.

use serde::{Deserialize, Serialize};

use super::encoding::{base64url, base64url_decode};
use super::ticket::{Priority, Status};
use super::time::Timestamp;
use super::validation::{FieldError, ValidationError};

pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    CreatedAt,
    UpdatedAt,
    Priority,
}

impl SortField {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "created_at" => Some(SortField::CreatedAt),
            "updated_at" => Some(SortField::UpdatedAt),
            "priority" => Some(SortField::Priority),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Staff(i64),
    Unassigned,
}

/// A row's value of the sort field: a timestamp, or the priority's rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortKey {
    Rank(i64),
    Time(Timestamp),
}

/// Where the previous page ended: the last row's sort key and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: SortField,
    #[serde(rename = "o")]
    pub order: Order,
    #[serde(rename = "k")]
    pub key: SortKey,
    #[serde(rename = "i")]
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        base64url(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = base64url_decode(text)?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        let key_ok = matches!(
            (cursor.sort, cursor.key),
            (SortField::Priority, SortKey::Rank(_))
                | (
                    SortField::CreatedAt | SortField::UpdatedAt,
                    SortKey::Time(_)
                )
        );
        key_ok.then_some(cursor)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketQuery {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub category: Option<String>,
    pub assigned_to: Option<AssigneeFilter>,
    pub customer_email: Option<String>,
    pub text: Option<String>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    pub sort: SortField,
    pub order: Order,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    pub include_total: bool,
}

impl TicketQuery {
    /// Parses the query pairs. `me` is the caller, for `assigned_to=me`. Lists may be
    /// given comma-separated or repeated (`status=open,assigned` or `status=open&status=assigned`).
    /// Unknown parameters are ignored.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        me: i64,
    ) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let mut q = TicketQuery {
            statuses: vec![],
            priorities: vec![],
            category: None,
            assigned_to: None,
            customer_email: None,
            text: None,
            created_after: None,
            created_before: None,
            sort: SortField::CreatedAt,
            order: Order::Desc,
            limit: DEFAULT_LIMIT,
            cursor: None,
            include_total: false,
        };
        let mut cursor_text = None;
        for (name, raw) in pairs {
            let value = raw.trim();
            let mut bad = |code: &'static str, message: String| {
                errors.push(FieldError::new(name, code, message));
            };
            match name {
                "status" => {
                    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        match Status::parse(part) {
                            Some(s) if !q.statuses.contains(&s) => q.statuses.push(s),
                            Some(_) => {}
                            None => bad(
                                "invalid_choice",
                                "status must be one of: open, assigned, resolved, closed".into(),
                            ),
                        }
                    }
                }
                "priority" => {
                    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        match Priority::parse(part) {
                            Some(p) if !q.priorities.contains(&p) => q.priorities.push(p),
                            Some(_) => {}
                            None => bad(
                                "invalid_choice",
                                "priority must be one of: low, medium, high, urgent".into(),
                            ),
                        }
                    }
                }
                "category" if !value.is_empty() => q.category = Some(value.to_ascii_lowercase()),
                "assigned_to" => match value {
                    "me" => q.assigned_to = Some(AssigneeFilter::Staff(me)),
                    "none" => q.assigned_to = Some(AssigneeFilter::Unassigned),
                    id => match id.parse::<i64>() {
                        Ok(id) if id > 0 => q.assigned_to = Some(AssigneeFilter::Staff(id)),
                        _ => bad(
                            "invalid_choice",
                            "assigned_to must be a staff id, me or none".into(),
                        ),
                    },
                },
                "customer_email" if !value.is_empty() => q.customer_email = Some(value.to_owned()),
                "q" if !value.is_empty() => {
                    if value.chars().count() > MAX_QUERY_CHARS {
                        bad(
                            "too_long",
                            format!("q must be at most {MAX_QUERY_CHARS} characters"),
                        );
                    } else {
                        q.text = Some(value.to_owned());
                    }
                }
                "created_after" | "created_before" => match Timestamp::parse(value) {
                    Some(at) if name == "created_after" => q.created_after = Some(at),
                    Some(at) => q.created_before = Some(at),
                    None => bad(
                        "invalid_timestamp",
                        format!("{name} must be an RFC 3339 timestamp"),
                    ),
                },
                "sort" => match SortField::parse(value) {
                    Some(s) => q.sort = s,
                    None => bad(
                        "invalid_choice",
                        "sort must be one of: created_at, updated_at, priority".into(),
                    ),
                },
                "order" => match value {
                    "asc" => q.order = Order::Asc,
                    "desc" => q.order = Order::Desc,
                    _ => bad("invalid_choice", "order must be asc or desc".into()),
                },
                "limit" => match value.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => q.limit = n,
                    _ => bad(
                        "invalid_integer",
                        format!("limit must be an integer from 1 to {MAX_LIMIT}"),
                    ),
                },
                "cursor" if !value.is_empty() => cursor_text = Some(value.to_owned()),
                "include_total" => match value {
                    "true" | "1" => q.include_total = true,
                    "false" | "0" | "" => q.include_total = false,
                    _ => bad(
                        "invalid_choice",
                        "include_total must be true or false".into(),
                    ),
                },
                _ => {}
            }
        }
        if let Some(text) = cursor_text {
            match Cursor::decode(&text) {
                Some(c) if c.sort == q.sort && c.order == q.order => q.cursor = Some(c),
                Some(_) => errors.push(FieldError::new(
                    "cursor",
                    "invalid_cursor",
                    "cursor belongs to another sort order; start again without it",
                )),
                None => errors.push(FieldError::new(
                    "cursor",
                    "invalid_cursor",
                    "cursor is not one this API issued",
                )),
            }
        }
        if errors.is_empty() {
            Ok(q)
        } else {
            Err(ValidationError::from_details(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<TicketQuery, ValidationError> {
        TicketQuery::parse(query.iter().copied(), 7)
    }

    #[test]
    fn defaults() {
        let q = parse(&[]).unwrap();
        assert_eq!(q.sort, SortField::CreatedAt);
        assert_eq!(q.order, Order::Desc);
        assert_eq!(q.limit, 25);
        assert!(q.statuses.is_empty() && q.cursor.is_none() && !q.include_total);
    }

    #[test]
    fn filters() {
        let q = parse(&[
            ("status", "open, assigned"),
            ("status", "open"),
            ("priority", "urgent"),
            ("assigned_to", "me"),
            ("q", " printer "),
            ("created_after", "2026-01-01T00:00:00+01:00"),
            ("limit", "100"),
            ("include_total", "true"),
            ("utm_source", "ignored"),
        ])
        .unwrap();
        assert_eq!(q.statuses, [Status::Open, Status::Assigned]);
        assert_eq!(q.priorities, [Priority::Urgent]);
        assert_eq!(q.assigned_to, Some(AssigneeFilter::Staff(7)));
        assert_eq!(q.text.as_deref(), Some("printer"));
        assert_eq!(
            q.created_after.map(Timestamp::rfc3339).as_deref(),
            Some("2025-12-31T23:00:00.000Z")
        );
        assert_eq!(q.limit, 100);
        assert!(q.include_total);
        assert_eq!(
            parse(&[("assigned_to", "none")]).unwrap().assigned_to,
            Some(AssigneeFilter::Unassigned)
        );
    }

    #[test]
    fn bad_values_are_reported_per_parameter() {
        let e = parse(&[
            ("status", "pending"),
            ("limit", "101"),
            ("sort", "subject"),
            ("assigned_to", "-1"),
            ("created_before", "yesterday"),
        ])
        .unwrap_err();
        let fields: Vec<&str> = e.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            ["status", "limit", "sort", "assigned_to", "created_before"]
        );
        assert!(parse(&[("limit", "0")]).is_err());
        assert!(parse(&[("include_total", "yes")]).is_err());
        assert!(parse(&[("include_total", "0")]).is_ok());
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_sort() {
        let cursor = Cursor {
            sort: SortField::Priority,
            order: Order::Asc,
            key: SortKey::Rank(3),
            id: 42,
        };
        let text = cursor.encode();
        let q = parse(&[("sort", "priority"), ("order", "asc"), ("cursor", &text)]).unwrap();
        assert_eq!(q.cursor, Some(cursor));
        let e = parse(&[("cursor", &text)]).unwrap_err();
        assert_eq!(e.details[0].code, "invalid_cursor");
        assert!(parse(&[("cursor", "not-a-cursor")]).is_err());
        let forged = Cursor {
            sort: SortField::CreatedAt,
            order: Order::Desc,
            key: SortKey::Rank(5),
            id: 1,
        };
        // The text of a cursor is what older clients hold: keep its shape.
        let time = Cursor {
            sort: SortField::CreatedAt,
            order: Order::Desc,
            key: SortKey::Time(Timestamp::parse("2026-01-01T00:00:00Z").unwrap()),
            id: 9,
        };
        assert_eq!(
            serde_json::to_string(&time).unwrap(),
            r#"{"s":"created_at","o":"desc","k":"2026-01-01T00:00:00.000Z","i":9}"#
        );
        assert!(parse(&[("cursor", &forged.encode())]).is_err());
    }
}
