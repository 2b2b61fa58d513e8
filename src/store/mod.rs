//! Every SQL statement the worker runs lives under this module, always with bound
//! parameters, one function per query. A request that needs several statements
//! sends them as one D1 batch: one transaction, one round trip.

pub mod api_keys;
pub mod health;
pub mod maintenance;
pub mod staff;
pub mod ticket_create;
pub mod tickets;

use worker::wasm_bindgen::JsValue;

/// Binds an optional integer: D1 rejects BigInt, so integers travel as f64 (exact
/// up to 2^53, which ids never reach), and `None` as SQL NULL.
fn int(value: Option<i64>) -> JsValue {
    value.map_or(JsValue::NULL, |v| JsValue::from_f64(v as f64))
}

fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

fn opt_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

/// SQLite has no boolean: D1 returns 0/1.
fn sqlite_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let n: f64 = serde::Deserialize::deserialize(d)?;
    Ok(n != 0.0)
}

/// Numbered parameters for SQL built from optional parts.
#[derive(Default)]
pub(crate) struct Params {
    pub(crate) values: Vec<JsValue>,
}

impl Params {
    /// Adds a value and returns its placeholder (`?N`).
    pub(crate) fn bind(&mut self, value: JsValue) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }
}
