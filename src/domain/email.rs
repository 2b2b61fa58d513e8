//! Customer email addresses: syntactic validation (no DNS) and the key used to
//! group one person's tickets.

/// The most characters an address may have (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A syntactically valid email address, trimmed, as the customer typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain` where the local part is a dot-atom (unicode letters
    /// allowed, RFC 6531) and the domain has at least two labels of letters, digits
    /// and inner hyphens, the last not all digits. Quoted local parts and address
    /// literals are refused: support mail never needs them and they invite injection.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let value = input.trim();
        if value.chars().count() > MAX_EMAIL_CHARS {
            return Err("too_long");
        }
        let (local, domain) = value.rsplit_once('@').ok_or("invalid_email")?;
        if !valid_local(local) || !valid_domain(domain) {
            return Err("invalid_email");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.chars().count() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || SPECIALS.contains(c))
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.chars().count() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && !labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_international_addresses() {
        for ok in [
            "john@example.com",
            "  john.smith+support@mail.example.co.uk ",
            "o'brien@example.ie",
            "用户@例子.广告",
            "josé@exämple.de",
            "a@b.co",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(EmailAddress::parse(" a@b.co ").unwrap().as_str(), "a@b.co");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "plainaddress",
            "@example.com",
            "john@",
            "john@localhost",
            "john@@example.com",
            "john..smith@example.com",
            ".john@example.com",
            "john.@example.com",
            "john smith@example.com",
            "john@exa mple.com",
            "john@-example.com",
            "john@example-.com",
            "john@example..com",
            "john@127.0.0.1",
            "\"quoted\"@example.com",
            "john@[127.0.0.1]",
            "john@example.com\r\nBcc: x@y.z",
            "john@example.com; DROP TABLE users",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err("invalid_email"), "{bad:?}");
        }
    }

    #[test]
    fn length_limits() {
        let local = "a".repeat(64);
        assert!(EmailAddress::parse(&format!("{local}@example.com")).is_ok());
        let local = "a".repeat(65);
        assert!(EmailAddress::parse(&format!("{local}@example.com")).is_err());
        let long = format!("a@{}.com", "b.".repeat(130));
        assert_eq!(EmailAddress::parse(&long), Err("too_long"));
    }
}
