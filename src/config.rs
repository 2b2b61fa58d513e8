//! Policies from `wrangler.toml` vars, each with a safe default. Parsing is pure
//! (a lookup function in, a `Config` out) so it is unit-tested natively.

use crate::domain::attachment::{AllowedTypes, DEFAULT_TYPES};
use crate::domain::password::MAX_ITERATIONS;

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
            turnstile: non_empty("TURNSTILE_SECRET_KEY").map(|secret_key| TurnstileConfig {
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
            ticket_token_secret: non_empty("TICKET_TOKEN_SECRET"),
            public_base_url: non_empty("PUBLIC_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_owned()),
            notify: NotifyConfig {
                email_api_url: non_empty("EMAIL_API_URL")
                    .unwrap_or_else(|| DEFAULT_EMAIL_API_URL.to_owned()),
                email_api_key: non_empty("EMAIL_API_KEY"),
                email_from: non_empty("EMAIL_FROM")
                    .unwrap_or_else(|| "Support <support@example.com>".to_owned()),
                webhook_url: non_empty("WEBHOOK_URL"),
                webhook_secret: non_empty("WEBHOOK_SECRET"),
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
                types: AllowedTypes::parse(
                    &non_empty("ATTACHMENT_TYPES").unwrap_or_else(|| DEFAULT_TYPES.to_owned()),
                ),
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
        }
    }
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
