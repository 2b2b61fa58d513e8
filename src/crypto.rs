//! Hashes and randomness. SHA-256 and HMAC-SHA256 run in wasm, synchronously: the
//! messages are short (tokens, status links, a body under the cap), and a WebCrypto
//! call would be a promise plus several boundary crossings for each. PBKDF2 runs in
//! WebCrypto (`crypto.subtle`), natively: pure-Rust PBKDF2 at 100,000 iterations
//! would cost far more than the 10 ms a request may use.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use worker::js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;

use crate::domain::encoding::constant_time_eq;
use crate::domain::password::{PasswordHash, HASH_BYTES, SALT_BYTES};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key_data: &Uint8Array,
        algorithm: &JsValue,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = deriveBits, catch)]
    fn derive_bits(algorithm: &JsValue, key: &JsValue, length: u32) -> Result<Promise, JsValue>;
}

#[derive(Debug)]
pub struct CryptoError(pub String);

impl From<JsValue> for CryptoError {
    fn from(value: JsValue) -> Self {
        CryptoError(crate::error::js_message(&value))
    }
}

impl From<CryptoError> for crate::error::ApiError {
    fn from(e: CryptoError) -> Self {
        crate::error::ApiError::Internal(format!("crypto: {}", e.0))
    }
}

async fn resolve(promise: Result<Promise, JsValue>) -> Result<Vec<u8>, CryptoError> {
    let value = JsFuture::from(promise?).await?;
    let buffer = value
        .dyn_into::<worker::js_sys::ArrayBuffer>()
        .map_err(|_| CryptoError("expected an ArrayBuffer".into()))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of the concatenation of `parts`, without copying them together.
pub fn sha256_of(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `n` bytes from the platform's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| CryptoError(e.to_string()))?;
    Ok(bytes)
}

async fn pbkdf2(password: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>, CryptoError> {
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let key = JsFuture::from(import_key(
        "raw",
        &Uint8Array::from(password.as_bytes()),
        &JsValue::from_str("PBKDF2"),
        false,
        &usages,
    )?)
    .await?;
    let params = Object::new();
    Reflect::set(&params, &"name".into(), &"PBKDF2".into())?;
    Reflect::set(&params, &"hash".into(), &"SHA-256".into())?;
    Reflect::set(&params, &"salt".into(), &Uint8Array::from(salt))?;
    Reflect::set(&params, &"iterations".into(), &JsValue::from(iterations))?;
    resolve(derive_bits(&params, &key, (HASH_BYTES * 8) as u32)).await
}

/// Hashes a new password with a fresh 16-byte salt.
pub async fn hash_password(password: &str, iterations: u32) -> Result<PasswordHash, CryptoError> {
    let salt = random_bytes::<SALT_BYTES>()?.to_vec();
    let hash = pbkdf2(password, &salt, iterations).await?;
    Ok(PasswordHash {
        iterations,
        salt,
        hash,
    })
}

/// Verifies a password against its stored hash, comparing in constant time.
pub async fn verify_password(password: &str, stored: &PasswordHash) -> Result<bool, CryptoError> {
    let derived = pbkdf2(password, &stored.salt, stored.iterations).await?;
    Ok(constant_time_eq(&derived, &stored.hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::encoding::hex;

    #[test]
    fn sha256_of_parts_is_sha256_of_their_concatenation() {
        assert_eq!(sha256_of(&[b"a", b"", b"bc"]), sha256(b"abc"));
    }

    #[test]
    fn sha256_of_known_messages() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
