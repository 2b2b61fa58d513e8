//! The build's version. `make build` runs `scripts/stamp-version.mjs`, which makes the
//! first line of `build/index.js` set `globalThis.HELPDESK_BUILD = {commit, built_at}`
//! (before the wasm is instantiated) and writes the same to `build/version.json`.
//! Stamped beside the wasm rather than compiled in: an `option_env!` that changes on
//! every build would recompile the crate on every `make build`. Read once per isolate.

use std::sync::OnceLock;

use serde::Serialize;
use worker::js_sys::{self, Reflect};
use worker::wasm_bindgen::JsValue;

#[derive(Debug, Clone, Serialize)]
pub struct BuildVersion {
    /// `git describe`-style: the short commit, `-dirty` when the tree had changes;
    /// `unknown` when the build was not stamped (a bare `worker-build`).
    pub commit: String,
    /// RFC 3339, when `make build` ran; absent when not stamped.
    pub built_at: Option<String>,
}

pub fn build_version() -> &'static BuildVersion {
    static VERSION: OnceLock<BuildVersion> = OnceLock::new();
    VERSION.get_or_init(|| {
        let stamp = Reflect::get(&js_sys::global(), &JsValue::from_str("HELPDESK_BUILD"))
            .unwrap_or(JsValue::UNDEFINED);
        let field = |name: &str| {
            Reflect::get(&stamp, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_string())
                .filter(|v| !v.is_empty())
        };
        BuildVersion {
            commit: field("commit").unwrap_or_else(|| "unknown".to_owned()),
            built_at: field("built_at"),
        }
    })
}
