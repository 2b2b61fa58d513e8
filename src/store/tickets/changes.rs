//! Guarded changes of a ticket: lifecycle actions and edits. Each is one batch: the
//! staff session's check (`store::guard`), then the event is inserted and the row
//! updated under the same WHERE (both see the same state inside the transaction, and
//! both need the session to hold), then the current row is read back so a refusal
//! can be explained.

use serde_json::Value;

use super::TicketRef;
use crate::domain::lifecycle::Action;
use crate::domain::ticket::{Actor, Status};
use crate::domain::ticket_input::TicketEdit;
use crate::domain::time::Timestamp;
use crate::store::guard::{Guard, Guarded};
use crate::store::rows::{Ticket, TICKET_COLUMNS, T_TICKET_COLUMNS};
use crate::store::{int, prepare, status_in, text, time, Database};

/// The outcome of a guarded change.
pub enum Change {
    Done(Ticket),
    /// Nothing changed; this is the ticket as it is now (`None`: no such ticket),
    /// with whether the target staff member is active (assign only).
    Refused {
        current: Option<Ticket>,
        assignee_active: bool,
    },
}

/// The SQL of one guarded change.
struct ChangeSql<'a> {
    /// Extra WHERE condition besides the id and version: what the state must be.
    guard: &'a str,
    event_kind: &'a str,
    /// A JSON expression over the old row `t` for the event's data.
    event_data: &'a str,
    /// The SET list of the update.
    set: &'a str,
}

/// Runs a change (see the module comment), after the staff session's check
/// (`session`), which every statement carries too. Shared parameters: ?1 the ticket's
/// id or number (`TicketRef::condition`), ?2 now, ?3 actor type, ?4 actor id, ?5
/// version (or NULL), ?6 assignee; edits bind theirs after, and the session's
/// condition comes last.
async fn guarded_change(
    db: &Database,
    session: &Guard<'_>,
    ticket: &TicketRef,
    sql: ChangeSql<'_>,
    mut params: Vec<Value>,
    assignee: Option<i64>,
) -> worker::Result<Guarded<Change>> {
    let ChangeSql {
        guard,
        event_kind,
        event_data,
        set,
    } = sql;
    let (which, reference) = ticket.condition();
    let session_holds = session.condition(&mut params);
    let where_sql =
        format!("{which} AND (?5 IS NULL OR t.version = ?5) AND {guard} AND {session_holds}");
    let event_sql = format!(
        "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
         SELECT t.id, '{event_kind}', ?3, ?4, {event_data}, ?2 FROM support_tickets t WHERE {where_sql}"
    );
    let update_sql = format!(
        "UPDATE support_tickets AS t SET {set}, version = t.version + 1, updated_at = ?2
         WHERE {where_sql} RETURNING {}",
        TICKET_COLUMNS.as_str()
    );
    let event = prepare(db, &event_sql, &params)?;
    let update = prepare(db, &update_sql, &params)?;
    let mut current_params = vec![reference, int(assignee)];
    let current_holds = session.condition(&mut current_params);
    let current = format!(
        "SELECT {}, EXISTS (SELECT 1 FROM crm_staff WHERE id = ?2 AND active = 1) AS assignee_active
         FROM support_tickets t WHERE {which} AND {current_holds}",
        T_TICKET_COLUMNS.as_str()
    );
    let current = db.prepare(&current, &current_params)?;
    session
        .run(db, vec![event, update, current])
        .await?
        .read(|results| {
            if let Some(ticket) = results[1].rows::<Ticket>()?.into_iter().next() {
                return Ok(Change::Done(ticket));
            }
            #[derive(serde::Deserialize)]
            struct Current {
                #[serde(flatten)]
                ticket: Ticket,
                assignee_active: i64,
            }
            let current = results[2].rows::<Current>()?.into_iter().next();
            Ok(Change::Refused {
                assignee_active: current.as_ref().is_some_and(|c| c.assignee_active == 1),
                current: current.map(|c| c.ticket),
            })
        })
}

fn shared_params(
    ticket: &TicketRef,
    now: Timestamp,
    actor: Actor,
    version: Option<i64>,
    assignee: Option<i64>,
) -> Vec<Value> {
    vec![
        ticket.condition().1,
        time(now),
        text(actor.kind()),
        int(actor.id()),
        int(version),
        int(assignee),
    ]
}

/// Applies a lifecycle action, by the guarded session's staff member, if the ticket's
/// status allows it (and, for assign, the staff member is active). The statuses and
/// targets come from the domain's state machine; SQL only evaluates them atomically.
pub async fn act(
    db: &Database,
    session: &Guard<'_>,
    ticket: &TicketRef,
    action: Action,
    assignee: Option<i64>,
    version: Option<i64>,
    now: Timestamp,
) -> worker::Result<Guarded<Change>> {
    let target = format!(
        "(CASE WHEN t.assigned_to IS NULL THEN '{}' ELSE '{}' END)",
        action.target(false).as_str(),
        action.target(true).as_str()
    );
    let mut guard = status_in(action.allowed_from());
    let (set_sql, data_sql) = match action {
        Action::Assign => {
            guard.push_str(" AND EXISTS (SELECT 1 FROM crm_staff WHERE id = ?6 AND active = 1)");
            (
                format!("status = {target}, assigned_to = ?6, assigned_at = ?2"),
                format!("json_object('from', t.status, 'to', {target}, 'assigned_to', ?6, 'previous_assignee', t.assigned_to)"),
            )
        }
        Action::Unassign => (
            format!("status = {target}, assigned_to = NULL, assigned_at = NULL"),
            format!(
                "json_object('from', t.status, 'to', {target}, 'previous_assignee', t.assigned_to)"
            ),
        ),
        Action::Resolve => (
            format!("status = {target}, resolved_at = ?2"),
            format!("json_object('from', t.status, 'to', {target})"),
        ),
        Action::Close => (
            format!("status = {target}, closed_at = ?2"),
            format!("json_object('from', t.status, 'to', {target})"),
        ),
        Action::Reopen => (
            format!("status = {target}, resolved_at = NULL, closed_at = NULL"),
            format!("json_object('from', t.status, 'to', {target})"),
        ),
    };
    let actor = Actor::Staff(session.staff_id);
    let params = shared_params(ticket, now, actor, version, assignee);
    let sql = ChangeSql {
        guard: &guard,
        event_kind: action.past_tense(),
        event_data: &data_sql,
        set: &set_sql,
    };
    guarded_change(db, session, ticket, sql, params, assignee).await
}

/// Edits subject, description, priority or category of a ticket that is not closed,
/// by the guarded session's staff member.
pub async fn edit(
    db: &Database,
    session: &Guard<'_>,
    ticket: &TicketRef,
    edit: &TicketEdit,
    version: Option<i64>,
    now: Timestamp,
) -> worker::Result<Guarded<Change>> {
    let actor = Actor::Staff(session.staff_id);
    let mut params = shared_params(ticket, now, actor, version, None);
    let mut sets = Vec::new();
    let mut changes = Vec::new();
    let mut push = |column: &str, value: Value| {
        params.push(value);
        let n = params.len();
        sets.push(format!("{column} = ?{n}"));
        changes.push(format!(
            "'{column}', json_object('from', t.{column}, 'to', ?{n})"
        ));
    };
    if let Some(v) = &edit.subject {
        push("subject", text(v));
    }
    if let Some(v) = &edit.description {
        push("description", text(v));
    }
    if let Some(v) = edit.priority {
        push("priority", text(v.as_str()));
    }
    if let Some(v) = &edit.category {
        push("category", text(v));
    }
    let guard = format!("t.status != '{}'", Status::Closed.as_str());
    let data_sql = format!(
        "json_object('changes', json_object({}))",
        changes.join(", ")
    );
    let set = sets.join(", ");
    let sql = ChangeSql {
        guard: &guard,
        event_kind: "updated",
        event_data: &data_sql,
        set: &set,
    };
    guarded_change(db, session, ticket, sql, params, None).await
}

/// Records that the requester proved control of the ticket's email address (they
/// opened a link that was emailed to them), with an event, once.
pub async fn mark_requester_verified(db: &Database, id: i64, now: Timestamp) -> worker::Result<()> {
    let params = [int(Some(id)), time(now)];
    let unverified = "t.id = ?1 AND t.requester_verified = 0";
    let event = db.prepare(
        &format!(
            "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
             SELECT t.id, 'requester_verified', '{}', NULL, json_object('by', 'emailed_link'), ?2
             FROM support_tickets t WHERE {unverified}",
            Actor::Customer.kind()
        ),
        &params,
    )?;
    let update = db.prepare(
        &format!("UPDATE support_tickets AS t SET requester_verified = 1 WHERE {unverified}"),
        &params[..1],
    )?;
    db.batch(vec![event, update]).await?;
    Ok(())
}
