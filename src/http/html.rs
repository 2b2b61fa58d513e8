//! What every page the Worker renders shares: escaping, the document around a page's
//! body, and the security headers. Pure string building, unit-tested natively.
//! The pages themselves: `status_page.rs` (a customer's ticket) and `support_page.rs`
//! (the public form). Static files in `web/` get the same headers from `web/_headers`.

use super::response::Response;

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A page without scripts: only its own stylesheet loads, and forms may only post
/// back to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Where Turnstile's widget script and frame come from.
pub const TURNSTILE_ORIGIN: &str = "https://challenges.cloudflare.com";

/// A page with same-origin scripts (the support form's enhancement); with Turnstile,
/// exactly its origin is added for its script and its frame.
pub fn scripted_csp(turnstile: bool) -> String {
    let (script, frame) = if turnstile {
        (
            format!(" {TURNSTILE_ORIGIN}"),
            format!("; frame-src {TURNSTILE_ORIGIN}"),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        "default-src 'self'; script-src 'self'{script}; style-src 'self'; img-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'{frame}"
    )
}

/// The banner a page opens with right after the support form created ticket `number`;
/// `more` (HTML) finishes its paragraph.
pub fn created_notice(number: &str, more: &str) -> String {
    format!(
        "<section class=\"notice\" role=\"status\" aria-labelledby=\"created-title\">\
         <h2 id=\"created-title\">Ticket {} is open</h2><p>We have your request and will \
         answer by email. {more}</section>",
        escape(number)
    )
}

/// The public pages' stylesheet (`ui/site.css`, built into `web/assets/`).
const STYLESHEET: &str = "/assets/site.css";

/// A whole document: `head_extra` goes in `<head>` (scripts), `body` as it is.
pub fn document(title: &str, head_extra: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"{STYLESHEET}\">{head_extra}</head><body>\
         <header class=\"site\"><a href=\"/support\">Support</a></header>\
         <main id=\"main\">{body}</main></body></html>",
        escape(title)
    )
}

/// An HTML answer with the page headers (`lib.rs` adds `nosniff` and `no-store` to
/// every answer).
pub fn page_response(status: u16, csp: impl Into<String>, html: String) -> Response {
    Response::with_body(status, "text/html; charset=utf-8", html.into_bytes())
        .with_header("Content-Security-Policy", csp)
        .with_header("Referrer-Policy", "no-referrer")
        .with_header("X-Frame-Options", "DENY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    /// No policy allows inline code, and every one forbids framing and `<base>`.
    #[test]
    fn policies_are_strict() {
        for csp in [
            CONTENT_SECURITY_POLICY.to_owned(),
            scripted_csp(false),
            scripted_csp(true),
        ] {
            assert!(!csp.contains("unsafe"), "{csp}");
            for directive in [
                "frame-ancestors 'none'",
                "base-uri 'none'",
                "form-action 'self'",
            ] {
                assert!(csp.contains(directive), "{csp}: {directive}");
            }
        }
        assert!(!scripted_csp(false).contains("challenges.cloudflare.com"));
        assert!(scripted_csp(true).contains("script-src 'self' https://challenges.cloudflare.com;"));
        assert!(scripted_csp(true).ends_with("; frame-src https://challenges.cloudflare.com"));
    }

    #[test]
    fn documents_escape_their_title_and_load_no_inline_style() {
        let page = document("<b>", "", "<p>body</p>");
        assert!(page.contains("<title>&lt;b&gt;</title>"));
        assert!(!page.contains("<style") && !page.contains("style=\""));
        assert!(page.contains("href=\"/support\""));
    }
}
