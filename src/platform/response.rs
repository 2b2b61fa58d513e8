//! Hands a `http::Response` to the runtime in one go: the status and every header as
//! one JSON `ResponseInit`, the body as one byte copy. Setting headers one by one on a
//! JS `Headers` (what `worker::Response` does) costs a boundary crossing and two
//! string conversions each; with this and `request.rs`, health went from 138 to 108
//! µs of the worker's own CPU per request (bench/ab.mjs, 12 rounds). A streamed
//! body (an R2 object's, see `r2.rs`) is handed over as the JS stream it is.
//!
//! The response settles the promise `src/entry.mjs` returned to the runtime, in one
//! call that builds it: no `web_sys::Response` is made in Rust.

use serde::ser::{Serialize, SerializeMap, Serializer};
use worker::js_sys::Function;
use worker::wasm_bindgen::prelude::*;
use worker::web_sys;

use crate::http::Response;

#[wasm_bindgen(inline_js = r#"
export function respond(resolve, reject, init, kind, bytes, stream) {
  try {
    const body = kind === 0 ? null : kind === 1 ? bytes.slice() : stream;
    resolve(new Response(body, JSON.parse(init)));
  } catch (e) {
    reject(e);
  }
}"#)]
extern "C" {
    /// Settles the request's promise with `new Response(body, init)`, or rejects it
    /// (the runtime answers 500) when the runtime refuses the response. `bytes` is a
    /// view of wasm memory: the JS side copies it (`slice`) before it is used.
    #[wasm_bindgen(js_name = respond)]
    fn respond_raw(
        resolve: &Function,
        reject: &Function,
        init: &str,
        kind: u8,
        bytes: &[u8],
        stream: &JsValue,
    );
}

/// Hands `response` to the runtime by settling the request's promise: one call
/// across the boundary.
pub fn respond(response: &Response, resolve: &Function, reject: &Function) {
    let init = init_json(response);
    if let Some(stream) = response.stream() {
        match stream.get::<web_sys::ReadableStream>() {
            Some(body) => respond_raw(resolve, reject, &init, 2, &[], body),
            None => {
                let error = JsValue::from_str("a streamed body that is not a ReadableStream");
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
        }
        return;
    }
    match response.body() {
        Some(body) => respond_raw(resolve, reject, &init, 1, body, &JsValue::UNDEFINED),
        None => respond_raw(resolve, reject, &init, 0, &[], &JsValue::UNDEFINED),
    }
}

/// The `ResponseInit` dictionary as JSON: `{"status": 201, "headers": {...}}`.
fn init_json(response: &Response) -> String {
    serde_json::to_string(&Init(response)).unwrap_or_default()
}

struct Init<'a>(&'a Response);
struct InitHeaders<'a>(&'a [(&'static str, String)]);

impl Serialize for Init<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("status", &self.0.status())?;
        map.serialize_entry("headers", &InitHeaders(self.0.headers()))?;
        map.end()
    }
}

impl Serialize for InitHeaders<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn init_carries_status_and_headers_escaped() {
        let mut response = Response::json(201, &serde_json::json!({"ok": true}))
            .with_header("Location", "/api/tickets/TKT-2026-0001");
        response.set_header("content-type", "text/plain");
        response.set_header("X-Quote", "a \"quoted\" \\ value");
        let init: Value = serde_json::from_str(&init_json(&response)).unwrap();
        assert_eq!(init["status"], 201);
        assert_eq!(init["headers"]["Content-Type"], "text/plain");
        assert_eq!(init["headers"]["Location"], "/api/tickets/TKT-2026-0001");
        assert_eq!(init["headers"]["X-Quote"], "a \"quoted\" \\ value");
        assert_eq!(init["headers"].as_object().unwrap().len(), 3);
    }

    #[test]
    fn empty_answers_have_no_body() {
        let response = Response::empty(204);
        assert_eq!(init_json(&response), r#"{"status":204,"headers":{}}"#);
    }
}
