//! R2 through a binding of our own, so a file's bytes never enter wasm: an upload
//! hands the request's own body stream to `bucket.put` (R2 reads it inside the
//! runtime), and a download hands the object's `body` stream to `new Response`. The
//! workers-rs way copies every chunk through wasm memory: `Data::Stream` wants a
//! Rust stream (`FixedLengthStream::wrap`), `R2Object::body().bytes()` and
//! `.stream()` read the object into Rust. R2 needs to know the length of a stream
//! (a chunked body fails with "Provided readable stream must have a known length"),
//! so uploads require `Content-Length`. Measured with the in-isolate loop
//! (`make bench`, scenarios `upload-*` and `download-*`, R2 replayed like D1; medians
//! of 5 rounds on a busy 2-core machine): the worker's own CPU per upload is 292 µs at
//! 100 KB and 285 µs at 20 MB, per download 187 and 194 µs: the same, whatever the
//! size. A build that read the upload into wasm first spent 12.5-13.8 ms per 20 MB.

use serde::Serialize;
use worker::js_sys::{Array, Promise, Reflect, JSON};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Env};

use super::js_message;
use super::request::Request;
use super::trips::RoundTrips;
use crate::http::Stream;

/// The binding's name in wrangler.toml.
pub const BINDING: &str = "ATTACHMENTS";

#[wasm_bindgen]
extern "C" {
    /// The `R2Bucket` binding.
    type R2Binding;

    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_raw(
        this: &R2Binding,
        key: &str,
        value: &JsValue,
        options: &JsValue,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_raw(this: &R2Binding, key: &str, options: &JsValue) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = delete)]
    fn delete_raw(this: &R2Binding, keys: &JsValue) -> Result<Promise, JsValue>;
}

/// The bucket, with the count its round trips go to (as `Database` and the KV
/// handle count theirs).
pub struct Bucket {
    binding: R2Binding,
    trips: RoundTrips,
}

/// What R2 says about an object it stored.
pub struct Stored {
    pub size: u64,
    /// The entity tag as an HTTP header carries it (quoted).
    pub http_etag: String,
}

/// An object (or the range of it asked for), its body still a JS stream.
pub struct Object {
    pub body: Stream,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PutOptions<'a> {
    http_metadata: HttpMetadata<'a>,
    custom_metadata: Metadata<'a>,
}

/// Pairs as a JSON object.
struct Metadata<'a>(&'a [(&'a str, String)]);

impl Serialize for Metadata<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpMetadata<'a> {
    content_type: &'a str,
}

fn number(value: &JsValue, name: &str) -> Option<f64> {
    Reflect::get(value, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_f64())
}

impl Bucket {
    /// The `ATTACHMENTS` binding; `None` when the worker has none. Its round trips
    /// are added to `trips`.
    pub fn from_env(env: &Env, trips: RoundTrips) -> Option<Bucket> {
        let binding = Reflect::get(env, &JsValue::from_str(BINDING)).ok()?;
        if binding.is_undefined() || binding.is_null() {
            return None;
        }
        Some(Bucket {
            binding: binding.unchecked_into(),
            trips,
        })
    }

    /// Stores the request's body under `key` as it comes, R2 reading the stream
    /// inside the runtime. Errors are the runtime's message (a body cut off, a body
    /// without a known length, R2 itself).
    pub async fn put_body(
        &self,
        key: &str,
        request: &Request,
        content_type: &str,
        custom_metadata: &[(&str, String)],
    ) -> Result<Stored, String> {
        let body: JsValue = match request.body_stream() {
            Some(stream) => stream.into(),
            None => return Err("the request has no body".to_owned()),
        };
        let options = serde_json::to_string(&PutOptions {
            http_metadata: HttpMetadata { content_type },
            custom_metadata: Metadata(custom_metadata),
        })
        .map_err(|e| e.to_string())?;
        let options = JSON::parse(&options).map_err(|e| js_message(&e))?;
        self.trips.add();
        let stored = JsFuture::from(
            self.binding
                .put_raw(key, &body, &options)
                .map_err(|e| js_message(&e))?,
        )
        .await
        .map_err(|e| js_message(&e))?;
        let http_etag = Reflect::get(&stored, &JsValue::from_str("httpEtag"))
            .ok()
            .and_then(|v| v.as_string())
            .ok_or("R2 answered no object")?;
        Ok(Stored {
            size: number(&stored, "size").unwrap_or(-1.0) as u64,
            http_etag,
        })
    }

    /// The object's body (bytes `start..=end` of it, when a range is given), or
    /// `None` when there is no such object.
    pub async fn get(
        &self,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Option<Object>, String> {
        let options = match range {
            Some((start, end)) => format!(
                r#"{{"range":{{"offset":{start},"length":{}}}}}"#,
                end - start + 1
            ),
            None => "{}".to_owned(),
        };
        let options = JSON::parse(&options).map_err(|e| js_message(&e))?;
        self.trips.add();
        let object = JsFuture::from(
            self.binding
                .get_raw(key, &options)
                .map_err(|e| js_message(&e))?,
        )
        .await
        .map_err(|e| js_message(&e))?;
        if object.is_null() || object.is_undefined() {
            return Ok(None);
        }
        let body = Reflect::get(&object, &JsValue::from_str("body")).map_err(|e| js_message(&e))?;
        let body: web_sys::ReadableStream = body
            .dyn_into()
            .map_err(|_| "R2 answered an object without a body stream".to_owned())?;
        Ok(Some(Object {
            body: Stream::new(body),
        }))
    }

    /// Deletes the objects (up to 1000 keys; missing ones are no error).
    pub async fn delete(&self, keys: &[String]) -> Result<(), String> {
        if keys.is_empty() {
            return Ok(());
        }
        let list: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
        self.trips.add();
        JsFuture::from(self.binding.delete_raw(&list).map_err(|e| js_message(&e))?)
            .await
            .map_err(|e| js_message(&e))?;
        Ok(())
    }
}
