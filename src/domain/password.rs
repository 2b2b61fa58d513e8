//! The stored password format and the password policy. The hashing itself runs in
//! WebCrypto (`src/crypto.rs`): PBKDF2 at this cost in wasm would blow the CPU budget.
//!
//! Format: `pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>`, self-describing
//! so the iteration count can rise later without invalidating stored hashes.
//! `scripts/create-admin.mjs` writes the same format with Node's `crypto.pbkdf2`.

use super::encoding::{base64, base64_decode};

pub const ALGORITHM: &str = "pbkdf2_sha256";
pub const SALT_BYTES: usize = 16;
pub const HASH_BYTES: usize = 32;
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// workerd refuses PBKDF2 above 100,000 iterations.
pub const MAX_ITERATIONS: u32 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl PasswordHash {
    pub fn parse(stored: &str) -> Option<Self> {
        let mut parts = stored.split('$');
        if parts.next()? != ALGORITHM {
            return None;
        }
        let iterations: u32 = parts.next()?.parse().ok()?;
        let salt = base64_decode(parts.next()?)?;
        let hash = base64_decode(parts.next()?)?;
        let valid = parts.next().is_none()
            && (1..=MAX_ITERATIONS).contains(&iterations)
            && !salt.is_empty()
            && hash.len() == HASH_BYTES;
        valid.then_some(Self {
            iterations,
            salt,
            hash,
        })
    }

    pub fn encode(&self) -> String {
        format!(
            "{ALGORITHM}${}${}${}",
            self.iterations,
            base64(&self.salt),
            base64(&self.hash)
        )
    }
}

/// The policy for new passwords: length only (NIST 800-63B), counted in characters.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Password must be at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "Password must be at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_stored_format() {
        let h = PasswordHash {
            iterations: 100_000,
            salt: vec![1; 16],
            hash: vec![2; 32],
        };
        let text = h.encode();
        assert!(text.starts_with("pbkdf2_sha256$100000$AQEBAQEBAQEBAQEBAQEBAQ==$"));
        assert_eq!(PasswordHash::parse(&text), Some(h));
    }

    #[test]
    fn refuses_other_formats() {
        for bad in [
            "",
            "plaintext",
            "bcrypt$10$abc$def",
            "pbkdf2_sha256$0$AQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
            "pbkdf2_sha256$200000$AQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
            "pbkdf2_sha256$1000$AQ==$AgI=",
            "pbkdf2_sha256$1000$$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
            "pbkdf2_sha256$1000$AQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=$x",
        ] {
            assert_eq!(PasswordHash::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn password_policy() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("twelve chars").is_ok());
        assert!(check_new_password("ñññññññññññ").is_err());
        assert!(check_new_password(&"x".repeat(257)).is_err());
    }
}
