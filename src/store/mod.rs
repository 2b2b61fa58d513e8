//! Every SQL statement the worker runs lives under this module, always with bound
//! parameters, one function per query. A request that needs several statements
//! sends them as one D1 batch: one transaction, one round trip.

pub mod api_keys;
mod d1;
pub mod health;
pub mod maintenance;
pub mod messages;
pub mod notifications;
pub mod staff;
pub mod ticket_create;
pub mod tickets;

use serde_json::Value;

pub use d1::{Database, Statement};

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

/// SQLite has no boolean: D1 returns 0/1.
fn sqlite_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let n: f64 = serde::Deserialize::deserialize(d)?;
    Ok(n != 0.0)
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
}
