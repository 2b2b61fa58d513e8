//! The seed's JSON envelope around every answer.

use serde::Serialize;

use super::response::Response;
use crate::error::ApiError;

/// `{success: true, message, data}`.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    data: &'a T,
    message: &'a str,
    success: bool,
}

/// A success answer.
pub fn success(status: u16, message: &str, data: &impl Serialize) -> Response {
    Response::json(
        status,
        &Envelope {
            data,
            message,
            success: true,
        },
    )
}

/// `data` with one field, `{name: value}`: most answers are one named thing.
pub struct Named<T>(pub &'static str, pub T);

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(self.0, &self.1)?;
        map.end()
    }
}

/// An empty `data` object (`{}`), for answers that only say something happened.
#[derive(Serialize)]
pub struct Nothing {}

/// Renders an error as the failure envelope, with the headers its status calls for.
pub fn error_response(error: &ApiError) -> Response {
    with_error_headers(Response::json(error.status(), &error.body()), error)
}

/// `response` (the envelope, or a page that explains the error) with the headers
/// the error's status calls for (`Retry-After`, `Allow`, ...).
pub fn with_error_headers(mut response: Response, error: &ApiError) -> Response {
    for (name, value) in error.headers() {
        response.set_header(name, value);
    }
    response
}
