//! Outbound HTTP with a deadline: a third party that hangs must not hang us.
//!
//! The runtime's own `fetch`, with `AbortSignal.timeout` as the deadline (it also
//! bounds reading the answer's body, and cancels the call rather than leaving it to
//! run). `worker::Fetch` with a `Delay` raced against it cost 12 KB of wasm (its
//! request and response wrappers, the timer's closure, the stream adapters) for
//! the same few calls.

use worker::js_sys::{Promise, Reflect, JSON};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_request(request: &web_sys::Request) -> Promise;

    #[wasm_bindgen(js_namespace = AbortSignal, js_name = timeout)]
    fn abort_after(milliseconds: f64) -> JsValue;
}

/// Why a call got no answer. Short, loggable texts: the runtime's own message may
/// name the URL, and webhook URLs can carry secrets.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The URL (or a header) is not one a request can have; the runtime's reason.
    Invalid(String),
    Network,
    TimedOut(u64),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid(why) => write!(f, "invalid request: {why}"),
            Failure::Network => f.write_str("network error"),
            Failure::TimedOut(ms) => write!(f, "timed out after {ms} ms"),
        }
    }
}

/// An answer: its status, and its body if the caller reads it (within the deadline).
pub struct Reply {
    raw: web_sys::Response,
    timeout_ms: u64,
}

impl Reply {
    pub fn status(&self) -> u16 {
        self.raw.status()
    }

    pub async fn text(self) -> Result<String, Failure> {
        let promise = self.raw.text().map_err(|_| Failure::Network)?;
        let text = JsFuture::from(promise)
            .await
            .map_err(|e| failure(&e, self.timeout_ms))?;
        Ok(text.as_string().unwrap_or_default())
    }
}

/// POSTs `body` with `headers` (a header the runtime refuses is left out, as
/// `Headers.set` would), giving up after `timeout_ms`.
pub async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout_ms: u64,
) -> Result<Reply, Failure> {
    let invalid = |e: JsValue| Failure::Invalid(super::js_message(&e));
    let init: web_sys::RequestInit = JSON::parse(r#"{"method":"POST"}"#)
        .map_err(invalid)?
        .unchecked_into();
    let list = web_sys::Headers::new().map_err(invalid)?;
    for (name, value) in headers {
        let _ = list.set(name, value);
    }
    init.set_headers(&list);
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&abort_after(timeout_ms as f64).unchecked_into()));
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(invalid)?;
    let raw = JsFuture::from(fetch_request(&request))
        .await
        .map_err(|e| failure(&e, timeout_ms))?;
    Ok(Reply {
        raw: raw.unchecked_into(),
        timeout_ms,
    })
}

/// A rejected fetch or body read: the deadline's abort, or anything else.
fn failure(error: &JsValue, timeout_ms: u64) -> Failure {
    let name = Reflect::get(error, &JsValue::from_str("name")).ok();
    if name.and_then(|n| n.as_string()).as_deref() == Some("TimeoutError") {
        Failure::TimedOut(timeout_ms)
    } else {
        Failure::Network
    }
}
