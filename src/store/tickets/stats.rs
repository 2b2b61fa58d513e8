//! Dashboard and queue counts.

use serde::Deserialize;

use crate::domain::ticket::{Priority, Status};
use crate::store::guard::{Guard, Guarded};
use crate::store::{int, status_in, Database, Rows};

pub struct TicketStats {
    pub total: i64,
    /// Every status, with 0 for those no ticket has.
    pub by_status: Vec<(Status, i64)>,
    pub by_priority: Vec<(Priority, i64)>,
    pub unassigned_open: i64,
    /// Tickets being worked (open or assigned) that are assigned to `me`.
    pub mine: i64,
}

/// The counts, in one round trip with the session's check (`guard`). `me` is the
/// caller, for `mine`.
pub async fn stats(
    db: &Database,
    guard: &Guard<'_>,
    me: i64,
) -> worker::Result<Guarded<TicketStats>> {
    let guarded = |sql: &str, mut params: Vec<serde_json::Value>| {
        let condition = guard.condition(&mut params);
        db.prepare(&sql.replace("{guard}", &condition), &params)
    };
    let by_status = guarded(
        "SELECT status AS k, count(*) AS n FROM support_tickets WHERE {guard} GROUP BY status",
        vec![],
    )?;
    let by_priority = guarded(
        "SELECT priority AS k, count(*) AS n FROM support_tickets WHERE {guard} GROUP BY priority",
        vec![],
    )?;
    let unassigned = guarded(
        "SELECT count(*) AS n FROM support_tickets
         WHERE status = 'open' AND assigned_to IS NULL AND {guard}",
        vec![],
    )?;
    let mine = guarded(
        &format!(
            "SELECT count(*) AS n FROM support_tickets t WHERE t.assigned_to = ?1 AND {} AND {{guard}}",
            status_in(&Status::ACTIVE)
        ),
        vec![int(Some(me))],
    )?;
    guard
        .run(db, vec![by_status, by_priority, unassigned, mine])
        .await?
        .read(counts)
}

/// The counts from the batch's results (after the check).
fn counts(results: &[Rows]) -> worker::Result<TicketStats> {
    #[derive(Deserialize)]
    struct Count<K> {
        /// NULL only for a row written by hand.
        k: Option<K>,
        n: i64,
    }
    #[derive(Deserialize)]
    struct Total {
        n: i64,
    }
    let statuses: Vec<Count<Status>> = results[0].rows()?;
    let priorities: Vec<Count<Priority>> = results[1].rows()?;
    let count_of = |k| statuses.iter().find(|c| c.k == Some(k)).map_or(0, |c| c.n);
    let priority_count = |k| {
        priorities
            .iter()
            .find(|c| c.k == Some(k))
            .map_or(0, |c| c.n)
    };
    let total_of = |i: usize| -> worker::Result<i64> {
        Ok(results[i].rows::<Total>()?.first().map_or(0, |t| t.n))
    };
    Ok(TicketStats {
        total: statuses.iter().map(|c| c.n).sum(),
        by_status: Status::ALL.into_iter().map(|s| (s, count_of(s))).collect(),
        by_priority: Priority::ALL
            .into_iter()
            .map(|p| (p, priority_count(p)))
            .collect(),
        unassigned_open: total_of(2)?,
        mine: total_of(3)?,
    })
}
