//! The incoming request, read straight from the runtime's `Request`: only what the
//! handlers ask for crosses into wasm. `worker::Request` reads the method, URL,
//! headers and the whole `cf` object up front, the last being the costliest glue
//! call of a cheap request; with `response.rs`, health went from 138 to 108 µs of the
//! worker's own CPU per request (bench/ab.mjs, 12 rounds). A body with a known length
//! is read whole (`arrayBuffer`), one crossing instead of one per chunk.

use worker::js_sys::{ArrayBuffer, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys;

use crate::error::ApiError;

pub struct Request {
    raw: web_sys::Request,
    headers: web_sys::Headers,
    method: String,
    url: String,
    /// Where the path sits in `url`.
    path: std::ops::Range<usize>,
}

impl Request {
    pub fn new(raw: web_sys::Request) -> Self {
        let url = raw.url();
        let path = path_range(&url);
        Request {
            headers: raw.headers(),
            method: raw.method(),
            url,
            path,
            raw,
        }
    }

    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path as sent (not percent-decoded), without query or fragment.
    pub fn path(&self) -> &str {
        &self.url[self.path.clone()]
    }

    /// `scheme://host[:port]` this request came to.
    pub fn origin(&self) -> &str {
        &self.url[..self.path.start]
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    /// The URL's query pairs, decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.url[self.path.end..].strip_prefix('?').unwrap_or("");
        let query = query.split('#').next().unwrap_or("");
        worker::url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The client's address as Cloudflare reports it (`unknown` without the header,
    /// e.g. through a service binding: such callers share one rate-limit bucket).
    pub fn client_ip(&self) -> String {
        self.header("CF-Connecting-IP")
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// The body as the runtime's stream, untouched (for `r2::put`, which hands it to
    /// R2 without a byte entering wasm).
    pub(super) fn body_stream(&self) -> Option<web_sys::ReadableStream> {
        self.raw.body()
    }

    /// Reads the whole body, refusing it by `Content-Length` before reading when that
    /// is over `cap`. With a `Content-Length` within the cap the runtime hands over
    /// the body in one piece; a body without one (chunked) is read chunk by chunk and
    /// cut off as soon as it passes `cap`.
    pub async fn body(&self, cap: usize) -> Result<Vec<u8>, ApiError> {
        let too_large = ApiError::PayloadTooLarge { limit: cap };
        let has_length = match self.header("Content-Length") {
            None => false,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(n) if n > cap as u64 => return Err(too_large),
                Ok(_) => true,
                Err(_) => {
                    return Err(ApiError::bad_request(
                        "invalid_header",
                        "Content-Length is not a number.",
                    ))
                }
            },
        };
        let Some(stream) = self.raw.body() else {
            return Ok(Vec::new());
        };
        let unreadable = |e: JsValue| {
            ApiError::bad_request(
                "invalid_body",
                format!("The body could not be read: {}", super::js_message(&e)),
            )
        };
        if has_length {
            let buffer = JsFuture::from(self.raw.array_buffer().map_err(unreadable)?)
                .await
                .map_err(unreadable)?;
            let buffer: ArrayBuffer = buffer.unchecked_into();
            return Ok(Uint8Array::new(&buffer).to_vec());
        }
        let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut body = Vec::new();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(unreadable)?;
            let done = Reflect::get(&chunk, &JsValue::from_str("done")).map_err(unreadable)?;
            if done.as_bool() != Some(false) {
                return Ok(body);
            }
            let value = Reflect::get(&chunk, &JsValue::from_str("value")).map_err(unreadable)?;
            let Ok(bytes) = value.dyn_into::<Uint8Array>() else {
                return Err(ApiError::bad_request(
                    "invalid_body",
                    "The body could not be read: a chunk is not bytes.",
                ));
            };
            let start = body.len();
            let end = start + bytes.length() as usize;
            if end > cap {
                // Nothing more is read; the rest of the upload is dropped.
                let _ = reader.cancel();
                return Err(too_large);
            }
            body.resize(end, 0);
            bytes.copy_to(&mut body[start..]);
        }
    }
}

/// Where the path is in an already-serialized absolute URL (as the runtime gives it):
/// from the first `/` after the host to the first `?` or `#`. A URL without a path
/// (not something the runtime produces) gets an empty range at its end.
fn path_range(url: &str) -> std::ops::Range<usize> {
    let host_start = url.find("://").map_or(0, |i| i + 3);
    let start = url[host_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| host_start + i);
    let end = url[start..]
        .find(['?', '#'])
        .map_or(url.len(), |i| start + i);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (&str, &str) {
        let path = path_range(url);
        (&url[..path.start], &url[path])
    }

    #[test]
    fn origin_and_path_of_a_serialized_url() {
        assert_eq!(
            parts("https://help.example/t/x?token=1"),
            ("https://help.example", "/t/x")
        );
        assert_eq!(
            parts("http://127.0.0.1:8787/api/health"),
            ("http://127.0.0.1:8787", "/api/health")
        );
        assert_eq!(parts("http://localhost/?x#y"), ("http://localhost", "/"));
        assert_eq!(parts("http://localhost?x"), ("http://localhost", ""));
        assert_eq!(parts("http://localhost/a#f"), ("http://localhost", "/a"));
    }
}
