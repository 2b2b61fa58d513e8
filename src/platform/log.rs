//! Log lines as JSON text, one console call each: Workers Logs indexes the fields of
//! a JSON line, and a line is one serialization (no `format!` around it).
//! What goes into a line is the caller's duty: route names, codes and counts, never
//! a path, a query, a body, a header value or a secret.

use serde::Serialize;
use worker::wasm_bindgen::JsValue;
use worker::web_sys::console;

/// An ordinary line (`console.log`).
pub fn info(line: &impl Serialize) {
    if let Ok(text) = serde_json::to_string(line) {
        console::log_1(&JsValue::from_str(&text));
    }
}

/// A line about something that needs attention (`console.warn`).
pub fn warn(line: &impl Serialize) {
    if let Ok(text) = serde_json::to_string(line) {
        console::warn_1(&JsValue::from_str(&text));
    }
}

/// A failure (`console.error`: Workers Logs shows it at level error).
pub fn error(line: &impl Serialize) {
    if let Ok(text) = serde_json::to_string(line) {
        console::error_1(&JsValue::from_str(&text));
    }
}
