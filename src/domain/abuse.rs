//! Protection of the public create: rate-limit buckets and their headers, the
//! honeypot, and idempotency keys.

use super::email::EmailAddress;

/// The form field real people never see or fill.
pub const HONEYPOT_FIELD: &str = "website";
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// The rate-limit key of an email: trimmed, lowercased, `+tag` removed, so
/// `John+1@Example.com` and `john@example.com` share one limit.
pub fn email_bucket(email: &EmailAddress) -> String {
    let lower = email.as_str().trim().to_lowercase();
    let (local, domain) = lower.rsplit_once('@').unwrap_or((&lower, ""));
    let local = local.split('+').next().unwrap_or(local);
    format!("email:{local}@{domain}")
}

pub fn ip_bucket(ip: &str) -> String {
    format!("ip:{}", ip.trim())
}

/// One limit that applies to a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Stable name, shown in the `RateLimit` headers (`email`, `ip`, `key`).
    pub name: &'static str,
    pub bucket: String,
    pub max: u32,
}

/// How full one bucket is after (or instead of) this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub used: u32,
    /// Seconds until the hit that frees the next slot leaves the window: for a full
    /// bucket, when one more request would be accepted; otherwise, when the oldest
    /// hit expires (0 with no hits).
    pub reset_seconds: u64,
}

/// The IETF draft (draft-ietf-httpapi-ratelimit-headers) `RateLimit-Policy` value.
pub fn policy_header(limits: &[Limit], window_seconds: u64) -> String {
    limits
        .iter()
        .map(|l| format!("\"{}\";q={};w={window_seconds}", l.name, l.max))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The draft `RateLimit` value: remaining quota and seconds to reset, per policy.
pub fn usage_header(limits: &[Limit], usage: &[Usage]) -> String {
    limits
        .iter()
        .zip(usage)
        .map(|(l, u)| {
            format!(
                "\"{}\";r={};t={}",
                l.name,
                l.max.saturating_sub(u.used),
                u.reset_seconds
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an assistant can show a person when a limit is reached.
pub fn limited_message(limit: &Limit, window_seconds: u64, retry_after: u64) -> String {
    let who = match limit.name {
        "email" => "this email address",
        "ip" => "your network",
        _ => "this integration",
    };
    format!(
        "You have reached the limit of {} tickets per {} for {who}. Please try again in {}.",
        limit.max,
        human_duration(window_seconds),
        human_duration(retry_after)
    )
}

fn human_duration(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{} second{}", seconds.max(1), plural(seconds.max(1))),
        3600 => "hour".to_owned(),
        s if s % 3600 == 0 && s > 3600 => format!("{} hours", s / 3600),
        s => {
            let minutes = s.div_ceil(60);
            format!("{minutes} minute{}", plural(minutes))
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// An `Idempotency-Key` must be 1 to 255 visible ASCII characters.
pub fn valid_idempotency_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn emails_share_a_bucket_across_case_space_and_tags() {
        let key = email_bucket(&email("john@example.com"));
        assert_eq!(key, "email:john@example.com");
        assert_eq!(email_bucket(&email(" John+Support@EXAMPLE.com ")), key);
        assert_eq!(email_bucket(&email("john+a+b@example.com")), key);
        assert_ne!(email_bucket(&email("johnny@example.com")), key);
    }

    #[test]
    fn headers_follow_the_draft() {
        let limits = [
            Limit {
                name: "email",
                bucket: "email:a@b.co".into(),
                max: 5,
            },
            Limit {
                name: "ip",
                bucket: "ip:1.2.3.4".into(),
                max: 20,
            },
        ];
        assert_eq!(
            policy_header(&limits, 3600),
            r#""email";q=5;w=3600, "ip";q=20;w=3600"#
        );
        let usage = [
            Usage {
                used: 5,
                reset_seconds: 1200,
            },
            Usage {
                used: 7,
                reset_seconds: 0,
            },
        ];
        assert_eq!(
            usage_header(&limits, &usage),
            r#""email";r=0;t=1200, "ip";r=13;t=0"#
        );
    }

    #[test]
    fn messages_a_person_can_read() {
        let limit = Limit {
            name: "email",
            bucket: String::new(),
            max: 5,
        };
        assert_eq!(
            limited_message(&limit, 3600, 1190),
            "You have reached the limit of 5 tickets per hour for this email address. Please try again in 20 minutes."
        );
        assert!(limited_message(&limit, 3600, 30).ends_with("in 30 seconds."));
        assert!(limited_message(&limit, 7200, 60).contains("per 2 hours"));
    }

    #[test]
    fn idempotency_keys() {
        assert!(valid_idempotency_key("2f1c6a0e-retry-1"));
        assert!(valid_idempotency_key(&"k".repeat(255)));
        assert!(!valid_idempotency_key(&"k".repeat(256)));
        assert!(!valid_idempotency_key(""));
        assert!(!valid_idempotency_key("line\nbreak"));
        assert!(!valid_idempotency_key("ünï"));
    }
}
