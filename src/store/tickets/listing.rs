//! The CRM list: filters, sort and keyset pagination as one query (and the total,
//! when asked for, in the same round trip).

use serde_json::Value;

use crate::domain::listing::{AssigneeFilter, Order, SortField, SortKey, TicketQuery};
use crate::domain::ticket::Priority;
use crate::store::guard::{Guard, Guarded};
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

/// The index the page query names (`INDEXED BY`), where SQLite's planner would guess.
/// Among indexes that share a leading column (the status, or the assignee) it picks one
/// without weighing the sort: at 100,000 tickets (`make capacity`) the team's queue
/// (`status=open,assigned`) went from 0.3 ms to 35 ms of SQLite time when an index on
/// (status, updated_at) arrived, because only the index ordered by the sorted column
/// lets it read a page's worth of rows per status instead of every row of them. Each
/// name here is usable whatever else the query filters on: its leading column is
/// always constrained (an `IN`, `=` or `IS NULL`).
fn pinned_index(q: &TicketQuery) -> Option<&'static str> {
    if q.customer_email.is_some() {
        // The email index narrows to one customer's handful: the planner finds it.
        return None;
    }
    match (&q.assigned_to, q.statuses.is_empty(), q.sort) {
        (Some(_), false, _) => Some("idx_tickets_assigned_status"),
        (Some(_), true, _) => Some("idx_tickets_assigned_created"),
        (None, false, SortField::CreatedAt) => Some("idx_tickets_status_created"),
        (None, false, SortField::UpdatedAt) => Some("idx_tickets_status_updated"),
        (None, false, SortField::Priority) => Some("idx_tickets_status_priority"),
        (None, true, _) => None,
    }
}

/// One page of the list (one row more than the limit, when there is a next page),
/// and the total when asked for, after the session's check (`guard`).
pub async fn page(
    db: &Database,
    guard: &Guard<'_>,
    q: &TicketQuery,
) -> worker::Result<Guarded<(Vec<Ticket>, Option<i64>)>> {
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
    let pinned = pinned_index(q).map_or(String::new(), |i| format!(" INDEXED BY {i}"));
    let mut page_params = params.values;
    let page_guard = guard.condition(&mut page_params);
    let page = db.prepare(
        &format!(
            "SELECT {} FROM support_tickets t{pinned} WHERE {page_sql} AND {page_guard}
             ORDER BY {sort_sql} {direction}, t.id {direction} LIMIT {limit}",
            T_TICKET_COLUMNS.as_str()
        ),
        &page_params,
    )?;
    let mut statements = vec![page];
    if q.include_total {
        let mut total_params = filter_params;
        let total_guard = guard.condition(&mut total_params);
        statements.push(db.prepare(
            &format!(
                "SELECT count(*) AS total FROM support_tickets t WHERE {filter_sql} AND {total_guard}"
            ),
            &total_params,
        )?);
    }
    guard.run(db, statements).await?.read(|results| {
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
    })
}

/// The cursor key of a row for the given sort.
pub fn sort_key(ticket: &Ticket, sort: SortField) -> SortKey {
    match sort {
        SortField::CreatedAt => SortKey::Time(ticket.created_at),
        SortField::UpdatedAt => SortKey::Time(ticket.updated_at),
        SortField::Priority => SortKey::Rank(ticket.priority.rank()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::Status;

    fn query(pairs: &[(&str, &str)]) -> TicketQuery {
        TicketQuery::parse(pairs.iter().copied(), 7).unwrap()
    }

    #[test]
    fn the_page_names_the_index_its_filters_and_sort_need() {
        for (pairs, expected) in [
            (vec![], None),
            (vec![("sort", "priority")], None),
            (vec![("priority", "urgent")], None),
            (
                vec![("status", "open,assigned")],
                Some("idx_tickets_status_created"),
            ),
            (
                vec![("status", "closed"), ("sort", "updated_at")],
                Some("idx_tickets_status_updated"),
            ),
            (
                vec![("status", "open,assigned"), ("sort", "priority")],
                Some("idx_tickets_status_priority"),
            ),
            (
                vec![
                    ("status", "open"),
                    ("assigned_to", "me"),
                    ("sort", "priority"),
                ],
                Some("idx_tickets_assigned_status"),
            ),
            (
                vec![("status", "open"), ("assigned_to", "none")],
                Some("idx_tickets_assigned_status"),
            ),
            (
                vec![("assigned_to", "none")],
                Some("idx_tickets_assigned_created"),
            ),
            (
                vec![("assigned_to", "3")],
                Some("idx_tickets_assigned_created"),
            ),
            (
                vec![("status", "open"), ("customer_email", "a@example.com")],
                None,
            ),
        ] {
            assert_eq!(pinned_index(&query(&pairs)), expected, "{pairs:?}");
        }
        assert_eq!(query(&[("status", "open")]).statuses, [Status::Open]);
    }

    /// Every index the list may name is created by a migration.
    #[test]
    fn pinned_indexes_exist() {
        let migrations = [
            include_str!("../../../migrations/0001_initial_schema.sql"),
            include_str!("../../../migrations/0007_list_indexes.sql"),
        ]
        .concat();
        for name in [
            "idx_tickets_status_created",
            "idx_tickets_status_updated",
            "idx_tickets_status_priority",
            "idx_tickets_assigned_status",
            "idx_tickets_assigned_created",
        ] {
            assert!(
                migrations.contains(&format!("CREATE INDEX {name} ON")),
                "{name}"
            );
        }
    }

    /// SQLite uses an index on an expression only for that same expression: the
    /// priority sort's index (migrations/0007) must be on what `priority_rank_sql` builds.
    /// A change of ranks needs a new migration with a new index.
    #[test]
    fn the_priority_index_is_on_the_expression_the_list_sorts_by() {
        let migration = include_str!("../../../migrations/0007_list_indexes.sql");
        let flat = migration.split_whitespace().collect::<Vec<_>>().join(" ");
        let expression = priority_rank_sql().replace("t.priority", "priority");
        for index in [
            format!("idx_tickets_priority_rank ON support_tickets ( {expression}, id);"),
            format!("idx_tickets_status_priority ON support_tickets (status, {expression}, id);"),
        ] {
            assert!(
                flat.contains(&index),
                "{expression} is not the indexed expression of {index} in:\n{flat}"
            );
        }
    }
}
