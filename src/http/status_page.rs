//! The customer's status page (`/t/{number}?token=...`): the ticket, its public
//! thread and a reply form, every value escaped. No script runs on it. Text the
//! customer or staff wrote sits in its own bidi isolate (`<bdi>`, or `dir="auto"` on
//! a block), so right-to-left overrides inside it cannot reorder the page around it.

use super::html::{document, escape};

pub struct PageMessage<'a> {
    pub author: &'a str,
    pub body: &'a str,
    pub created_at: &'a str,
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
    /// Right after the support form created the ticket: its private link, shown in
    /// a confirmation banner so the customer can keep it.
    pub just_created: Option<&'a str>,
}

pub fn status_page(p: &StatusPage) -> String {
    let number = escape(p.ticket_number);
    let banner = match p.just_created {
        Some(link) => format!(
            "<section class=\"notice\" role=\"status\" aria-labelledby=\"created-title\">\
             <h2 id=\"created-title\">Ticket {number} is open</h2>\
             <p>We have your request and will answer by email. This page is your private \
             link to follow the ticket and reply; keep it, and do not share it:</p>\
             <p class=\"link\"><a href=\"{link}\">{link}</a></p></section>",
            link = escape(link)
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
                 <div class=\"body\" dir=\"auto\">{}</div></article>",
                escape(m.created_at),
                escape(m.body)
            )
        })
        .collect();
    let reply = match p.reply_action {
        Some(action) => format!(
            "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
             <label for=\"body\">Your reply</label><textarea id=\"body\" name=\"body\" required maxlength=\"{}\"></textarea>\
             <p><button type=\"submit\">Send reply</button></p></form>",
            escape(action),
            escape(p.token),
            p.max_reply_chars
        ),
        None => "<p>This ticket is closed. Please <a href=\"/support\">open a new ticket</a> \
                 if you need more help.</p>"
            .to_owned(),
    };
    let body = format!(
        "{banner}<h1><bdi>{subject}</bdi></h1><p class=\"meta\">Ticket {number} &middot; status <strong>{status}</strong> &middot; \
         priority {priority} &middot; opened {created} &middot; updated {updated}</p>\
         <article class=\"msg\"><p class=\"who\">You</p><div class=\"body\" dir=\"auto\">{description}</div></article>\
         {messages}{reply}<p class=\"meta\"><a href=\"/support\">Open another ticket</a></p>",
        subject = escape(p.subject),
        status = escape(p.status),
        priority = escape(p.priority),
        created = escape(p.created_at),
        updated = escape(p.updated_at),
        description = escape(p.description),
    );
    document(p.ticket_number, "", &body)
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
            created_at: "2026-01-01T00:00:00.000Z",
            updated_at: "2026-01-01T00:00:00.000Z",
            description: evil,
            messages: vec![PageMessage {
                author: "staff",
                body: evil,
                created_at: "t",
            }],
            reply_action: Some("/api/tickets/TKT-2026-0001/messages"),
            token: "\"><script>",
            max_reply_chars: 10_000,
            just_created,
        })
    }

    #[test]
    fn page_escapes_every_value() {
        let page = page(None);
        assert!(!page.contains("<img"));
        assert!(!page.contains("<script>"));
        assert_eq!(page.matches("&lt;img").count(), 3);
        assert!(!page.contains("role=\"status\""));
        assert!(page.contains("href=\"/support\">Open another ticket"));
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
