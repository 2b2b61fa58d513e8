//! Workers KV through a binding of our own: a session read is one `get` returning
//! text, a write one `put` with its TTL. `worker::KvStore` builds its options through
//! serde-wasm-bindgen and wraps every call in builders: 4 KB of wasm for three calls.
//!
//! Each handle counts its round trips into the `RoundTrips` it was made with.

use worker::js_sys::{Object, Promise, Reflect};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, Error, Result};

use super::trips::RoundTrips;

#[wasm_bindgen]
extern "C" {
    /// A `KVNamespace` binding.
    type KvBinding;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_text(this: &KvBinding, key: &str) -> std::result::Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_text(
        this: &KvBinding,
        key: &str,
        value: &str,
        options: &Object,
    ) -> std::result::Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = delete)]
    fn delete_key(this: &KvBinding, key: &str) -> std::result::Result<Promise, JsValue>;
}

/// A KV namespace, with the count its round trips go to.
pub struct Kv {
    binding: KvBinding,
    trips: RoundTrips,
}

impl Kv {
    /// The KV binding `name`; its round trips are added to `trips`.
    pub fn from_env(env: &Env, name: &str, trips: RoundTrips) -> Result<Kv> {
        let binding = Reflect::get(env, &JsValue::from_str(name))?;
        if binding.is_undefined() || binding.is_null() {
            return Err(Error::RustError(format!(
                "the KV binding `{name}` is missing"
            )));
        }
        Ok(Kv {
            binding: binding.unchecked_into(),
            trips,
        })
    }

    /// The value of `key` as text, if it has one.
    pub async fn get(&self, key: &str) -> Result<Option<String>> {
        self.trips.add();
        let value = JsFuture::from(self.binding.get_text(key)?).await?;
        Ok(value.as_string())
    }

    /// Stores `value` under `key` for `ttl_seconds` (KV's minimum is 60).
    pub async fn put(&self, key: &str, value: &str, ttl_seconds: u64) -> Result<()> {
        self.trips.add();
        let options = Object::new();
        Reflect::set(
            &options,
            &JsValue::from_str("expirationTtl"),
            &JsValue::from_f64(ttl_seconds as f64),
        )?;
        JsFuture::from(self.binding.put_text(key, value, &options)?).await?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        self.trips.add();
        JsFuture::from(self.binding.delete_key(key)?).await?;
        Ok(())
    }
}
