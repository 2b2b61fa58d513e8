//! Tickets and their audit trail.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::messages::Message;
use super::{int, prepare, text, Database, Params};
use crate::domain::lifecycle::Action;
use crate::domain::listing::{priority_rank, AssigneeFilter, Order, SortField, TicketQuery};
use crate::domain::ticket::{Priority, Status, TicketEdit};

/// Every column of a ticket, in `Ticket`'s order.
pub(super) const TICKET_FIELDS: [&str; 18] = [
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
];

/// `id, ticket_number, ...`: every ticket column, built once per isolate.
pub(super) static TICKET_COLUMNS: LazyLock<String> = LazyLock::new(|| TICKET_FIELDS.join(", "));

/// `t.id, t.ticket_number, ...`: the same, of the table aliased `t`.
pub(super) static T_TICKET_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    TICKET_FIELDS
        .iter()
        .map(|f| format!("t.{f}"))
        .collect::<Vec<_>>()
        .join(", ")
});

/// Who caused a change, as recorded in `ticket_events`.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    /// An anonymous caller of the public API.
    Public,
    /// A trusted integration, by API key id.
    Integration(i64),
    Staff(i64),
}

impl Actor {
    pub(super) fn kind(self) -> &'static str {
        match self {
            Actor::Public => "public",
            Actor::Integration(_) => "integration",
            Actor::Staff(_) => "staff",
        }
    }

    pub(super) fn id(self) -> Option<i64> {
        match self {
            Actor::Public => None,
            Actor::Integration(id) | Actor::Staff(id) => Some(id),
        }
    }
}

/// A ticket row, as the CRM sees it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ticket {
    pub id: i64,
    pub ticket_number: String,
    pub subject: String,
    pub description: String,
    pub user_id: Option<i64>,
    pub customer_name: Option<String>,
    pub customer_email: String,
    pub priority: String,
    pub category: Option<String>,
    pub status: String,
    pub assigned_to: Option<i64>,
    pub assigned_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Ticket {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Open)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketEvent {
    pub id: i64,
    pub kind: String,
    pub actor_type: String,
    pub actor_id: Option<i64>,
    #[serde(deserialize_with = "json_text")]
    pub data: Value,
    pub created_at: String,
}

/// `ticket_events.data` is JSON stored as text.
fn json_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    let raw: String = Deserialize::deserialize(d)?;
    Ok(serde_json::from_str(&raw).unwrap_or(Value::Null))
}

/// A ticket is addressed by id or by ticket number.
#[derive(Debug, Clone)]
pub enum TicketRef {
    Id(i64),
    Number(String),
}

impl TicketRef {
    fn condition(&self) -> (&'static str, Value) {
        match self {
            TicketRef::Id(id) => ("t.id = ?1", int(Some(*id))),
            TicketRef::Number(n) => ("t.ticket_number = ?1", text(n)),
        }
    }
}

pub async fn by_number(db: &Database, number: &str) -> worker::Result<Option<Ticket>> {
    db.prepare(
        &format!(
            "SELECT {} FROM support_tickets t WHERE t.ticket_number = ?1",
            T_TICKET_COLUMNS.as_str()
        ),
        &[text(number)],
    )?
    .first()
    .await
}

/// The ticket with its whole event timeline and conversation (internal notes
/// included), in one round trip.
pub async fn get_with_events(
    db: &Database,
    reference: &TicketRef,
) -> worker::Result<Option<(Ticket, Vec<TicketEvent>, Vec<Message>)>> {
    let (condition, value) = reference.condition();
    let statements = [
        format!(
            "SELECT {} FROM support_tickets t WHERE {condition}",
            T_TICKET_COLUMNS.as_str()
        ),
        format!(
            "SELECT e.id, e.kind, e.actor_type, e.actor_id, e.data, e.created_at
             FROM ticket_events e JOIN support_tickets t ON t.id = e.ticket_id
             WHERE {condition} ORDER BY e.id"
        ),
        format!(
            "SELECT m.id, m.author_type, m.staff_id, m.body, m.internal, m.created_at
             FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id
             WHERE {condition} ORDER BY m.id"
        ),
    ]
    .into_iter()
    .map(|sql| db.prepare(&sql, std::slice::from_ref(&value)))
    .collect::<worker::Result<Vec<_>>>()?;
    let results = db.batch(statements).await?;
    let Some(ticket) = results[0].rows::<Ticket>()?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some((ticket, results[1].rows()?, results[2].rows()?)))
}

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

/// The SQL expression for a status, as a priority rank.
fn priority_rank_sql() -> String {
    let arms: String = Priority::ALL
        .iter()
        .map(|p| format!(" WHEN '{}' THEN {}", p.as_str(), priority_rank(*p)))
        .collect();
    format!("(CASE t.priority{arms} END)")
}

/// Runs a guarded change as one batch: the event is inserted and the row updated
/// under the same WHERE (both see the same state inside the transaction), then the
/// current row is read back so a refusal can be explained.
/// The SQL of one guarded change (see `guarded_change`).
struct ChangeSql<'a> {
    /// Extra WHERE condition besides the id and version: what the state must be.
    guard: &'a str,
    event_kind: &'a str,
    /// A JSON expression over the old row `t` for the event's data.
    event_data: &'a str,
    /// The SET list of the update.
    set: &'a str,
}

async fn guarded_change(
    db: &Database,
    id: i64,
    sql: ChangeSql<'_>,
    params: Vec<Value>,
    assignee: Option<i64>,
) -> worker::Result<Change> {
    let ChangeSql {
        guard,
        event_kind,
        event_data: event_data_sql,
        set: set_sql,
    } = sql;
    // Shared parameters: ?1 id, ?2 now, ?3 actor type, ?4 actor id, ?5 version (or NULL), ?6 assignee.
    let where_sql = format!("t.id = ?1 AND (?5 IS NULL OR t.version = ?5) AND {guard}");
    let event_sql = format!(
        "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
         SELECT t.id, '{event_kind}', ?3, ?4, {event_data_sql}, ?2 FROM support_tickets t WHERE {where_sql}"
    );
    let update_sql = format!(
        "UPDATE support_tickets AS t SET {set_sql}, version = t.version + 1, updated_at = ?2
         WHERE {where_sql} RETURNING {}",
        TICKET_COLUMNS.as_str()
    );
    let event = prepare(db, &event_sql, &params)?;
    let update = prepare(db, &update_sql, &params)?;
    let current = format!(
        "SELECT {}, EXISTS (SELECT 1 FROM crm_staff WHERE id = ?2 AND active = 1) AS assignee_active
         FROM support_tickets t WHERE t.id = ?1",
        T_TICKET_COLUMNS.as_str()
    );
    let current = db.prepare(&current, &[int(Some(id)), int(assignee)])?;
    let results = db.batch(vec![event, update, current]).await?;
    if let Some(ticket) = results[1].rows::<Ticket>()?.into_iter().next() {
        return Ok(Change::Done(ticket));
    }
    let rows: Vec<Value> = results[2].rows()?;
    let assignee_active = rows.first().and_then(|r| r["assignee_active"].as_f64()) == Some(1.0);
    let current = rows
        .into_iter()
        .next()
        .and_then(|row| serde_json::from_value::<Ticket>(row).ok());
    Ok(Change::Refused {
        current,
        assignee_active,
    })
}

fn shared_params(
    id: i64,
    now: &str,
    actor: Actor,
    version: Option<i64>,
    assignee: Option<i64>,
) -> Vec<Value> {
    vec![
        int(Some(id)),
        text(now),
        text(actor.kind()),
        int(actor.id()),
        int(version),
        int(assignee),
    ]
}

fn statuses_sql(statuses: &[Status]) -> String {
    let list: Vec<String> = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("t.status IN ({})", list.join(", "))
}

/// Applies a lifecycle action if the ticket's status allows it (and, for assign,
/// the staff member is active). The statuses and targets come from the domain's
/// state machine; SQL only evaluates them atomically.
pub async fn act(
    db: &Database,
    id: i64,
    action: Action,
    assignee: Option<i64>,
    version: Option<i64>,
    actor: Actor,
    now: &str,
) -> worker::Result<Change> {
    let target = format!(
        "(CASE WHEN t.assigned_to IS NULL THEN '{}' ELSE '{}' END)",
        action.target(false).as_str(),
        action.target(true).as_str()
    );
    let mut guard = statuses_sql(action.allowed_from());
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
    let kind = match action {
        Action::Assign => "assigned",
        Action::Unassign => "unassigned",
        Action::Resolve => "resolved",
        Action::Close => "closed",
        Action::Reopen => "reopened",
    };
    let params = shared_params(id, now, actor, version, assignee);
    let sql = ChangeSql {
        guard: &guard,
        event_kind: kind,
        event_data: &data_sql,
        set: &set_sql,
    };
    guarded_change(db, id, sql, params, assignee).await
}

/// Edits subject, description, priority or category of a ticket that is not closed.
pub async fn edit(
    db: &Database,
    id: i64,
    edit: &TicketEdit,
    version: Option<i64>,
    actor: Actor,
    now: &str,
) -> worker::Result<Change> {
    let mut params = shared_params(id, now, actor, version, None);
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
    guarded_change(db, id, sql, params, None).await
}

/// One page of the CRM list, and the total when asked for.
pub async fn list(db: &Database, q: &TicketQuery) -> worker::Result<(Vec<Ticket>, Option<i64>)> {
    let mut params = Params::default();
    let mut filters: Vec<String> = vec!["1 = 1".into()];
    if !q.statuses.is_empty() {
        filters.push(statuses_sql(&q.statuses));
    }
    if !q.priorities.is_empty() {
        let list: Vec<String> = q
            .priorities
            .iter()
            .map(|p| params.bind(text(p.as_str())))
            .collect();
        filters.push(format!("t.priority IN ({})", list.join(", ")));
    }
    if let Some(category) = &q.category {
        filters.push(format!("t.category = {}", params.bind(text(category))));
    }
    match q.assigned_to {
        Some(AssigneeFilter::Staff(id)) => {
            filters.push(format!("t.assigned_to = {}", params.bind(int(Some(id)))))
        }
        Some(AssigneeFilter::Unassigned) => filters.push("t.assigned_to IS NULL".into()),
        None => {}
    }
    if let Some(email) = &q.customer_email {
        filters.push(format!(
            "t.customer_email = {} COLLATE NOCASE",
            params.bind(text(email))
        ));
    }
    if let Some(needle) = &q.text {
        let escaped = needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = params.bind(text(&format!("%{escaped}%")));
        let like: Vec<String> = [
            "ticket_number",
            "subject",
            "description",
            "customer_name",
            "customer_email",
        ]
        .iter()
        .map(|c| format!("t.{c} LIKE {p} ESCAPE '\\'"))
        .collect();
        filters.push(format!("({})", like.join(" OR ")));
    }
    if let Some(after) = &q.created_after {
        filters.push(format!("t.created_at > {}", params.bind(text(after))));
    }
    if let Some(before) = &q.created_before {
        filters.push(format!("t.created_at < {}", params.bind(text(before))));
    }
    let filter_sql = filters.join(" AND ");
    let filter_params = params.values.clone();

    let sort_sql = match q.sort {
        SortField::CreatedAt => "t.created_at".to_owned(),
        SortField::UpdatedAt => "t.updated_at".to_owned(),
        SortField::Priority => priority_rank_sql(),
    };
    let (direction, comparison) = match q.order {
        Order::Asc => ("ASC", ">"),
        Order::Desc => ("DESC", "<"),
    };
    let mut page_sql = filter_sql.clone();
    if let Some(cursor) = &q.cursor {
        let key = match &cursor.key {
            Value::String(s) => params.bind(text(s)),
            other => params.bind(Value::from(other.as_f64().unwrap_or(0.0))),
        };
        let id = params.bind(int(Some(cursor.id)));
        page_sql.push_str(&format!(
            " AND ({sort_sql}, t.id) {comparison} ({key}, {id})"
        ));
    }
    let limit = params.bind(Value::from(q.limit + 1));
    let page = db.prepare(
        &format!(
            "SELECT {} FROM support_tickets t WHERE {page_sql}
             ORDER BY {sort_sql} {direction}, t.id {direction} LIMIT {limit}",
            T_TICKET_COLUMNS.as_str()
        ),
        &params.values,
    )?;
    let mut statements = vec![page];
    if q.include_total {
        statements.push(db.prepare(
            &format!("SELECT count(*) AS total FROM support_tickets t WHERE {filter_sql}"),
            &filter_params,
        )?);
    }
    let results = db.batch(statements).await?;
    let tickets = results[0].rows::<Ticket>()?;
    let total = match results.get(1) {
        Some(r) => r
            .rows::<Value>()?
            .first()
            .and_then(|row| row["total"].as_f64())
            .map(|n| n as i64),
        None => None,
    };
    Ok((tickets, total))
}

/// The cursor key of a row for the given sort.
pub fn sort_key(ticket: &Ticket, sort: SortField) -> Value {
    match sort {
        SortField::CreatedAt => json!(ticket.created_at),
        SortField::UpdatedAt => json!(ticket.updated_at),
        SortField::Priority => json!(Priority::parse(&ticket.priority).map_or(0, priority_rank)),
    }
}

/// Dashboard counts in one round trip.
pub async fn stats(db: &Database) -> worker::Result<Value> {
    let by_status = db.prepare(
        "SELECT status AS k, count(*) AS n FROM support_tickets GROUP BY status",
        &[],
    )?;
    let by_priority = db.prepare(
        "SELECT priority AS k, count(*) AS n FROM support_tickets GROUP BY priority",
        &[],
    )?;
    let unassigned = db.prepare(
        "SELECT count(*) AS n FROM support_tickets WHERE status = 'open' AND assigned_to IS NULL",
        &[],
    )?;
    let results = db.batch(vec![by_status, by_priority, unassigned]).await?;
    let count = |row: &Value| row["n"].as_f64().unwrap_or(0.0) as i64;
    let counts = |rows: Vec<Value>, keys: &[&str]| {
        let mut map = serde_json::Map::new();
        for k in keys {
            map.insert((*k).to_owned(), json!(0));
        }
        for row in rows {
            if let Some(k) = row["k"].as_str() {
                map.insert(k.to_owned(), json!(count(&row)));
            }
        }
        Value::Object(map)
    };
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let priorities: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
    let status_rows: Vec<Value> = results[0].rows()?;
    let total: i64 = status_rows.iter().map(count).sum();
    let unassigned = results[2].rows::<Value>()?.first().map_or(0, count);
    Ok(json!({
        "total": total,
        "by_status": counts(status_rows, &statuses),
        "by_priority": counts(results[1].rows()?, &priorities),
        "unassigned_open": unassigned,
    }))
}
