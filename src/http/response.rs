//! Answers are plain Rust values (status, headers, body) until the very end, when
//! `platform::response` hands them to the runtime in one go.

use std::any::Any;
use std::fmt;

use serde::Serialize;

#[derive(Debug)]
pub struct Response {
    status: u16,
    /// At most one value per name (`set_header` replaces).
    headers: Vec<(&'static str, String)>,
    body: Option<Body>,
}

#[derive(Debug)]
enum Body {
    Bytes(Vec<u8>),
    Stream(Stream),
}

/// A body the runtime streams on its own, so its bytes never pass through wasm (an
/// R2 object's body). Built and opened by `platform`; opaque here, so this layer
/// knows nothing of runtime types.
pub struct Stream(Box<dyn Any>);

impl Stream {
    pub fn new(value: impl Any) -> Self {
        Stream(Box::new(value))
    }

    /// The value `platform` put in, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Stream(..)")
    }
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
            body: Some(Body::Bytes(body)),
        }
    }

    /// A body streamed by the runtime (see `Stream`); the caller sets its headers.
    pub fn streaming(status: u16, body: Stream) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Some(Body::Stream(body)),
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

    /// A header's value, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The body, when it is bytes.
    pub fn body(&self) -> Option<&[u8]> {
        match &self.body {
            Some(Body::Bytes(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// The body, when the runtime streams it.
    pub fn stream(&self) -> Option<&Stream> {
        match &self.body {
            Some(Body::Stream(stream)) => Some(stream),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_replaced_whatever_their_case() {
        let mut response = Response::json(201, &serde_json::json!({"ok": true}))
            .with_header("Location", "/api/tickets/TKT-2026-0001");
        response.set_header("content-type", "text/plain");
        assert_eq!(response.status(), 201);
        assert_eq!(
            response.headers(),
            [
                ("Content-Type", "text/plain".to_owned()),
                ("Location", "/api/tickets/TKT-2026-0001".to_owned())
            ]
        );
        assert_eq!(response.body(), Some(&b"{\"ok\":true}"[..]));
        assert_eq!(Response::empty(204).body(), None);
    }

    #[test]
    fn streamed_bodies_are_opaque_values() {
        let response = Response::streaming(206, Stream::new(42_u32));
        assert_eq!(response.body(), None);
        assert_eq!(response.stream().and_then(|s| s.get::<u32>()), Some(&42));
        assert_eq!(response.stream().and_then(|s| s.get::<String>()), None);
    }
}
