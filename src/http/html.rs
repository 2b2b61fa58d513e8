//! The customer's status page: small, self-contained HTML with every value escaped.
//! Text the customer or staff wrote sits in its own bidi isolate (`<bdi>`, or
//! `dir="auto"` on a block), so right-to-left overrides inside it cannot reorder
//! the page around it. Pure string building, unit-tested natively. Its one script
//! (`/t/upload.js`, served by the worker) uploads files; without it the page still
//! works.

use std::sync::LazyLock;

use crate::domain::encoding::hex;
use crate::domain::hash::sha256;

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

/// Nothing external; scripts only from this origin (the page loads one, the upload
/// control), which may only call this origin; forms may only post back to it.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The upload control's script (`GET /t/upload.js`).
pub const UPLOAD_SCRIPT: &str = include_str!("status_upload.js");

/// `/t/upload.js?v=<hash of its text>`: a new version is a new URL, so the script
/// can be cached for a year.
pub static UPLOAD_SCRIPT_SRC: LazyLock<String> = LazyLock::new(|| {
    format!(
        "/t/upload.js?v={}",
        &hex(&sha256(UPLOAD_SCRIPT.as_bytes()))[..16]
    )
});

pub struct PageMessage<'a> {
    pub author: &'a str,
    pub body: &'a str,
    pub created_at: &'a str,
    pub attachments: Vec<PageAttachment<'a>>,
}

/// A file in the thread: a link to download it (with the token), and its size.
pub struct PageAttachment<'a> {
    pub filename: &'a str,
    pub size: &'a str,
    pub url: &'a str,
}

/// What the upload control needs to know (the script reads it from the page).
pub struct UploadControl<'a> {
    /// Where files are posted.
    pub action: &'a str,
    pub max_files: usize,
    pub max_bytes: u64,
    /// The accepted types, comma-separated.
    pub accept: &'a str,
}

pub struct StatusPage<'a> {
    pub ticket_number: &'a str,
    pub subject: &'a str,
    pub status: &'a str,
    pub priority: &'a str,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    pub description: &'a str,
    pub messages: Vec<PageMessage<'a>>,
    /// Where the reply form posts (with the token as a hidden field); `None` when
    /// the ticket is closed.
    pub reply_action: Option<&'a str>,
    pub token: &'a str,
    /// `MESSAGE_MAX_CHARS`, for the reply box.
    pub max_reply_chars: usize,
    pub upload: UploadControl<'a>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#222}\
    .meta{color:#555}.msg{border-left:3px solid #ccc;padding:.25rem .75rem;margin:1rem 0;white-space:pre-wrap}\
    .staff{border-color:#2a6}.who{font-weight:600}textarea{width:100%;min-height:8rem}\
    .files{margin:.25rem 0 0;padding-left:1.25rem;white-space:normal}";

pub fn status_page(p: &StatusPage) -> String {
    let messages: String = p
        .messages
        .iter()
        .map(|m| {
            let class = if m.author == "customer" { "msg" } else { "msg staff" };
            let who = match m.author {
                "customer" => "You",
                "staff" => "Support team",
                _ => "System",
            };
            format!(
                "<div class=\"{class}\"><div class=\"who\">{who} <span class=\"meta\">{}</span></div><div dir=\"auto\">{}</div>{}</div>",
                escape(m.created_at),
                escape(m.body),
                attachment_list(&m.attachments)
            )
        })
        .collect();
    let reply = match p.reply_action {
        Some(action) => format!(
            "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
             <label for=\"body\">Your reply</label><textarea id=\"body\" name=\"body\" required maxlength=\"{}\"></textarea>\
             {}<p><button type=\"submit\">Send reply</button></p></form>{}",
            escape(action),
            escape(p.token),
            p.max_reply_chars,
            upload_control(&p.upload),
            format_args!(
                "<script src=\"{}\" defer></script>",
                escape(&UPLOAD_SCRIPT_SRC)
            )
        ),
        None => "<p>This ticket is closed. Please open a new ticket if you need more help.</p>".to_owned(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{number}</title><style>{STYLE}</style></head><body>\
         <h1><bdi>{subject}</bdi></h1><p class=\"meta\">Ticket {number} &middot; status <strong>{status}</strong> &middot; \
         priority {priority} &middot; opened {created} &middot; updated {updated}</p>\
         <div class=\"msg\"><div class=\"who\">You</div><div dir=\"auto\">{description}</div></div>{messages}{reply}</body></html>",
        number = escape(p.ticket_number),
        subject = escape(p.subject),
        status = escape(p.status),
        priority = escape(p.priority),
        created = escape(p.created_at),
        updated = escape(p.updated_at),
        description = escape(p.description),
    )
}

/// A message's files as a list of download links.
fn attachment_list(files: &[PageAttachment]) -> String {
    if files.is_empty() {
        return String::new();
    }
    let items: String = files
        .iter()
        .map(|f| {
            format!(
                "<li><a href=\"{}\" download><bdi>{}</bdi></a> <span class=\"meta\">({})</span></li>",
                escape(f.url),
                escape(f.filename),
                escape(f.size)
            )
        })
        .collect();
    format!("<ul class=\"files\">{items}</ul>")
}

/// The file picker, hidden until the script shows it (it uploads the files, then
/// lists their ids in `attachment_ids`); without JavaScript a note says why there is
/// none, and the reply form works as before.
fn upload_control(u: &UploadControl) -> String {
    format!(
        "<div id=\"attach\" hidden data-action=\"{}\" data-max-files=\"{}\" data-max-bytes=\"{}\">\
         <label for=\"files\">Attach files</label> <input type=\"file\" id=\"files\" multiple accept=\"{}\">\
         <p class=\"meta\" id=\"attach-status\" role=\"status\"></p></div>\
         <input type=\"hidden\" name=\"attachment_ids\" value=\"\">\
         <noscript><p class=\"meta\">Attaching files needs JavaScript; your reply works without it.</p></noscript>",
        escape(u.action),
        u.max_files,
        u.max_bytes,
        escape(u.accept)
    )
}

/// The page for an unknown number or a wrong token: the same in both cases.
pub fn not_found_page() -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>\
         <style>{STYLE}</style></head><body><h1>Ticket not found</h1>\
         <p>Check the link in your email, or ask for a new one.</p></body></html>"
    )
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

    #[test]
    fn page_escapes_every_value() {
        let evil = "<img src=x onerror=alert(1)>";
        let page = status_page(&StatusPage {
            ticket_number: "TKT-2026-0001",
            subject: evil,
            status: "open",
            priority: "low",
            created_at: "2026-01-01T00:00:00.000Z",
            updated_at: "2026-01-01T00:00:00.000Z",
            description: evil,
            messages: vec![PageMessage {
                author: "staff",
                body: evil,
                created_at: "t",
                attachments: vec![PageAttachment {
                    filename: evil,
                    size: "1 KB",
                    url: "/api/tickets/TKT-2026-0001/attachments/1?token=\"><script>",
                }],
            }],
            reply_action: Some("/api/tickets/TKT-2026-0001/messages"),
            token: "\"><script>",
            max_reply_chars: 10_000,
            upload: UploadControl {
                action: "/api/tickets/TKT-2026-0001/attachments",
                max_files: 5,
                max_bytes: 10,
                accept: "image/png,\"><script>",
            },
        });
        assert!(!page.contains("<img"));
        assert!(!page.contains("<script>"));
        assert_eq!(page.matches("&lt;img").count(), 4);
        // The one script is the upload control, from this origin.
        assert_eq!(page.matches("<script").count(), 1);
        assert!(page.contains("<script src=\"/t/upload.js?v="));
    }
}
