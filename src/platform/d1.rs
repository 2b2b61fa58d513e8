//! D1 through a binding of our own, shaped for wasm: a statement's parameters cross
//! into JS as one JSON array, and the rows of a result that is read come back as one
//! JSON text that serde reads in Rust; a result nobody reads (most statements of a
//! batch) never crosses, nor does its `meta`. `worker::D1Database` converts each
//! parameter, and through serde-wasm-bindgen each field of each row, one boundary call
//! at a time. Measured with the in-isolate loop (bench/ab.mjs, 12 rounds, together
//! with the request/response changes): create 424 -> 336 µs, status lookup 256 -> 196
//! µs, CRM list 262 -> 204 µs of the worker's own CPU per request.
//!
//! Each handle counts its round trips (a batch, `first`, `all`, `run`) into the
//! `RoundTrips` it was made with, for the request's log line.

use serde::de::DeserializeOwned;
use serde_json::Value;
use worker::js_sys::{Array, Promise, Reflect, JSON};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, Error, Result};

use super::trips::RoundTrips;

#[wasm_bindgen]
extern "C" {
    /// The `D1Database` binding.
    #[derive(Clone)]
    type D1Binding;

    #[wasm_bindgen(method, catch, js_name = prepare)]
    fn prepare_raw(this: &D1Binding, sql: &str) -> std::result::Result<RawStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = batch)]
    fn batch_raw(this: &D1Binding, statements: Array) -> std::result::Result<Promise, JsValue>;

    type RawStatement;

    #[wasm_bindgen(method, catch, variadic, js_name = bind)]
    fn bind(this: &RawStatement, values: &Array) -> std::result::Result<RawStatement, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn first(this: &RawStatement) -> std::result::Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn all(this: &RawStatement) -> std::result::Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn run(this: &RawStatement) -> std::result::Result<Promise, JsValue>;
}

/// The database, with the count its round trips go to.
#[derive(Clone)]
pub struct Database {
    binding: D1Binding,
    trips: RoundTrips,
}

/// A prepared statement with its parameters bound.
pub struct Statement {
    raw: RawStatement,
    trips: RoundTrips,
}

impl Database {
    /// The `DB` binding; its round trips are added to `trips`.
    pub fn from_env(env: &Env, trips: RoundTrips) -> Result<Database> {
        let binding = Reflect::get(env, &JsValue::from_str("DB"))?;
        if binding.is_undefined() || binding.is_null() {
            return Err(Error::RustError("the D1 binding `DB` is missing".into()));
        }
        Ok(Database {
            binding: binding.unchecked_into(),
            trips,
        })
    }

    /// Prepares `sql` with `params` for `?1`, `?2`, ... (exactly as many as it uses).
    pub fn prepare(&self, sql: &str, params: &[Value]) -> Result<Statement> {
        let statement = self.binding.prepare_raw(sql)?;
        let raw = if params.is_empty() {
            statement
        } else {
            let values: Array = JSON::parse(&serde_json::to_string(params)?)?.unchecked_into();
            statement.bind(&values)?
        };
        Ok(Statement {
            raw,
            trips: self.trips.clone(),
        })
    }

    /// Runs the statements as one transaction in one round trip.
    pub async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<Rows>> {
        let list: Array = statements
            .into_iter()
            .map(|s| JsValue::from(s.raw))
            .collect();
        self.trips.add();
        let results: Array = JsFuture::from(self.binding.batch_raw(list)?)
            .await?
            .unchecked_into();
        Ok(results.iter().map(Rows).collect())
    }
}

impl Statement {
    /// The first row, if any.
    pub async fn first<T: DeserializeOwned>(self) -> Result<Option<T>> {
        self.trips.add();
        Ok(serde_json::from_slice(
            settle(self.raw.first()).await?.as_bytes(),
        )?)
    }

    /// Every row.
    pub async fn all<T: DeserializeOwned>(self) -> Result<Vec<T>> {
        self.trips.add();
        Rows(JsFuture::from(self.raw.all()?).await?).rows()
    }

    /// Runs a statement whose rows do not matter.
    pub async fn run(self) -> Result<Rows> {
        self.trips.add();
        Ok(Rows(JsFuture::from(self.raw.run()?).await?))
    }
}

/// Awaits a D1 promise and answers its value as JSON text.
async fn settle(promise: std::result::Result<Promise, JsValue>) -> Result<String> {
    let value = JsFuture::from(promise?).await?;
    Ok(JSON::stringify(&value)?.into())
}

/// One statement's result, still in JS: only what a caller reads of it crosses the
/// boundary (most statements of a batch are writes whose result nobody reads, and a
/// result's `meta` holds a dozen fields).
pub struct Rows(JsValue);

impl Rows {
    /// The rows, as the type the caller asks for (via one JSON text).
    pub fn rows<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        let rows = Reflect::get(&self.0, &JsValue::from_str("results"))?;
        if rows.is_undefined() || rows.is_null() {
            return Ok(Vec::new());
        }
        let text: String = JSON::stringify(&rows)?.into();
        Ok(serde_json::from_slice(text.as_bytes())?)
    }

    /// How many rows the statement wrote.
    pub fn changes(&self) -> usize {
        Reflect::get(&self.0, &JsValue::from_str("meta"))
            .and_then(|meta| Reflect::get(&meta, &JsValue::from_str("changes")))
            .ok()
            .and_then(|n| n.as_f64())
            .map_or(0, |n| n as usize)
    }
}
