//! Dashboard counts.

use serde::Deserialize;

use crate::domain::ticket::{Priority, Status};
use crate::store::Database;

pub struct TicketStats {
    pub total: i64,
    /// Every status, with 0 for those no ticket has.
    pub by_status: Vec<(Status, i64)>,
    pub by_priority: Vec<(Priority, i64)>,
    pub unassigned_open: i64,
}

/// The counts, in one round trip.
pub async fn stats(db: &Database) -> worker::Result<TicketStats> {
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
    Ok(TicketStats {
        total: statuses.iter().map(|c| c.n).sum(),
        by_status: Status::ALL.into_iter().map(|s| (s, count_of(s))).collect(),
        by_priority: Priority::ALL
            .into_iter()
            .map(|p| (p, priority_count(p)))
            .collect(),
        unassigned_open: results[2].rows::<Total>()?.first().map_or(0, |t| t.n),
    })
}
