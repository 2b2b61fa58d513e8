//! Policies from `wrangler.toml` vars, each with a safe default. Parsing is pure
//! (a lookup function in, a `Config` out) so it is unit-tested natively, and so is
//! `Config::problems`, the health check's list of settings that look wrong.

use serde::Serialize;

use crate::domain::attachment::AllowedTypes;
use crate::domain::email::EmailAddress;
use crate::domain::password::MAX_ITERATIONS;

/// Every secret the worker reads (`wrangler secret put NAME --env ...`; locally
/// `.dev.vars`). Never a `[vars]` entry: vars are plain text in wrangler.toml, in
/// git and in the dashboard. `make check-deploy` reads this list: each name must be
/// in the README and in no `[vars]` table.
pub const SECRETS: &[&str] = &[
    "TICKET_TOKEN_SECRET",
    "EMAIL_API_KEY",
    "WEBHOOK_SECRET",
    "TURNSTILE_SECRET_KEY",
];

/// The sender the code falls back to: a placeholder, not a sane production sender.
pub const DEFAULT_EMAIL_FROM: &str = "Support <support@example.com>";

/// Where this worker runs: `ENVIRONMENT` in wrangler.toml (`staging`, `production`);
/// unset or `local` is a developer's machine (`make dev`, the tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Local,
    Deployed(String),
}

impl Environment {
    fn parse(value: Option<String>) -> Self {
        match value {
            None => Environment::Local,
            Some(name) if name.eq_ignore_ascii_case("local") => Environment::Local,
            Some(name) => Environment::Deployed(name.to_ascii_lowercase()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Environment::Local => "local",
            Environment::Deployed(name) => name,
        }
    }

    pub fn is_deployed(&self) -> bool {
        matches!(self, Environment::Deployed(_))
    }
}

/// A setting that looks wrong, as the health check lists it: the names involved and
/// what goes wrong, never a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    pub names: &'static [&'static str],
    /// A stable code: `missing`, `too_short`, `half_configured`, `not_https`, ...
    pub problem: &'static str,
    /// What it breaks and what to do.
    pub message: &'static str,
}

/// Shorter than this, `TICKET_TOKEN_SECRET` can be guessed offline from one status
/// link (the README asks for `openssl rand -hex 32`: 64 characters).
pub const MIN_TOKEN_SECRET_CHARS: usize = 32;

pub const DEFAULT_CATEGORIES: &str = "general,technical,billing,account,other";
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// The platform refuses request bodies over 100 MB (Free and Pro plans).
pub const ATTACHMENT_BYTES_CAP: u64 = 100_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    /// `*` allows every origin; otherwise a comma-separated list of exact origins
    /// (empty: none, same-origin only).
    fn parse(value: &str) -> Self {
        let list: Vec<String> = value
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if list.iter().any(|o| o == "*") {
            AllowedOrigins::Any
        } else {
            AllowedOrigins::List(list)
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if allowed.
    pub fn allow(&self, origin: Option<&str>) -> Option<String> {
        match (self, origin) {
            (AllowedOrigins::Any, _) => Some("*".to_owned()),
            (AllowedOrigins::List(list), Some(origin)) => {
                list.iter().find(|o| *o == origin).cloned()
            }
            (AllowedOrigins::List(_), None) => None,
        }
    }
}

/// Turnstile is on when `TURNSTILE_SECRET_KEY` is set.
#[derive(Debug, Clone)]
pub struct TurnstileConfig {
    pub secret_key: String,
    pub verify_url: String,
    /// Hostnames a token may have been issued on; empty accepts any.
    pub allowed_hostnames: Vec<String>,
    pub timeout_ms: u64,
}

/// Where notifications go. Each target is off until configured; deliveries to an
/// unconfigured target are recorded as skipped.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// An HTTP email API taking Resend's request format.
    pub email_api_url: String,
    pub email_api_key: Option<String>,
    /// `EMAIL_FROM`, or the placeholder `DEFAULT_EMAIL_FROM` when it is not set.
    pub email_from: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub max_attempts: u32,
    pub backoff_seconds: u64,
    pub timeout_ms: u64,
    /// Sent and skipped rows are pruned after this many days (failed ones stay).
    pub retention_days: u64,
}

pub const DEFAULT_EMAIL_API_URL: &str = "https://api.resend.com/emails";

pub const DEFAULT_SITEVERIFY_URL: &str =
    "https://challenges.cloudflare.com/turnstile/v0/siteverify";

#[derive(Debug, Clone)]
pub struct Config {
    /// Ticket categories accepted on create; the first is the default.
    pub categories: Vec<String>,
    /// Origins allowed to call the public endpoints from a browser.
    pub public_origins: AllowedOrigins,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Where a plain HTML form post is redirected (303) after a successful create.
    pub form_success_url: Option<String>,
    /// Honour the `X-Test-Now` header. Only ever set by the test harness.
    pub allow_test_clock: bool,
    /// Origins allowed to call `/api/crm/*` from a browser (the admin panel).
    pub crm_origins: AllowedOrigins,
    /// Lifetime of a staff session.
    pub session_ttl_seconds: u64,
    /// PBKDF2 iterations for newly hashed passwords (stored hashes keep their own).
    pub password_iterations: u32,
    /// Failed logins allowed within the window: per email from one client (an IPv4
    /// address or an IPv6 /64), per client, and per email from all clients together
    /// (a high ceiling that slows a distributed guess).
    pub login_max_failures_per_email: u32,
    pub login_max_failures_per_ip: u32,
    pub login_max_failures_per_account: u32,
    pub login_window_seconds: u64,
    /// Public creates per normalized email, and per client IP, in the sliding window.
    pub rate_limit_per_email: u32,
    pub rate_limit_per_ip: u32,
    pub rate_limit_window_seconds: u64,
    /// The limit given to new integration keys unless their creator sets one.
    pub api_key_default_rate_limit: u32,
    pub turnstile: Option<TurnstileConfig>,
    /// Turnstile's public site key: the support page shows the widget when it is set.
    pub turnstile_site_key: Option<String>,
    /// How long the first answer to an `Idempotency-Key` is kept.
    pub idempotency_ttl_seconds: u64,
    /// Signs customers' status links; without it no links are issued.
    pub ticket_token_secret: Option<String>,
    /// Where status links point (`<base>/t/TKT-...`); empty: the request's own origin.
    pub public_base_url: Option<String>,
    pub notify: NotifyConfig,
    /// Longest message in a ticket's conversation, in characters.
    pub message_max_chars: usize,
    /// Customer replies (and uploads, one count for either) per ticket, and "lost my
    /// link" lookups per email and per IP, per rate-limit window.
    pub customer_replies_per_ticket: u32,
    /// Customer replies and uploads (one count for either) per client per window,
    /// all tickets.
    pub replies_per_ip: u32,
    pub lookups_per_email: u32,
    pub lookups_per_ip: u32,
    pub attachments: AttachmentConfig,
    /// Local, or the deployed environment's name (`ENVIRONMENT`).
    pub environment: Environment,
}

/// Limits of attachments (`MAX_ATTACHMENT_*`, `ATTACHMENT_*`).
#[derive(Debug, Clone)]
pub struct AttachmentConfig {
    /// Accepted content types; anything else is a 415.
    pub types: AllowedTypes,
    /// Largest file, checked against `Content-Length` before a byte is read.
    pub max_bytes: u64,
    /// All files of one ticket together (uploads in progress included).
    pub max_bytes_per_ticket: u64,
    pub max_per_ticket: u32,
    pub max_per_message: usize,
    /// Files not sent with a message within this time are removed by the cron.
    pub orphan_hours: u64,
}

impl Config {
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        // Secrets are read through this, so the list `make check-deploy` checks is the
        // list the code reads.
        let secret = |name: &str| {
            debug_assert!(SECRETS.contains(&name), "{name} is missing from SECRETS");
            non_empty(name)
        };
        let categories: Vec<String> = non_empty("CATEGORIES")
            .unwrap_or_else(|| DEFAULT_CATEGORIES.to_owned())
            .split(',')
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        let number = |name: &str, default: u64, min: u64, max: u64| {
            non_empty(name)
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(default, |n| n.clamp(min, max))
        };
        Config {
            categories: if categories.is_empty() {
                vec!["general".to_owned()]
            } else {
                categories
            },
            public_origins: AllowedOrigins::parse(
                &non_empty("PUBLIC_ALLOWED_ORIGINS").unwrap_or_else(|| "*".to_owned()),
            ),
            crm_origins: AllowedOrigins::parse(
                &non_empty("CRM_ALLOWED_ORIGINS").unwrap_or_default(),
            ),
            // KV refuses expiration TTLs under 60 s.
            session_ttl_seconds: number("SESSION_TTL_SECONDS", 12 * 3600, 60, 30 * 86400),
            password_iterations: number(
                "PASSWORD_ITERATIONS",
                u64::from(MAX_ITERATIONS),
                1_000,
                u64::from(MAX_ITERATIONS),
            ) as u32,
            login_max_failures_per_email: number("LOGIN_MAX_FAILURES_PER_EMAIL", 5, 1, 1_000)
                as u32,
            login_max_failures_per_ip: number("LOGIN_MAX_FAILURES_PER_IP", 20, 1, 100_000) as u32,
            login_max_failures_per_account: number(
                "LOGIN_MAX_FAILURES_PER_ACCOUNT",
                100,
                1,
                1_000_000,
            ) as u32,
            login_window_seconds: number("LOGIN_WINDOW_SECONDS", 900, 1, 86_400),
            rate_limit_per_email: number("RATE_LIMIT_PER_EMAIL", 5, 1, 1_000_000) as u32,
            rate_limit_per_ip: number("RATE_LIMIT_PER_IP", 20, 1, 1_000_000) as u32,
            rate_limit_window_seconds: number("RATE_LIMIT_WINDOW_SECONDS", 3600, 1, 7 * 86_400),
            api_key_default_rate_limit: number("API_KEY_DEFAULT_RATE_LIMIT", 1000, 1, 1_000_000)
                as u32,
            turnstile: secret("TURNSTILE_SECRET_KEY").map(|secret_key| TurnstileConfig {
                secret_key,
                verify_url: non_empty("TURNSTILE_VERIFY_URL")
                    .unwrap_or_else(|| DEFAULT_SITEVERIFY_URL.to_owned()),
                allowed_hostnames: non_empty("TURNSTILE_ALLOWED_HOSTNAMES")
                    .unwrap_or_default()
                    .split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect(),
                timeout_ms: number("TURNSTILE_TIMEOUT_MS", 3000, 100, 30_000),
            }),
            // A site key is letters, digits, `_` and `-` (`0x4AAA...`); anything else is
            // a misconfiguration, and the page is better without a broken widget.
            turnstile_site_key: non_empty("TURNSTILE_SITE_KEY").filter(|k| {
                k.len() <= 100
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }),
            idempotency_ttl_seconds: number("IDEMPOTENCY_TTL_SECONDS", 86_400, 60, 7 * 86_400),
            ticket_token_secret: secret("TICKET_TOKEN_SECRET"),
            public_base_url: non_empty("PUBLIC_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_owned()),
            notify: NotifyConfig {
                email_api_url: non_empty("EMAIL_API_URL")
                    .unwrap_or_else(|| DEFAULT_EMAIL_API_URL.to_owned()),
                email_api_key: secret("EMAIL_API_KEY"),
                email_from: non_empty("EMAIL_FROM")
                    .unwrap_or_else(|| DEFAULT_EMAIL_FROM.to_owned()),
                webhook_url: non_empty("WEBHOOK_URL"),
                webhook_secret: secret("WEBHOOK_SECRET"),
                max_attempts: number("NOTIFY_MAX_ATTEMPTS", 5, 1, 50) as u32,
                backoff_seconds: number("NOTIFY_BACKOFF_SECONDS", 60, 1, 86_400),
                timeout_ms: number("NOTIFY_TIMEOUT_MS", 5000, 100, 30_000),
                retention_days: number("NOTIFY_RETENTION_DAYS", 30, 1, 3650),
            },
            message_max_chars: number("MESSAGE_MAX_CHARS", 10_000, 1, 20_000) as usize,
            customer_replies_per_ticket: number("CUSTOMER_REPLIES_PER_TICKET", 20, 1, 100_000)
                as u32,
            replies_per_ip: number("REPLIES_PER_IP", 60, 1, 1_000_000) as u32,
            lookups_per_email: number("LOOKUPS_PER_EMAIL", 3, 1, 100_000) as u32,
            lookups_per_ip: number("LOOKUPS_PER_IP", 10, 1, 100_000) as u32,
            attachments: AttachmentConfig {
                // An empty list means the defaults (`AllowedTypes::parse`).
                types: AllowedTypes::parse(&non_empty("ATTACHMENT_TYPES").unwrap_or_default()),
                max_bytes: number("MAX_ATTACHMENT_BYTES", 10 << 20, 1, ATTACHMENT_BYTES_CAP),
                max_bytes_per_ticket: number(
                    "MAX_ATTACHMENT_BYTES_PER_TICKET",
                    50 << 20,
                    1,
                    1 << 40,
                ),
                max_per_ticket: number("MAX_ATTACHMENTS_PER_TICKET", 50, 1, 100_000) as u32,
                // Each id is a bound parameter of the message batch (D1: 100 at most).
                max_per_message: number("MAX_ATTACHMENTS_PER_MESSAGE", 5, 1, 20) as usize,
                orphan_hours: number("ATTACHMENT_ORPHAN_HOURS", 24, 1, 30 * 24),
            },
            max_body_bytes: non_empty("MAX_BODY_BYTES")
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            form_success_url: non_empty("FORM_SUCCESS_URL"),
            allow_test_clock: non_empty("ALLOW_TEST_CLOCK").as_deref() == Some("true"),
            environment: Environment::parse(non_empty("ENVIRONMENT")),
        }
    }

    /// Settings that look wrong for where the worker runs, for `GET /api/health`
    /// (and so for `make deploy`, which prints them). Names only, never values.
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let deployed = self.environment.is_deployed();
        let notify = &self.notify;
        let mut problems = Vec::new();
        let mut add = |names, problem, message| {
            problems.push(ConfigProblem {
                names,
                problem,
                message,
            })
        };
        match &self.ticket_token_secret {
            None => add(
                &["TICKET_TOKEN_SECRET"],
                "missing",
                "No status links are issued and the status routes answer 404: wrangler secret put TICKET_TOKEN_SECRET (openssl rand -hex 32).",
            ),
            Some(secret) if secret.chars().count() < MIN_TOKEN_SECRET_CHARS => add(
                &["TICKET_TOKEN_SECRET"],
                "too_short",
                "Status-link tokens under a short key can be guessed offline: use at least 32 random characters (openssl rand -hex 32).",
            ),
            Some(_) => {}
        }
        match &self.public_base_url {
            None if deployed => add(
                &["PUBLIC_BASE_URL"],
                "missing",
                "Emails carry no status links and answers build links from the request's Host: set it to this service's public origin.",
            ),
            Some(url) if deployed && !url.starts_with("https://") => add(
                &["PUBLIC_BASE_URL"],
                "not_https",
                "Status links would travel in clear text: use the https:// origin.",
            ),
            _ => {}
        }
        if notify.email_api_key.is_some() && !sane_sender(&notify.email_from) {
            add(
                &["EMAIL_API_KEY", "EMAIL_FROM"],
                "half_configured",
                "EMAIL_API_KEY is set but EMAIL_FROM is the example sender or not an address: set EMAIL_FROM to a sender the email provider verified.",
            );
        }
        if notify.email_api_key.is_none() && notify.email_from != DEFAULT_EMAIL_FROM {
            add(
                &["EMAIL_FROM", "EMAIL_API_KEY"],
                "half_configured",
                "EMAIL_FROM is set but EMAIL_API_KEY is not: every email is recorded as skipped.",
            );
        }
        match (&notify.webhook_url, &notify.webhook_secret) {
            (Some(_), None) | (None, Some(_)) => add(
                &["WEBHOOK_URL", "WEBHOOK_SECRET"],
                "half_configured",
                "A webhook needs both its URL and its signing secret: until then every webhook is recorded as skipped.",
            ),
            (Some(url), Some(_)) if deployed && !url.starts_with("https://") => add(
                &["WEBHOOK_URL"],
                "not_https",
                "Ticket data would travel in clear text: use an https:// receiver.",
            ),
            _ => {}
        }
        if let Some(turnstile) = &self.turnstile {
            if deployed && turnstile.allowed_hostnames.is_empty() {
                add(
                    &["TURNSTILE_SECRET_KEY", "TURNSTILE_ALLOWED_HOSTNAMES"],
                    "no_allowed_hostnames",
                    "Tokens solved on any site using this widget are accepted: list this service's form hostnames.",
                );
            }
        }
        if deployed && self.allow_test_clock {
            add(
                &["ALLOW_TEST_CLOCK"],
                "test_only",
                "Anyone can move this worker's clock with X-Test-Now, past rate limits and expiries: remove the var.",
            );
        }
        problems
    }
}

/// Whether `EMAIL_FROM` (`Name <address>` or a bare address) names a real sender: a
/// valid address, not at the example domains the placeholder uses.
fn sane_sender(from: &str) -> bool {
    let address = match (from.rfind('<'), from.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => from,
    };
    let Ok(address) = EmailAddress::parse(address) else {
        return false;
    };
    let domain = address
        .as_str()
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_ascii_lowercase();
    !["example.com", "example.org", "example.net"]
        .iter()
        .any(|example| domain == *example || domain.ends_with(&format!(".{example}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_safe() {
        let c = config(&[]);
        assert_eq!(
            c.categories,
            ["general", "technical", "billing", "account", "other"]
        );
        assert_eq!(c.public_origins, AllowedOrigins::Any);
        assert_eq!(c.max_body_bytes, 65536);
        assert_eq!(c.form_success_url, None);
        assert!(!c.allow_test_clock);
        assert_eq!(c.crm_origins, AllowedOrigins::List(vec![]));
        assert_eq!(c.crm_origins.allow(Some("https://any.example")), None);
        assert_eq!(c.session_ttl_seconds, 43_200);
        assert_eq!(c.password_iterations, 100_000);
        assert_eq!(c.login_max_failures_per_email, 5);
        assert_eq!((c.rate_limit_per_email, c.rate_limit_per_ip), (5, 20));
        assert_eq!(c.rate_limit_window_seconds, 3600);
        assert!(c.turnstile.is_none());
        assert_eq!(c.idempotency_ttl_seconds, 86_400);
        assert_eq!(c.replies_per_ip, 60);
        let a = &c.attachments;
        assert_eq!(
            (a.max_bytes, a.max_bytes_per_ticket),
            (10_485_760, 52_428_800)
        );
        assert_eq!(
            (a.max_per_ticket, a.max_per_message, a.orphan_hours),
            (50, 5, 24)
        );
        assert_eq!(
            a.types.accept(Some("application/pdf")),
            Some("application/pdf")
        );
        assert_eq!(a.types.accept(Some("text/html")), None);
    }

    #[test]
    fn attachment_limits_stay_within_the_platform() {
        let c = config(&[
            ("MAX_ATTACHMENT_BYTES", "500000000"),
            ("MAX_ATTACHMENTS_PER_MESSAGE", "1000"),
            ("ATTACHMENT_TYPES", "image/png"),
        ]);
        assert_eq!(c.attachments.max_bytes, ATTACHMENT_BYTES_CAP);
        assert_eq!(c.attachments.max_per_message, 20);
        assert_eq!(c.attachments.types.accept(Some("application/pdf")), None);
    }

    /// Every secret in `SECRETS` is read (through `secret`, which checks the list).
    #[test]
    fn every_listed_secret_is_read() {
        let asked = std::cell::RefCell::new(Vec::new());
        Config::from_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            None
        });
        for name in SECRETS {
            assert!(
                asked.borrow().iter().any(|a| a == name),
                "{name} is never read"
            );
        }
    }

    #[test]
    fn turnstile_is_on_with_a_secret() {
        let c = config(&[
            ("TURNSTILE_SECRET_KEY", "0x4AAA"),
            (
                "TURNSTILE_ALLOWED_HOSTNAMES",
                "www.example.com, Help.Example.com",
            ),
        ]);
        let t = c.turnstile.unwrap();
        assert_eq!(t.verify_url, DEFAULT_SITEVERIFY_URL);
        assert_eq!(t.allowed_hostnames, ["www.example.com", "help.example.com"]);
        assert_eq!(t.timeout_ms, 3000);
        assert_eq!(c.turnstile_site_key, None);
        let keyed = config(&[("TURNSTILE_SITE_KEY", " 0x4AAAAAAA_site-key ")]);
        assert_eq!(
            keyed.turnstile_site_key.as_deref(),
            Some("0x4AAAAAAA_site-key")
        );
        let broken = config(&[("TURNSTILE_SITE_KEY", "0x4\"><script>")]);
        assert_eq!(broken.turnstile_site_key, None);
    }

    #[test]
    fn numbers_are_clamped_to_what_the_platform_accepts() {
        let c = config(&[
            ("SESSION_TTL_SECONDS", "5"),
            ("PASSWORD_ITERATIONS", "600000"),
        ]);
        assert_eq!(c.session_ttl_seconds, 60);
        assert_eq!(c.password_iterations, 100_000);
    }

    fn problems(pairs: &[(&str, &str)]) -> Vec<(&'static [&'static str], &'static str)> {
        config(pairs)
            .problems()
            .into_iter()
            .map(|p| (p.names, p.problem))
            .collect()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_sound_deployment_has_no_problems() {
        let sound = [
            ("ENVIRONMENT", "production"),
            ("TICKET_TOKEN_SECRET", SECRET),
            ("PUBLIC_BASE_URL", "https://help.example.net"),
            ("EMAIL_API_KEY", "re_key"),
            ("EMAIL_FROM", "Help <help@acme-support.io>"),
            ("WEBHOOK_URL", "https://hooks.acme.io/helpdesk"),
            ("WEBHOOK_SECRET", "whsec"),
            ("TURNSTILE_SECRET_KEY", "0x4AAA"),
            ("TURNSTILE_ALLOWED_HOSTNAMES", "help.acme.io"),
        ];
        assert_eq!(problems(&sound), vec![]);
        assert_eq!(config(&sound).environment.name(), "production");
        // Locally, without email or webhooks, only the missing secret is worth saying.
        assert_eq!(problems(&[("TICKET_TOKEN_SECRET", SECRET)]), vec![]);
        assert_eq!(config(&[]).environment, Environment::Local);
        assert_eq!(
            config(&[("ENVIRONMENT", "Local")]).environment,
            Environment::Local
        );
    }

    #[test]
    fn each_half_configuration_is_named() {
        let deployed = ("ENVIRONMENT", "staging");
        let secret = ("TICKET_TOKEN_SECRET", SECRET);
        let base = ("PUBLIC_BASE_URL", "https://help.acme.io");
        for (pairs, expected) in [
            (vec![], vec![(&["TICKET_TOKEN_SECRET"][..], "missing")]),
            (
                vec![("TICKET_TOKEN_SECRET", "short")],
                vec![(&["TICKET_TOKEN_SECRET"][..], "too_short")],
            ),
            (
                vec![deployed, secret],
                vec![(&["PUBLIC_BASE_URL"][..], "missing")],
            ),
            (
                vec![deployed, secret, ("PUBLIC_BASE_URL", "http://help.acme.io")],
                vec![(&["PUBLIC_BASE_URL"][..], "not_https")],
            ),
            (
                vec![secret, ("EMAIL_API_KEY", "re_key")],
                vec![(&["EMAIL_API_KEY", "EMAIL_FROM"][..], "half_configured")],
            ),
            (
                vec![
                    secret,
                    ("EMAIL_API_KEY", "re_key"),
                    ("EMAIL_FROM", "Support <help@mail.example.org>"),
                ],
                vec![(&["EMAIL_API_KEY", "EMAIL_FROM"][..], "half_configured")],
            ),
            (
                vec![
                    secret,
                    ("EMAIL_API_KEY", "k"),
                    ("EMAIL_FROM", "not an address"),
                ],
                vec![(&["EMAIL_API_KEY", "EMAIL_FROM"][..], "half_configured")],
            ),
            (
                vec![secret, ("EMAIL_FROM", "help@acme.io")],
                vec![(&["EMAIL_FROM", "EMAIL_API_KEY"][..], "half_configured")],
            ),
            (
                vec![secret, ("WEBHOOK_URL", "https://hooks.acme.io")],
                vec![(&["WEBHOOK_URL", "WEBHOOK_SECRET"][..], "half_configured")],
            ),
            (
                vec![secret, ("WEBHOOK_SECRET", "whsec")],
                vec![(&["WEBHOOK_URL", "WEBHOOK_SECRET"][..], "half_configured")],
            ),
            (
                vec![
                    deployed,
                    secret,
                    base,
                    ("WEBHOOK_URL", "http://hooks.acme.io"),
                    ("WEBHOOK_SECRET", "whsec"),
                ],
                vec![(&["WEBHOOK_URL"][..], "not_https")],
            ),
            (
                vec![deployed, secret, base, ("TURNSTILE_SECRET_KEY", "0x4AAA")],
                vec![(
                    &["TURNSTILE_SECRET_KEY", "TURNSTILE_ALLOWED_HOSTNAMES"][..],
                    "no_allowed_hostnames",
                )],
            ),
            (
                vec![deployed, secret, base, ("ALLOW_TEST_CLOCK", "true")],
                vec![(&["ALLOW_TEST_CLOCK"][..], "test_only")],
            ),
            // Locally the test clock, http links and Turnstile without hostnames are fine.
            (
                vec![
                    secret,
                    ("ALLOW_TEST_CLOCK", "true"),
                    ("PUBLIC_BASE_URL", "http://localhost:8787"),
                    ("TURNSTILE_SECRET_KEY", "0x4AAA"),
                ],
                vec![],
            ),
        ] {
            assert_eq!(problems(&pairs), expected, "{pairs:?}");
        }
    }

    #[test]
    fn problems_never_carry_values() {
        let c = config(&[
            ("ENVIRONMENT", "production"),
            ("TICKET_TOKEN_SECRET", "hunter2"),
            ("EMAIL_API_KEY", "re_live_key"),
            ("WEBHOOK_SECRET", "whsec_live"),
            ("TURNSTILE_SECRET_KEY", "0xSECRET"),
            ("ALLOW_TEST_CLOCK", "true"),
        ]);
        let text = serde_json::to_string(&c.problems()).unwrap();
        assert!(c.problems().len() >= 5, "{text}");
        for value in ["hunter2", "re_live_key", "whsec_live", "0xSECRET"] {
            assert!(!text.contains(value), "{value} in {text}");
        }
    }

    #[test]
    fn parses_values() {
        let c = config(&[
            ("CATEGORIES", " Sales, support ,,"),
            (
                "PUBLIC_ALLOWED_ORIGINS",
                "https://a.example, https://b.example/",
            ),
            ("MAX_BODY_BYTES", "nonsense"),
            ("ALLOW_TEST_CLOCK", "yes"),
        ]);
        assert_eq!(c.categories, ["sales", "support"]);
        assert_eq!(c.max_body_bytes, 65536);
        assert!(!c.allow_test_clock);
        assert_eq!(
            c.public_origins.allow(Some("https://b.example")).as_deref(),
            Some("https://b.example")
        );
        assert_eq!(c.public_origins.allow(Some("https://evil.example")), None);
        assert_eq!(c.public_origins.allow(None), None);
    }
}
