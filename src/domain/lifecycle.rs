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

impl Action {
    /// The event kind an action records (`ticket_events.kind`), and the word its
    /// answers use ("Ticket resolved").
    pub fn past_tense(self) -> &'static str {
        match self {
            Action::Assign => "assigned",
            Action::Unassign => "unassigned",
            Action::Resolve => "resolved",
            Action::Close => "closed",
            Action::Reopen => "reopened",
        }
    }
}

/// What a customer's reply does to a ticket, by its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyEffect {
    /// Added; the ticket stays as it is.
    Kept,
    /// Added, and the ticket is reopened (to where `Action::Reopen` takes it): the
    /// customer says the problem is not solved.
    Reopens,
    /// Refused: a closed ticket takes no more replies (a new ticket is the way).
    Refused,
}

pub fn customer_reply_effect(status: Status) -> ReplyEffect {
    match status {
        Status::Open | Status::Assigned => ReplyEffect::Kept,
        Status::Resolved => ReplyEffect::Reopens,
        Status::Closed => ReplyEffect::Refused,
    }
}

/// The statuses in which a customer reply has `effect`.
pub fn statuses_where_reply(effect: ReplyEffect) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|s| customer_reply_effect(*s) == effect)
        .collect()
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
    }

    #[test]
    fn a_customer_reply_reopens_only_what_reopen_may_reopen() {
        for status in statuses_where_reply(ReplyEffect::Reopens) {
            assert!(
                Action::Reopen.allowed_from().contains(&status),
                "{status:?}"
            );
        }
        assert_eq!(statuses_where_reply(ReplyEffect::Refused), [Status::Closed]);
        assert_eq!(
            statuses_where_reply(ReplyEffect::Kept),
            [Status::Open, Status::Assigned]
        );
        assert_eq!(Action::Resolve.past_tense(), "resolved");
    }
}
