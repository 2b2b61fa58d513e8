//! HTTP without the runtime: the response value, body decoding, headers with a
//! meaning, the envelope, and the pages the Worker renders (escaped HTML). Depends
//! only on `error` and `domain`, so all of it is tested natively.

pub mod body;
pub mod download;
pub mod envelope;
pub mod form_post;
pub mod headers;
pub mod html;
pub mod response;
pub mod status_page;
pub mod support_page;

pub use body::{decode_fields, BodyKind};
pub use envelope::{error_response, success, with_error_headers, Named, Nothing};
pub use response::{Response, Stream};
