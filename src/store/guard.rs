//! Checking a staff session inside a route's own batch (see `Guard`): one D1 round
//! trip for a CRM request instead of two.

use serde_json::Value;

use super::rows::{SessionCheck, STAFF_COLUMNS};
use super::{int, text, Database, Rows, Statement};

/// The staff row for a session, with whether the session was revoked.
pub(super) fn session_check_statement(
    db: &Database,
    staff_id: i64,
    token_hash: &str,
) -> worker::Result<Statement> {
    let sql = format!(
        "SELECT {STAFF_COLUMNS}, session_epoch,
                EXISTS (SELECT 1 FROM revoked_sessions WHERE token_hash = ?2) AS revoked
         FROM crm_staff WHERE id = ?1"
    );
    db.prepare(&sql, &[int(Some(staff_id)), text(token_hash)])
}

/// A staff session as its KV record claims it, to be checked inside a route's own
/// batch instead of in a round trip before it: the batch's first statement reads what
/// the check needs (`session_check`), and every statement after it carries
/// `condition`, true only while the claim holds, so when it does not they read and
/// write nothing. Whoever runs the batch judges the first statement's row exactly as
/// a check alone is judged (`app::sessions`).
pub struct Guard<'a> {
    pub staff_id: i64,
    pub epoch: i64,
    pub token_hash: &'a str,
    /// Admin routes: an agent's session does not hold.
    pub admin_only: bool,
}

/// What a guarded batch read: the session check's row (none when the staff member is
/// gone), and the route's own results, empty unless the session holds.
pub struct Guarded<T> {
    pub check: Option<SessionCheck>,
    pub value: T,
}

impl Guard<'_> {
    /// The batch's first statement.
    pub(crate) fn check(&self, db: &Database) -> worker::Result<Statement> {
        session_check_statement(db, self.staff_id, self.token_hash)
    }

    /// The condition the route's statements add to their `WHERE`, its parameters
    /// numbered after `params` and appended to them. Both subqueries are primary-key
    /// lookups, evaluated once per statement (they do not depend on its rows).
    pub(crate) fn condition(&self, params: &mut Vec<Value>) -> String {
        let first = params.len() + 1;
        params.push(int(Some(self.staff_id)));
        params.push(int(Some(self.epoch)));
        params.push(text(self.token_hash));
        let role = if self.admin_only {
            " AND g.role = 'admin'"
        } else {
            ""
        };
        format!(
            "EXISTS (SELECT 1 FROM crm_staff g WHERE g.id = ?{first} AND g.active = 1
                       AND g.session_epoch = ?{}{role})
             AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE token_hash = ?{})",
            first + 1,
            first + 2
        )
    }

    /// ` AND <condition>` (see `condition`), or nothing without a guard: for statements
    /// shared by staff routes and public ones.
    pub(crate) fn and(guard: Option<&Self>, params: &mut Vec<Value>) -> String {
        match guard {
            Some(guard) => format!(" AND {}", guard.condition(params)),
            None => String::new(),
        }
    }

    /// Runs `statements` (each carrying `condition`) after the check, in one batch
    /// (one copy of this in the wasm, whatever the route reads: see `Ran::read`).
    pub(crate) async fn run(
        &self,
        db: &Database,
        statements: Vec<Statement>,
    ) -> worker::Result<Ran> {
        let mut all = Vec::with_capacity(statements.len() + 1);
        all.push(self.check(db)?);
        all.extend(statements);
        let mut results = db.batch(all).await?;
        let check = results.remove(0).rows::<SessionCheck>()?.into_iter().next();
        Ok(Ran { check, results })
    }
}

/// A guarded batch that ran: the check's row, and the route's results.
pub(crate) struct Ran {
    check: Option<SessionCheck>,
    results: Vec<Rows>,
}

impl Ran {
    /// What the route reads from its statements' results.
    pub(crate) fn read<T>(
        self,
        read: impl FnOnce(&[Rows]) -> worker::Result<T>,
    ) -> worker::Result<Guarded<T>> {
        Ok(Guarded {
            value: read(&self.results)?,
            check: self.check,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(admin_only: bool) -> Guard<'static> {
        Guard {
            staff_id: 7,
            epoch: 3,
            token_hash: "ab12",
            admin_only,
        }
    }

    #[test]
    fn the_condition_numbers_its_parameters_after_the_statements_own() {
        let mut params = vec![Value::from("TKT-2026-0001")];
        let condition = guard(false).condition(&mut params);
        assert_eq!(
            params,
            vec![
                Value::from("TKT-2026-0001"),
                Value::from(7),
                Value::from(3),
                Value::from("ab12")
            ]
        );
        assert!(condition.contains("g.id = ?2 AND g.active = 1"));
        assert!(condition.contains("g.session_epoch = ?3"));
        assert!(condition.contains("token_hash = ?4"));
        assert!(!condition.contains("role"));
        assert!(!condition.contains("?1"));
    }

    #[test]
    fn admin_routes_also_need_the_admin_role() {
        let condition = guard(true).condition(&mut Vec::new());
        assert!(condition.contains("g.session_epoch = ?2 AND g.role = 'admin'"));
        assert!(condition.contains("token_hash = ?3"));
    }

    #[test]
    fn statements_without_a_guard_are_left_as_they_are() {
        let mut params = vec![Value::from(1)];
        assert_eq!(Guard::and(None, &mut params), "");
        assert_eq!(params.len(), 1);
        assert!(Guard::and(Some(&guard(false)), &mut params).starts_with(" AND EXISTS"));
        assert_eq!(params.len(), 4);
    }
}
