//! Protection of the public endpoints: rate-limit windows, buckets and their
//! headers, the honeypot, and idempotency keys.

use super::email::EmailAddress;
use super::time::Timestamp;

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

/// The rate-limit key of an integration key (also the scope of its idempotency keys).
pub fn key_bucket(key_id: i64) -> String {
    format!("key:{key_id}")
}

/// The rate-limit key of a client address (see `client_network`).
pub fn ip_bucket(ip: &str) -> String {
    format!("ip:{}", client_network(ip))
}

/// The network a client address stands for in per-IP limits: an IPv4 address itself,
/// an IPv6 address by its /64 (a subscriber usually holds a whole /64 and could
/// rotate through it). Anything that does not parse is kept as sent.
pub fn client_network(ip: &str) -> String {
    use std::net::IpAddr;
    let ip = ip.trim();
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

/// A rate-limit window of `seconds`. Create, reply and lookup limits slide (a hit
/// counts until it is `seconds` old); the login throttle's window is fixed (it starts
/// at the first failure). Either way a slot frees `seconds` after a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub seconds: u64,
}

impl Window {
    /// Hits at or before this moment no longer count.
    pub fn start(self, now: Timestamp) -> Timestamp {
        now.minus_seconds(self.seconds)
    }

    /// Seconds from `now` until the window that began at `began` (a hit, or a fixed
    /// window's start) is over; 0 when there is none or it is over.
    pub fn seconds_until_over(self, now: Timestamp, began: Option<Timestamp>) -> u64 {
        began.map_or(0, |at| now.seconds_until(at.plus_seconds(self.seconds)))
    }

    /// `Retry-After` for a full bucket whose next slot frees when the hit `frees_at`
    /// leaves the window: at least a second, a whole window when that hit is unknown.
    pub fn retry_after(self, now: Timestamp, frees_at: Option<Timestamp>) -> u64 {
        match self.seconds_until_over(now, frees_at) {
            0 => self.seconds.max(1),
            s => s,
        }
    }
}

/// The message of a 429 for limits other than the create's (replies, lookups, logins).
pub fn try_again_message(what: &str, retry_after: u64) -> String {
    format!(
        "Too many {what}. Please try again in {} minute(s).",
        retry_after.div_ceil(60)
    )
}

/// One limit that applies to a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Stable name, shown in the `RateLimit` headers (`email`, `ip`, `key`).
    pub name: &'static str,
    pub bucket: String,
    pub max: u32,
}

/// A bucket as the store saw it: hits in the window, and the hit whose expiry frees
/// the next slot (for a bucket with room, the oldest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketState {
    pub used: u32,
    pub frees_at: Option<Timestamp>,
}

impl Window {
    /// How full each bucket is, as the `RateLimit` header says it.
    pub fn usage(self, now: Timestamp, buckets: &[BucketState]) -> Vec<Usage> {
        buckets
            .iter()
            .map(|b| Usage {
                used: b.used,
                reset_seconds: self.seconds_until_over(now, b.frees_at),
            })
            .collect()
    }

    /// When several buckets are full, a new request waits for the last to free a slot;
    /// `None` when none is full.
    pub fn retry_after_full(
        self,
        now: Timestamp,
        limits: &[Limit],
        buckets: &[BucketState],
    ) -> Option<u64> {
        limits
            .iter()
            .zip(buckets)
            .filter(|(limit, state)| state.used >= limit.max)
            .map(|(_, state)| self.retry_after(now, state.frees_at))
            .max()
    }
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
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(client_network("192.0.2.7"), "192.0.2.7");
        assert_eq!(client_network(" 2001:db8:1:2:a::1 "), "2001:db8:1:2::/64");
        assert_eq!(
            client_network("2001:0db8:0001:0002:ffff::"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(client_network("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(client_network("unknown"), "unknown");
        assert_eq!(
            ip_bucket("2001:db8:1:2::99"),
            ip_bucket("2001:db8:1:2:ffff::1")
        );
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
    fn windows_free_a_slot_when_the_hit_ages_out() {
        let now = Timestamp::parse("2026-01-01T01:00:00Z").unwrap();
        let hour = Window { seconds: 3600 };
        let hit = Timestamp::parse("2026-01-01T00:20:00Z");
        assert_eq!(
            hour.start(now),
            Timestamp::parse("2026-01-01T00:00:00Z").unwrap()
        );
        assert_eq!(hour.seconds_until_over(now, hit), 1200);
        assert_eq!(hour.retry_after(now, hit), 1200);
        assert_eq!(hour.seconds_until_over(now, None), 0);
        assert_eq!(hour.retry_after(now, None), 3600);
        assert_eq!(
            try_again_message("replies on this ticket", 1200),
            "Too many replies on this ticket. Please try again in 20 minute(s)."
        );
    }

    #[test]
    fn the_last_full_bucket_decides_the_wait() {
        let now = Timestamp::parse("2026-01-01T01:00:00Z").unwrap();
        let hour = Window { seconds: 3600 };
        let limit = |max| Limit {
            name: "x",
            bucket: String::new(),
            max,
        };
        let state = |used, at: &str| BucketState {
            used,
            frees_at: Timestamp::parse(at),
        };
        let limits = [limit(5), limit(20), limit(3)];
        let states = [
            state(5, "2026-01-01T00:10:00Z"),
            state(7, "2026-01-01T00:01:00Z"),
            state(3, "2026-01-01T00:30:00Z"),
        ];
        assert_eq!(hour.retry_after_full(now, &limits, &states), Some(1800));
        assert_eq!(
            hour.retry_after_full(now, &limits[1..2], &states[1..2]),
            None
        );
        assert_eq!(hour.usage(now, &states[1..2])[0].reset_seconds, 60);
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
