//! The public "contact support" page (`/support`): a plain form that posts to
//! `/api/tickets/create` and works without JavaScript (`form_post.rs` says how the
//! post is answered). `/assets/support.js` only improves it: it posts JSON and puts
//! the API's field errors next to the fields, in the same markup this page uses when
//! it shows them itself after a post without script.

use serde_json::Value;

use super::html::{created_notice, document, escape, TURNSTILE_ORIGIN};
use crate::domain::abuse::HONEYPOT_FIELD;
use crate::domain::fields::Fields;
use crate::domain::ticket_input::{CUSTOMER_NAME, DESCRIPTION, SUBJECT};
use crate::domain::validation::FieldError;

/// The longest email address the API accepts (`domain::email`).
const EMAIL_MAX_CHARS: usize = crate::domain::email::MAX_EMAIL_CHARS;

/// Why the form is shown again: the API's message and its per-field details.
pub struct Problem<'a> {
    pub message: &'a str,
    pub fields: &'a [FieldError],
}

pub struct SupportPage<'a> {
    /// The configured categories; the first is the default.
    pub categories: &'a [String],
    /// The priorities a customer may choose, the default among them.
    pub priorities: &'a [&'a str],
    pub default_priority: &'a str,
    /// Shows Turnstile's widget (the page's CSP then allows its origin).
    pub turnstile_site_key: Option<&'a str>,
    /// What the person typed, when the form is shown again after a refused post.
    pub values: Option<&'a Fields>,
    pub problem: Option<Problem<'a>>,
    /// A ticket just created without status links: its number, for the banner.
    pub created: Option<&'a str>,
}

pub const TITLE: &str = "Contact support";

pub fn support_page(p: &SupportPage) -> String {
    let value = |name: &str| {
        p.values
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let error_of = |name: &str| {
        p.problem
            .as_ref()
            .and_then(|pr| pr.fields.iter().find(|f| f.field == name))
            .map(|f| f.message.as_str())
    };
    let field = |name: &str, label: &str, required: bool, control: String, hint: &str| {
        let error = error_of(name);
        let aria = match (hint.is_empty(), error.is_some()) {
            (true, false) => String::new(),
            (false, false) => format!(" aria-describedby=\"{name}-hint\""),
            (true, true) => format!(" aria-describedby=\"{name}-error\" aria-invalid=\"true\""),
            (false, true) => {
                format!(" aria-describedby=\"{name}-hint {name}-error\" aria-invalid=\"true\"")
            }
        };
        // The placeholder stands before any typed value in every control, so only the
        // first occurrence is ours (a person may type "{aria}" too).
        let control = control.replacen("{aria}", &aria, 1);
        format!(
            "<div class=\"field{}\"><label for=\"{name}\">{label}{}</label>{}{control}{}</div>",
            if error.is_some() { " invalid" } else { "" },
            if required {
                " <span class=\"req\" aria-hidden=\"true\">*</span>"
            } else {
                ""
            },
            if hint.is_empty() {
                String::new()
            } else {
                format!("<p class=\"hint\" id=\"{name}-hint\">{hint}</p>")
            },
            error.map_or(String::new(), |e| format!(
                "<p class=\"field-error\" id=\"{name}-error\">{}</p>",
                escape(e)
            )),
        )
    };
    let options = |choices: &mut dyn Iterator<Item = &str>, selected: &str| -> String {
        choices
            .map(|c| {
                format!(
                    "<option value=\"{v}\"{}>{}</option>",
                    if c.eq_ignore_ascii_case(selected) {
                        " selected"
                    } else {
                        ""
                    },
                    escape(&capitalized(c)),
                    v = escape(c)
                )
            })
            .collect()
    };
    let chosen = |name: &str, default: &str| match value(name) {
        "" => default.to_owned(),
        v => v.to_owned(),
    };

    let banner = p.created.map_or(String::new(), |number| {
        created_notice(
            number,
            &format!(
                "Please keep the number {} for reference.</p>",
                escape(number)
            ),
        )
    });
    let summary = p.problem.as_ref().map_or(String::new(), |problem| {
        let items: String = problem
            .fields
            .iter()
            .map(|f| {
                format!(
                    "<li><a href=\"#{}\">{}</a></li>",
                    escape(&f.field),
                    escape(&f.message)
                )
            })
            .collect();
        format!(
            "<div class=\"error-summary\" id=\"form-problem\" role=\"alert\" tabindex=\"-1\">\
             <h2>We could not send your request</h2><p>{}</p>{}</div>",
            escape(problem.message),
            if items.is_empty() {
                String::new()
            } else {
                format!("<ul>{items}</ul>")
            }
        )
    });
    let turnstile = p.turnstile_site_key.map_or(String::new(), |key| {
        format!(
            "<div class=\"cf-turnstile\" data-sitekey=\"{}\"></div>",
            escape(key)
        )
    });
    let first_category = p.categories.first().map_or("", String::as_str);
    let fields = [
        field(
            "subject",
            "Subject",
            true,
            format!(
                "<input id=\"subject\" name=\"subject\" type=\"text\" required maxlength=\"{}\" {{aria}} value=\"{}\">",
                SUBJECT.max_chars,
                escape(value("subject"))
            ),
            "",
        ),
        field(
            "description",
            "Description",
            true,
            format!(
                "<textarea id=\"description\" name=\"description\" required maxlength=\"{}\" rows=\"8\"{{aria}}>{}</textarea>",
                DESCRIPTION.max_chars,
                escape(value("description"))
            ),
            "What happened, and what did you expect instead?",
        ),
        field(
            "customer_email",
            "Your email",
            true,
            format!(
                "<input id=\"customer_email\" name=\"customer_email\" type=\"email\" required maxlength=\"{EMAIL_MAX_CHARS}\" autocomplete=\"email\"{{aria}} value=\"{}\">",
                escape(value("customer_email"))
            ),
            "We answer here.",
        ),
        field(
            "customer_name",
            "Your name",
            false,
            format!(
                "<input id=\"customer_name\" name=\"customer_name\" type=\"text\" maxlength=\"{}\" autocomplete=\"name\"{{aria}} value=\"{}\">",
                CUSTOMER_NAME.max_chars,
                escape(value("customer_name"))
            ),
            "",
        ),
        field(
            "priority",
            "Priority",
            false,
            format!(
                "<select id=\"priority\" name=\"priority\"{{aria}}>{}</select>",
                options(
                    &mut p.priorities.iter().copied(),
                    &chosen("priority", p.default_priority)
                )
            ),
            "",
        ),
        field(
            "category",
            "Category",
            false,
            format!(
                "<select id=\"category\" name=\"category\"{{aria}}>{}</select>",
                options(
                    &mut p.categories.iter().map(String::as_str),
                    &chosen("category", first_category)
                )
            ),
            "",
        ),
    ]
    .concat();
    // The honeypot: off-screen by a class (no inline style), out of the tab order,
    // hidden from screen readers and from autofill. People never fill it; bots do.
    let honeypot = format!(
        "<div class=\"hp\" aria-hidden=\"true\"><label for=\"{HONEYPOT_FIELD}\">Website</label>\
         <input id=\"{HONEYPOT_FIELD}\" name=\"{HONEYPOT_FIELD}\" type=\"text\" tabindex=\"-1\" autocomplete=\"off\"></div>"
    );
    let body = format!(
        "<h1>{TITLE}</h1>{banner}<p>Tell us what happened and we will answer by email. \
         Fields marked <span aria-hidden=\"true\">*</span><span class=\"visually-hidden\">with a star</span> are required.</p>\
         {summary}<form id=\"support-form\" method=\"post\" action=\"/api/tickets/create\">\
         {fields}{honeypot}{turnstile}<p><button type=\"submit\">Send request</button></p></form>"
    );
    let mut head = "<script type=\"module\" src=\"/assets/support.js\"></script>".to_owned();
    if p.turnstile_site_key.is_some() {
        head.push_str(&format!(
            "<script src=\"{TURNSTILE_ORIGIN}/turnstile/v0/api.js\" async defer></script>"
        ));
    }
    let title = if p.problem.is_some() {
        format!("Error: {TITLE}")
    } else {
        TITLE.to_owned()
    };
    document(&title, &head, &body)
}

/// `general` -> `General`, for labels. ASCII only: categories are configured
/// lowercase ASCII words, and Unicode's case tables would cost the wasm ~10 KB.
fn capitalized(word: &str) -> String {
    let mut label = word.to_owned();
    if let Some(first) = label.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn categories() -> Vec<String> {
        vec!["general".into(), "billing".into(), "<evil>".into()]
    }

    fn page(
        values: Option<&Fields>,
        problem: Option<Problem>,
        key: Option<&str>,
        created: Option<&str>,
    ) -> String {
        support_page(&SupportPage {
            categories: &categories(),
            priorities: &["low", "medium", "high"],
            default_priority: "medium",
            turnstile_site_key: key,
            values,
            problem,
            created,
        })
    }

    #[test]
    fn the_form_has_every_field_labelled_and_the_configured_categories() {
        let html = page(None, None, None, None);
        for name in [
            "subject",
            "description",
            "customer_email",
            "customer_name",
            "priority",
            "category",
        ] {
            assert!(html.contains(&format!("<label for=\"{name}\">")), "{name}");
            assert!(html.contains(&format!("name=\"{name}\"")), "{name}");
        }
        assert!(html.contains("<option value=\"general\" selected>General</option>"));
        assert!(html.contains("<option value=\"billing\">Billing</option>"));
        assert!(html.contains("<option value=\"&lt;evil&gt;\">&lt;evil&gt;</option>"));
        assert!(html.contains("<option value=\"medium\" selected>Medium</option>"));
        assert!(html.contains("action=\"/api/tickets/create\""));
        assert!(!html.contains("cf-turnstile") && !html.contains("challenges.cloudflare.com"));
        assert!(!html.contains("role=\"alert\"") && !html.contains("role=\"status\""));
    }

    #[test]
    fn the_honeypot_is_hidden_from_people_and_screen_readers() {
        let html = page(None, None, None, None);
        let start = html.find("<div class=\"hp\"").unwrap();
        let honeypot = &html[start..start + html[start..].find("</div>").unwrap()];
        assert!(honeypot.contains("aria-hidden=\"true\""));
        assert!(honeypot.contains("tabindex=\"-1\""));
        assert!(honeypot.contains("autocomplete=\"off\""));
        assert!(!html.contains("style="));
    }

    #[test]
    fn turnstile_appears_with_a_site_key() {
        let html = page(None, None, Some("0x4AAA\"x"), None);
        assert!(html.contains("<div class=\"cf-turnstile\" data-sitekey=\"0x4AAA&quot;x\"></div>"));
        assert!(html.contains(
            "<script src=\"https://challenges.cloudflare.com/turnstile/v0/api.js\" async defer></script>"
        ));
    }

    #[test]
    fn a_refused_post_shows_the_messages_and_keeps_what_was_typed() {
        let values: Fields = json!({
            "subject": "<b>Printer</b>",
            "description": "It \"burns\"</textarea><script>",
            "customer_email": "ann@{aria}",
            "priority": "high",
            "category": "billing",
            "website": "never echoed"
        })
        .as_object()
        .unwrap()
        .clone();
        let errors = [FieldError::new(
            "customer_email",
            "invalid_email",
            "Customer email is not a valid email address",
        )];
        let html = page(
            Some(&values),
            Some(Problem {
                message: "Customer email is not a valid email address",
                fields: &errors,
            }),
            None,
            None,
        );
        assert!(html.contains("<title>Error: Contact support</title>"));
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains(
            "<a href=\"#customer_email\">Customer email is not a valid email address</a>"
        ));
        assert!(html.contains(
            "aria-describedby=\"customer_email-hint customer_email-error\" aria-invalid=\"true\""
        ));
        assert!(html.contains("<p class=\"field-error\" id=\"customer_email-error\">"));
        assert!(html.contains("value=\"&lt;b&gt;Printer&lt;/b&gt;\""));
        // Typed text that looks like the page's own placeholder stays text.
        assert!(html.contains("aria-invalid=\"true\" value=\"ann@{aria}\">"));
        assert!(html.contains("It &quot;burns&quot;&lt;/textarea&gt;&lt;script&gt;</textarea>"));
        assert!(html.contains("<option value=\"high\" selected>High</option>"));
        assert!(html.contains("<option value=\"billing\" selected>Billing</option>"));
        assert!(!html.contains("never echoed"));
        assert_eq!(html.matches("aria-invalid").count(), 1);
    }

    #[test]
    fn a_created_ticket_is_confirmed_by_number() {
        let html = page(None, None, None, Some("TKT-2026-0007"));
        assert!(html.contains("role=\"status\""));
        assert!(html.contains("Ticket TKT-2026-0007 is open"));
    }
}
