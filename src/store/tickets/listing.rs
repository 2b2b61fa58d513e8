//! The CRM list: filters, sort and keyset pagination as one query (and the total,
//! when asked for, in the same round trip).

use serde_json::Value;

use crate::domain::listing::{AssigneeFilter, Order, SortField, SortKey, TicketQuery};
use crate::domain::ticket::Priority;
use crate::store::rows::{Ticket, T_TICKET_COLUMNS};
use crate::store::{int, status_in, text, time, Database, Params};

/// The SQL expression of a ticket's priority rank (`Priority::rank`).
fn priority_rank_sql() -> String {
    let arms: String = Priority::ALL
        .iter()
        .map(|p| format!(" WHEN '{}' THEN {}", p.as_str(), p.rank()))
        .collect();
    format!("(CASE t.priority{arms} END)")
}

/// One page of the list (one row more than the limit, when there is a next page),
/// and the total when asked for.
pub async fn page(db: &Database, q: &TicketQuery) -> worker::Result<(Vec<Ticket>, Option<i64>)> {
    let mut params = Params::default();
    let mut filters: Vec<String> = vec!["1 = 1".into()];
    if !q.statuses.is_empty() {
        filters.push(status_in(&q.statuses));
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
    if let Some(after) = q.created_after {
        filters.push(format!("t.created_at > {}", params.bind(time(after))));
    }
    if let Some(before) = q.created_before {
        filters.push(format!("t.created_at < {}", params.bind(time(before))));
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
        let key = match cursor.key {
            SortKey::Time(at) => params.bind(time(at)),
            SortKey::Rank(rank) => params.bind(Value::from(rank)),
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
    #[derive(serde::Deserialize)]
    struct Total {
        total: i64,
    }
    let total = match results.get(1) {
        Some(r) => r.rows::<Total>()?.first().map(|t| t.total),
        None => None,
    };
    Ok((tickets, total))
}

/// The cursor key of a row for the given sort.
pub fn sort_key(ticket: &Ticket, sort: SortField) -> SortKey {
    match sort {
        SortField::CreatedAt => SortKey::Time(ticket.created_at),
        SortField::UpdatedAt => SortKey::Time(ticket.updated_at),
        SortField::Priority => SortKey::Rank(ticket.priority.rank()),
    }
}
