//! HTTP without the runtime: the response value, body decoding, headers with a
//! meaning, the envelope and the status page's HTML. Depends only on `error` and
//! `domain`, so all of it is tested natively.

pub mod body;
pub mod download;
pub mod envelope;
pub mod headers;
pub mod html;
pub mod response;

pub use body::{decode_fields, BodyKind};
pub use envelope::{error_response, success, Named, Nothing};
pub use response::{Response, Stream};
