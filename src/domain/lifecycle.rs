//! The ticket lifecycle, one state machine for every route:
//!
//! ```text
//!            assign                resolve               close
//!   open ──────────────▶ assigned ─────────▶ resolved ─────────▶ closed
//!    │ ◀────────────────  │  ▲ assign           │                  │
//!    │      unassign      └──┘ (reassign)       │ reopen           │ reopen
//!    │ resolve / close                           ▼                  ▼
//!    └──────────────────────────────────▶  open, or assigned when someone is assigned
//! ```
//!
//! `open` and `assigned` may be resolved or closed directly (a duplicate, spam).
//! `resolved` and `closed` tickets are reopened before they are assigned again;
//! closed tickets are also reopened before their fields are edited.
//! Timestamps: `assigned_at` on assign, `resolved_at` on resolve, `closed_at` on
//! close; reopening clears `resolved_at` and `closed_at`.

use super::ticket::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Assign,
    Unassign,
    Resolve,
    Close,
    Reopen,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Assign,
        Action::Unassign,
        Action::Resolve,
        Action::Close,
        Action::Reopen,
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Unassign => "unassign",
            Action::Resolve => "resolve",
            Action::Close => "close",
            Action::Reopen => "reopen",
        }
    }

    /// The statuses this action may start from.
    pub fn allowed_from(self) -> &'static [Status] {
        match self {
            Action::Assign => &[Status::Open, Status::Assigned],
            Action::Unassign => &[Status::Assigned],
            Action::Resolve => &[Status::Open, Status::Assigned],
            Action::Close => &[Status::Open, Status::Assigned, Status::Resolved],
            Action::Reopen => &[Status::Resolved, Status::Closed],
        }
    }

    /// The status after the action; `has_assignee` is whether the ticket keeps an
    /// assignee (only reopen depends on it).
    pub fn target(self, has_assignee: bool) -> Status {
        match self {
            Action::Assign => Status::Assigned,
            Action::Unassign => Status::Open,
            Action::Resolve => Status::Resolved,
            Action::Close => Status::Closed,
            Action::Reopen if has_assignee => Status::Assigned,
            Action::Reopen => Status::Open,
        }
    }
}

/// The actions a ticket in `status` allows, for the 409 that refuses another one.
pub fn allowed_actions(status: Status) -> Vec<&'static str> {
    Action::ALL
        .into_iter()
        .filter(|a| a.allowed_from().contains(&status))
        .map(Action::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path() {
        let mut status = Status::Open;
        for action in [Action::Assign, Action::Resolve, Action::Close] {
            assert!(
                action.allowed_from().contains(&status),
                "{action:?} from {status:?}"
            );
            status = action.target(true);
        }
        assert_eq!(status, Status::Closed);
    }

    #[test]
    fn reopen_returns_to_the_assignee_when_there_is_one() {
        assert_eq!(Action::Reopen.target(true), Status::Assigned);
        assert_eq!(Action::Reopen.target(false), Status::Open);
    }

    #[test]
    fn refusals_name_what_is_allowed() {
        assert_eq!(
            allowed_actions(Status::Open),
            ["assign", "resolve", "close"]
        );
        assert_eq!(
            allowed_actions(Status::Assigned),
            ["assign", "unassign", "resolve", "close"]
        );
        assert_eq!(allowed_actions(Status::Resolved), ["close", "reopen"]);
        assert_eq!(allowed_actions(Status::Closed), ["reopen"]);
        assert!(!Action::Assign.allowed_from().contains(&Status::Closed));
        assert_eq!(Action::parse("resolve"), Some(Action::Resolve));
        assert_eq!(Action::parse("delete"), None);
    }
}
