//! Every SQL statement the worker runs lives under this module, always with bound
//! parameters, one function per query. A request that needs several statements
//! sends them as one D1 batch: one transaction, one round trip.

pub mod health;
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
