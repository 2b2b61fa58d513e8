//! The customer's status page (`/t/{number}?token=...`): the ticket, its public
//! thread with its files, and a reply form, every value escaped. Text the customer or
//! staff wrote sits in its own bidi isolate (`<bdi>`, or `dir="auto"` on a block), so
//! right-to-left overrides inside it cannot reorder the page around it. Its one script
//! (`/assets/status.js`, built from `ui/status.js`) uploads files; without it the page
//! works.

use std::sync::LazyLock;

use super::html::{created_notice, document, escape, CONTENT_SECURITY_POLICY};
use crate::domain::time::Timestamp;

/// The page's policy: the pages' own, plus scripts from this origin (the upload
/// control) that may only call this origin.
pub static STATUS_PAGE_CSP: LazyLock<String> =
    LazyLock::new(|| format!("{CONTENT_SECURITY_POLICY}; script-src 'self'; connect-src 'self'"));

pub struct PageMessage<'a> {
    pub author: &'a str,
    pub body: &'a str,
    pub created_at: Timestamp,
    pub attachments: Vec<PageAttachment<'a>>,
}

/// A file in the thread: a link to download it (with the token), and its size.
pub struct PageAttachment<'a> {
    pub filename: &'a str,
    pub size: String,
    pub url: String,
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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub description: &'a str,
    pub messages: Vec<PageMessage<'a>>,
    /// Where the reply form posts (with the token as a hidden field); `None` when
    /// the ticket is closed.
    pub reply_action: Option<&'a str>,
    pub token: &'a str,
    /// `MESSAGE_MAX_CHARS`, for the reply box.
    pub max_reply_chars: usize,
    /// Right after the support form created the ticket: its private link, shown in
    /// a confirmation banner so the customer can keep it.
    pub just_created: Option<&'a str>,
    /// Why the reply just posted was refused (its text is back in the box).
    pub problem: Option<&'a str>,
    /// The reply box's text: what was typed, after a refusal.
    pub draft: &'a str,
    pub upload: UploadControl<'a>,
}

pub fn status_page(p: &StatusPage) -> String {
    let number = escape(p.ticket_number);
    let banner = match p.just_created {
        Some(link) => created_notice(
            p.ticket_number,
            &format!(
                "This page is your private link to follow the ticket and reply; keep it, \
                 and do not share it:</p><p class=\"link\"><a href=\"{link}\">{link}</a></p>",
                link = escape(link)
            ),
        ),
        None => String::new(),
    };
    let messages: String = p
        .messages
        .iter()
        .map(|m| {
            let (class, who) = match m.author {
                "customer" => ("msg", "You"),
                "staff" => ("msg staff", "Support team"),
                _ => ("msg staff", "System"),
            };
            format!(
                "<article class=\"{class}\"><p class=\"who\">{who} <span class=\"meta\">{}</span></p>\
                 <div class=\"body\" dir=\"auto\">{}</div>{}</article>",
                time(m.created_at),
                escape(m.body),
                attachment_list(&m.attachments)
            )
        })
        .collect();
    let problem = match p.problem {
        Some(text) => format!(
            "<div class=\"error-summary\" role=\"alert\" id=\"reply-problem\"><p><strong>Your reply was not sent.</strong> {}</p></div>",
            escape(text)
        ),
        None => String::new(),
    };
    let described = if p.problem.is_some() {
        " aria-describedby=\"reply-problem\" aria-invalid=\"true\""
    } else {
        ""
    };
    let reply = match p.reply_action {
        Some(action) => format!(
            "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"token\" value=\"{}\">{problem}\
             <label for=\"body\">Your reply</label><textarea id=\"body\" name=\"body\" required maxlength=\"{}\"{described}>{}</textarea>\
             {}<p><button type=\"submit\">Send reply</button></p></form>",
            escape(action),
            escape(p.token),
            p.max_reply_chars,
            escape(p.draft),
            upload_control(&p.upload)
        ),
        // Closed: the refusal (if any) says so above the note.
        None => format!(
            "{problem}<p>This ticket is closed. Please <a href=\"/support\">open a new ticket</a> \
             if you need more help.</p>"
        ),
    };
    let body = format!(
        "{banner}<h1><bdi>{subject}</bdi></h1><p class=\"meta\">Ticket {number} &middot; status <strong>{status}</strong> &middot; \
         priority {priority} &middot; opened {created} &middot; updated {updated}</p>\
         <article class=\"msg\"><p class=\"who\">You <span class=\"meta\">{created}</span></p><div class=\"body\" dir=\"auto\">{description}</div></article>\
         {messages}{reply}<p class=\"meta\"><a href=\"/support\">Open another ticket</a></p>",
        subject = escape(p.subject),
        status = escape(p.status),
        priority = escape(p.priority),
        created = time(p.created_at),
        updated = time(p.updated_at),
        description = escape(p.description),
    );
    let script = if p.reply_action.is_some() {
        "<script src=\"/assets/status.js\" defer></script>"
    } else {
        ""
    };
    document(p.ticket_number, script, &body)
}

/// A time for a person, with its exact value for machines.
fn time(at: Timestamp) -> String {
    format!("<time datetime=\"{}\">{}</time>", at.rfc3339(), at.human())
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
                escape(&f.url),
                escape(f.filename),
                escape(&f.size)
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
    document(
        "Ticket not found",
        "",
        "<h1>Ticket not found</h1><p>Check the link in your email, or ask for a new one.</p>\
         <p><a href=\"/support\">Open a new ticket</a></p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(just_created: Option<&str>) -> String {
        let evil = "<img src=x onerror=alert(1)>";
        status_page(&StatusPage {
            ticket_number: "TKT-2026-0001",
            subject: evil,
            status: "open",
            priority: "low",
            created_at: Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap(),
            updated_at: Timestamp::parse("2026-01-02T09:30:00.000Z").unwrap(),
            description: evil,
            messages: vec![PageMessage {
                author: "staff",
                body: evil,
                created_at: Timestamp::parse("2026-01-02T09:30:00.000Z").unwrap(),
                attachments: vec![PageAttachment {
                    filename: evil,
                    size: "1 KB".into(),
                    url: "/api/tickets/TKT-2026-0001/attachments/1?token=\"><script>".into(),
                }],
            }],
            reply_action: Some("/api/tickets/TKT-2026-0001/messages"),
            token: "\"><script>",
            max_reply_chars: 10_000,
            just_created,
            problem: None,
            draft: "",
            upload: UploadControl {
                action: "/api/tickets/TKT-2026-0001/attachments",
                max_files: 5,
                max_bytes: 10,
                accept: "image/png,\"><script>",
            },
        })
    }

    #[test]
    fn page_escapes_every_value() {
        let page = page(None);
        assert!(!page.contains("<img"));
        assert!(!page.contains("<script>"));
        assert_eq!(page.matches("&lt;img").count(), 4);
        // The one script is the upload control, from this origin.
        assert_eq!(page.matches("<script").count(), 1);
        assert!(page.contains("<script src=\"/assets/status.js\" defer>"));
        assert!(page.contains("<ul class=\"files\"><li><a href=\"/api/tickets/TKT-2026-0001/attachments/1?token=&quot;&gt;&lt;script&gt;\" download>"));
        assert!(!page.contains("created-title"), "no banner");
        assert!(page.contains("href=\"/support\">Open another ticket"));
    }

    #[test]
    fn times_read_as_a_person_reads_them() {
        let page = page(None);
        assert!(page.contains(
            "opened <time datetime=\"2026-01-01T00:00:00.000Z\">1 Jan 2026, 00:00 UTC</time>"
        ));
        assert!(page.contains("Support team <span class=\"meta\"><time datetime=\"2026-01-02T09:30:00.000Z\">2 Jan 2026, 09:30 UTC</time>"));
    }

    #[test]
    fn a_new_ticket_shows_its_number_and_private_link() {
        let page = page(Some("https://help.example/t/TKT-2026-0001?token=a&b"));
        assert!(page.contains("Ticket TKT-2026-0001 is open"));
        assert!(page.contains(
            "<a href=\"https://help.example/t/TKT-2026-0001?token=a&amp;b\">https://help.example/t/TKT-2026-0001?token=a&amp;b</a>"
        ));
    }
}
