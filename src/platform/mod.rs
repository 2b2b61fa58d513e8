//! The boundary with the runtime. Where a workers-rs type or helper cost measurable
//! CPU per request, it is replaced here by a thinner binding; each file opens with
//! the reason and the figure. Nothing above this layer touches `web_sys` or `js_sys`.

pub mod d1;
pub mod kv;
pub mod log;
pub mod outbound;
pub mod r2;
pub mod request;
pub mod response;
pub mod task;
pub mod trips;
pub mod version;
pub mod webcrypto;

use worker::wasm_bindgen::{JsCast, JsValue};

/// The message of a thrown JS value (an `Error`'s message, or a thrown string).
pub fn js_message(value: &JsValue) -> String {
    value
        .dyn_ref::<worker::js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}
