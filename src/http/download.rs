//! How a file is served: everything a user uploaded is a download that cannot run script on our origin, cannot be sniffed
//! into another type and is not kept in caches.

use super::response::{Response, Stream};
use crate::domain::attachment::content_disposition;

/// No script, no plugin, no request of its own: even an HTML or SVG file opened
/// directly is an inert document in a unique origin.
pub const FILE_CSP: &str = "sandbox; default-src 'none'";

/// A file as an answer presents it.
pub struct File<'a> {
    pub filename: &'a str,
    /// The allowlisted type stored with it.
    pub content_type: &'a str,
    pub size: u64,
    /// Quoted, as R2 gives it.
    pub etag: &'a str,
}

/// Headers every answer about a file carries, the body's or not.
fn validators(response: Response, file: &File) -> Response {
    response
        .with_header("ETag", file.etag)
        .with_header("Cache-Control", "private, no-store")
        .with_header("Accept-Ranges", "bytes")
}

/// 200 with the whole file, or 206 with bytes `start..=end` of it; the body is the
/// R2 object's stream. (The runtime sets `Content-Length` from the stream.)
pub fn file(body: Stream, file: &File, range: Option<(u64, u64)>) -> Response {
    let status = if range.is_some() { 206 } else { 200 };
    let mut response = validators(Response::streaming(status, body), file)
        .with_header("Content-Type", file.content_type)
        .with_header("Content-Disposition", content_disposition(file.filename))
        .with_header("Content-Security-Policy", FILE_CSP)
        .with_header("X-Content-Type-Options", "nosniff")
        .with_header("Cross-Origin-Resource-Policy", "same-origin");
    if let Some((start, end)) = range {
        response.set_header(
            "Content-Range",
            format!("bytes {start}-{end}/{}", file.size),
        );
    }
    response
}

/// 304: the client's copy is current.
pub fn not_modified(file: &File) -> Response {
    validators(Response::empty(304), file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: File = File {
        filename: "shot.png",
        content_type: "image/png",
        size: 1000,
        etag: "\"e1\"",
    };

    #[test]
    fn files_are_served_inert() {
        let r = file(Stream::new(()), &PNG, None);
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.header("Content-Disposition"),
            Some("attachment; filename=\"shot.png\"")
        );
        assert_eq!(
            r.header("Content-Security-Policy"),
            Some("sandbox; default-src 'none'")
        );
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(r.header("Cache-Control"), Some("private, no-store"));
        assert_eq!(r.header("ETag"), Some("\"e1\""));
        assert_eq!(r.header("Content-Range"), None);
        assert!(r.stream().is_some());
    }

    #[test]
    fn ranges_and_revalidation() {
        let r = file(Stream::new(()), &PNG, Some((10, 19)));
        assert_eq!(r.status(), 206);
        assert_eq!(r.header("Content-Range"), Some("bytes 10-19/1000"));
        let r = not_modified(&PNG);
        assert_eq!(r.status(), 304);
        assert_eq!(r.header("ETag"), Some("\"e1\""));
        assert_eq!(r.body(), None);
        assert!(r.stream().is_none());
    }
}
