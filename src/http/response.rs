//! Answers are plain Rust values (status, headers, body) until the very end, when
//! `into_web` hands them to the runtime in one go: the status and every header as one
//! JSON `ResponseInit`, the body as one byte copy. (Setting headers one by one on a JS
//! `Headers` costs a boundary crossing and two string conversions each.)

use serde::ser::{Serialize, SerializeMap, Serializer};
use worker::js_sys::{Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::web_sys;

#[derive(Debug)]
pub struct Response {
    status: u16,
    /// At most one value per name (`set_header` replaces).
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

impl Response {
    /// No body (204, redirects).
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn with_body(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body: Some(body),
        }
    }

    pub fn json(status: u16, body: &impl Serialize) -> Self {
        Self::with_body(
            status,
            "application/json; charset=utf-8",
            serde_json::to_vec(body).unwrap_or_default(),
        )
    }

    /// Sets a header, replacing any value it had.
    pub fn set_header(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.set_header(name, value);
        self
    }

    /// The `ResponseInit` dictionary as JSON: `{"status": 201, "headers": {...}}`.
    fn init_json(&self) -> String {
        serde_json::to_string(&Init(self)).unwrap_or_default()
    }

    /// The runtime's `Response`.
    pub fn into_web(self) -> Result<web_sys::Response, JsValue> {
        let init: web_sys::ResponseInit = JSON::parse(&self.init_json())?.unchecked_into();
        match &self.body {
            // A JS-owned copy: the runtime never holds a view into wasm memory.
            Some(body) => web_sys::Response::new_with_opt_buffer_source_and_init(
                Some(&Uint8Array::from(body.as_slice())),
                &init,
            ),
            None => web_sys::Response::new_with_opt_str_and_init(None, &init),
        }
    }
}

struct Init<'a>(&'a Response);
struct InitHeaders<'a>(&'a [(&'static str, String)]);

impl Serialize for Init<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("status", &self.0.status)?;
        map.serialize_entry("headers", &InitHeaders(&self.0.headers))?;
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
        let init: Value = serde_json::from_str(&response.init_json()).unwrap();
        assert_eq!(init["status"], 201);
        assert_eq!(init["headers"]["Content-Type"], "text/plain");
        assert_eq!(init["headers"]["Location"], "/api/tickets/TKT-2026-0001");
        assert_eq!(init["headers"]["X-Quote"], "a \"quoted\" \\ value");
        assert_eq!(init["headers"].as_object().unwrap().len(), 3);
        assert_eq!(response.body.as_deref(), Some(&b"{\"ok\":true}"[..]));
    }

    #[test]
    fn empty_answers_have_no_body() {
        let response = Response::empty(204);
        assert_eq!(response.body, None);
        assert_eq!(response.init_json(), r#"{"status":204,"headers":{}}"#);
    }
}
