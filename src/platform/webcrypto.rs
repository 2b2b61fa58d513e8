//! Password hashing and randomness from the runtime. PBKDF2 runs in WebCrypto
//! (`crypto.subtle`), natively: 100,000 iterations cost 17-21 ms of CPU there, and
//! pure-Rust PBKDF2 in wasm would cost several times that, far past the 10 ms a request
//! may use. (SHA-256 and HMAC of short messages run in wasm instead: `domain::hash`.)

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
        CryptoError(super::js_message(&value))
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
