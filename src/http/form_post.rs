//! How the public create answers a plain HTML form: the support page posts
//! `application/x-www-form-urlencoded` with the browser's `Accept`, and a person
//! should land on a page, not on JSON.
//!
//! The rule, in order:
//! 1. Not a form post (JSON): the JSON answer, as always.
//! 2. A form post from another site while `FORM_SUCCESS_URL` is set: `303` to that URL
//!    plus `ticket=TKT-...` (the site that hosts the form decides where people go),
//!    errors as JSON. Our own `/support` page is not another site: its posts carry
//!    `Sec-Fetch-Site: same-origin` and follow rule 3, so it keeps working.
//! 3. A form post whose `Accept` prefers `text/html` to JSON (what a browser sends
//!    when it submits a form): `303` to the customer's status page with `created=1`
//!    (its confirmation banner shows the number and the private link), or, without
//!    status links (`TICKET_TOKEN_SECRET` unset), to `/support?created=TKT-...`,
//!    which shows the number. Errors are the support page again, with the messages.
//! 4. Any other form post (a script that did not ask for HTML): JSON, as before.

use crate::domain::ticket::TicketNumber;

/// Whether an `Accept` header prefers HTML to JSON. Browsers submitting a form send
/// `text/html,application/xhtml+xml,...,*/*;q=0.8`; API clients send
/// `application/json`, `*/*` or nothing, and a tie goes to JSON. Wildcards count
/// for neither side: they do not say what the client wants.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let (mut html, mut json) = (0, 0);
    for item in accept.unwrap_or_default().split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .map(quality_thousandths)
            .next()
            .unwrap_or(1000);
        if media.eq_ignore_ascii_case("text/html")
            || media.eq_ignore_ascii_case("application/xhtml+xml")
        {
            html = html.max(quality);
        } else if media.eq_ignore_ascii_case("application/json") {
            json = json.max(quality);
        }
    }
    html > json
}

/// An RFC 9110 `qvalue` (`0`, `0.5`, `1.000`) in thousandths; anything else is 0.
fn quality_thousandths(text: &str) -> u32 {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let valid = matches!(whole, "0" | "1")
        && fraction.len() <= 3
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return 0;
    }
    let digits: u32 = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, b| n * 10 + u32::from(b - b'0'));
    (if whole == "1" { 1000 } else { digits }).min(1000)
}

/// What kind of client sent a create, for how it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormClient {
    /// JSON, or a form post that did not ask for HTML: answered in JSON.
    Api,
    /// A form post while `FORM_SUCCESS_URL` is set: success redirects there.
    Configured,
    /// A browser submitting the support page: pages and redirects.
    Browser,
}

/// What a create request says about who sent it.
pub struct Sender<'a> {
    /// Its body is `application/x-www-form-urlencoded`.
    pub is_form: bool,
    pub accept: Option<&'a str>,
    /// `Sec-Fetch-Site` (browsers send it; `same-origin` for our own pages' posts).
    pub fetch_site: Option<&'a str>,
}

impl FormClient {
    pub fn of(sender: &Sender, success_url_set: bool) -> Self {
        let another_site = sender.fetch_site != Some("same-origin");
        match (sender.is_form, success_url_set && another_site) {
            (false, _) => FormClient::Api,
            (true, true) => FormClient::Configured,
            (true, false) if prefers_html(sender.accept) => FormClient::Browser,
            (true, false) => FormClient::Api,
        }
    }

    /// Where a created ticket sends this client (a `303`), or `None` for the JSON
    /// `201`. `status_token` is the ticket's status-link token, when links are on.
    pub fn location_after_create(
        self,
        success_url: Option<&str>,
        number: &TicketNumber,
        status_token: Option<&str>,
    ) -> Option<String> {
        match (self, success_url, status_token) {
            (FormClient::Api, ..) => None,
            (FormClient::Configured, Some(url), _) => {
                let separator = if url.contains('?') { '&' } else { '?' };
                Some(format!("{url}{separator}ticket={number}"))
            }
            (FormClient::Configured, None, _) => None,
            (FormClient::Browser, _, Some(token)) => {
                Some(format!("/t/{number}?token={token}&created=1"))
            }
            (FormClient::Browser, _, None) => Some(format!("/support?created={number}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str =
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
    const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn browsers_prefer_html_and_api_clients_do_not() {
        assert!(prefers_html(Some(CHROME)));
        assert!(prefers_html(Some(FIREFOX)));
        assert!(prefers_html(Some("TEXT/HTML")));
        for api in [
            None,
            Some(""),
            Some("*/*"),
            Some("application/json"),
            Some("application/json, text/html"),
            Some("text/html;q=0.5, application/json"),
            Some("text/html;q=0"),
            Some("text/html;q=abc"),
            Some("text/*"),
        ] {
            assert!(!prefers_html(api), "{api:?}");
        }
        assert!(prefers_html(Some(
            "application/json;q=0.4, text/html;q=0.5"
        )));
    }

    #[test]
    fn qualities() {
        assert_eq!(quality_thousandths("1"), 1000);
        assert_eq!(quality_thousandths("1.000"), 1000);
        assert_eq!(quality_thousandths("0.85"), 850);
        assert_eq!(quality_thousandths("0.001"), 1);
        for bad in ["0", "2", "0.1234", "-1", "", "0.x", "1.5e3"] {
            assert_eq!(quality_thousandths(bad), 0, "{bad}");
        }
    }

    #[test]
    fn who_gets_what() {
        let of = |is_form, accept, fetch_site, success_url_set| {
            let sender = Sender {
                is_form,
                accept,
                fetch_site,
            };
            FormClient::of(&sender, success_url_set)
        };
        assert_eq!(of(false, Some(CHROME), None, false), FormClient::Api);
        assert_eq!(of(true, None, None, false), FormClient::Api);
        assert_eq!(of(true, Some("*/*"), None, false), FormClient::Api);
        assert_eq!(of(true, Some(CHROME), None, false), FormClient::Browser);
        let site = Some("cross-site");
        assert_eq!(of(true, Some(CHROME), site, true), FormClient::Configured);
        assert_eq!(of(true, None, None, true), FormClient::Configured);
        // Our own /support page, whatever FORM_SUCCESS_URL says.
        let ours = Some("same-origin");
        assert_eq!(of(true, Some(CHROME), ours, true), FormClient::Browser);
        assert_eq!(of(true, Some("*/*"), ours, true), FormClient::Api);
    }

    #[test]
    fn where_a_created_ticket_sends_each_client() {
        let n = TicketNumber::new(2026, 42);
        let go = |client: FormClient, url: Option<&str>, token: Option<&str>| {
            client.location_after_create(url, &n, token)
        };
        assert_eq!(go(FormClient::Api, None, Some("tok")), None);
        assert_eq!(
            go(FormClient::Browser, None, Some("tok")).as_deref(),
            Some("/t/TKT-2026-0042?token=tok&created=1")
        );
        assert_eq!(
            go(FormClient::Browser, None, None).as_deref(),
            Some("/support?created=TKT-2026-0042")
        );
        assert_eq!(
            go(
                FormClient::Configured,
                Some("https://site.example/thanks"),
                Some("tok")
            )
            .as_deref(),
            Some("https://site.example/thanks?ticket=TKT-2026-0042")
        );
        assert_eq!(
            go(
                FormClient::Configured,
                Some("https://site.example/t?x=1"),
                None
            )
            .as_deref(),
            Some("https://site.example/t?x=1&ticket=TKT-2026-0042")
        );
    }
}
