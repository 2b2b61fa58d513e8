//! Tickets: statuses and priorities, ticket numbers, and who acts on a ticket or
//! writes in its conversation. The lifecycle (which action moves a ticket from which
//! status) is `lifecycle.rs`; validated input is `ticket_input.rs`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    /// Staff only: the public endpoint cannot raise a ticket to urgent.
    Urgent,
}

impl Priority {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    pub const PUBLIC: [Priority; 3] = [Priority::Low, Priority::Medium, Priority::High];
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    /// The order SQL sorts priorities by (the store builds its CASE from this).
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 1,
            Priority::Medium => 2,
            Priority::High => 3,
            Priority::Urgent => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Assigned,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Assigned,
        Status::Resolved,
        Status::Closed,
    ];

    /// Being worked: not yet resolved or closed (the "Open" and "Mine" queues).
    pub const ACTIVE: [Status; 2] = [Status::Open, Status::Assigned];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Assigned => "assigned",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }
}

/// A ticket number, `TKT-YYYY-NNNN`: a sequence per year of at least four digits
/// (`TKT-2027-10000` follows `TKT-2027-9999`). Only built valid: by `parse` (routes,
/// stored rows) or `new`. The store writes the same text in SQL
/// (`printf('TKT-%d-%04d', ...)`); the integration tests hold both to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketNumber(String);

impl TicketNumber {
    pub fn new(year: i32, seq: i64) -> Self {
        Self(format!("TKT-{year}-{seq:04}"))
    }

    /// A well-formed number: `TKT-`, a four-digit year, `-`, the sequence (>= 1) as
    /// `%04d` (so `TKT-2026-008` and `TKT-2026-00008` are not numbers).
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("TKT-")?;
        let (year, seq) = rest.split_once('-')?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || seq.len() < 4 || seq.len() > 15 || !digits(seq) {
            return None;
        }
        let seq: i64 = seq.parse().ok()?;
        let number = Self::new(year.parse().ok()?, seq);
        (seq >= 1 && number.0 == text).then_some(number)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TicketNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TicketNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
        TicketNumber::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a ticket number: {text}")))
    }
}

/// Who caused a change, as recorded in `ticket_events` (`actor_type`, `actor_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An anonymous caller of the public API.
    Public,
    /// The customer, through their status link.
    Customer,
    /// A trusted integration, by API key id.
    Integration(i64),
    Staff(i64),
}

impl Actor {
    pub fn kind(self) -> &'static str {
        match self {
            Actor::Public => "public",
            Actor::Customer => "customer",
            Actor::Integration(_) => "integration",
            Actor::Staff(_) => "staff",
        }
    }

    pub fn id(self) -> Option<i64> {
        match self {
            Actor::Public | Actor::Customer => None,
            Actor::Integration(id) | Actor::Staff(id) => Some(id),
        }
    }

    pub fn staff_id(self) -> Option<i64> {
        match self {
            Actor::Staff(id) => Some(id),
            _ => None,
        }
    }
}

/// Who wrote a message in a ticket's conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageAuthor {
    Customer,
    Staff,
    System,
}

impl MessageAuthor {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageAuthor::Customer => "customer",
            MessageAuthor::Staff => "staff",
            MessageAuthor::System => "system",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers() {
        assert_eq!(TicketNumber::new(2026, 8).as_str(), "TKT-2026-0008");
        assert_eq!(TicketNumber::new(2026, 100).as_str(), "TKT-2026-0100");
        assert_eq!(TicketNumber::new(2027, 12345).as_str(), "TKT-2027-12345");
        assert_eq!(
            TicketNumber::parse("TKT-2026-0008"),
            Some(TicketNumber::new(2026, 8))
        );
        assert_eq!(
            TicketNumber::parse("TKT-2027-12345"),
            Some(TicketNumber::new(2027, 12345))
        );
        for bad in [
            "TKT-2026-008",
            "TKT-2026-00008",
            "TKT-2026-0000",
            "tkt-2026-0008",
            "TKT-26-0008",
            "TKT-2026-0008x",
            "create",
            "TKT-2026--008",
        ] {
            assert_eq!(TicketNumber::parse(bad), None, "{bad}");
        }
    }
}
