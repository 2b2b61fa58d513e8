//! Every SQL statement the worker runs lives under this module, always with bound
//! parameters. Row types and column lists are in `rows.rs`; the rest is one module
//! per area. A request that needs several statements sends them as one D1 batch:
//! one transaction, one round trip.

pub mod api_keys;
pub mod attachments;
pub mod guard;
pub mod health;
pub mod link_requests;
pub mod maintenance;
pub mod messages;
pub mod notifications;
mod rate_limits;
pub mod rows;
pub mod staff;
pub mod ticket_create;
pub mod tickets;

use serde_json::Value;

use crate::domain::ticket::Status;
use crate::domain::time::Timestamp;
pub use crate::platform::d1::{Database, Rows, Statement};

/// Binds an optional integer (`None` as SQL NULL). Integers reach JS as numbers,
/// exact up to 2^53, which ids never reach (D1 rejects BigInt).
fn int(value: Option<i64>) -> Value {
    value.map_or(Value::Null, Value::from)
}

fn text(value: &str) -> Value {
    Value::from(value)
}

fn opt_text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, Value::from)
}

/// A timestamp as stored: its canonical RFC 3339 text, which sorts as time does.
fn time(value: Timestamp) -> Value {
    Value::from(value.rfc3339())
}

/// `t.status IN ('open', ...)`: statuses come from the domain's enum, never from input.
fn status_in(statuses: &[Status]) -> String {
    let list: Vec<String> = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("t.status IN ({})", list.join(", "))
}

/// Numbered parameters for SQL built from optional parts.
#[derive(Default)]
pub(crate) struct Params {
    pub(crate) values: Vec<Value>,
}

impl Params {
    /// Adds a value and returns its placeholder (`?N`).
    pub(crate) fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }
}

/// The highest `?N` in `sql` (0 without placeholders).
fn highest_placeholder(sql: &str) -> usize {
    sql.split('?')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// D1 wants exactly as many values as the statement's highest `?N`: statements
/// built from a shared parameter list bind only the prefix they use.
fn used_params<'a>(sql: &str, params: &'a [Value]) -> &'a [Value] {
    &params[..highest_placeholder(sql).min(params.len())]
}

/// Prepares `sql` bound with the part of `params` it uses.
fn prepare(db: &Database, sql: &str, params: &[Value]) -> worker::Result<Statement> {
    db.prepare(sql, used_params(sql, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_only_the_parameters_a_statement_uses() {
        let params = vec![Value::Null; 6];
        assert_eq!(used_params("SELECT ?1, ?5 WHERE ?2", &params).len(), 5);
        assert_eq!(used_params("SELECT ?12", &params).len(), 6);
        assert_eq!(used_params("SELECT 1", &params).len(), 0);
    }

    #[test]
    fn status_lists_are_sql_literals() {
        assert_eq!(
            status_in(&[Status::Open, Status::Assigned]),
            "t.status IN ('open', 'assigned')"
        );
    }
}
