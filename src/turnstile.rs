//! Cloudflare Turnstile: server-side verification of a widget token (siteverify).
//! Fails closed: a check that cannot be made counts as failed.

use futures_util::future::{select, Either};
use serde::Deserialize;
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit};

use crate::config::TurnstileConfig;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Human,
    /// Why not, for the log (never sent to the client).
    Refused(String),
}

#[derive(Deserialize)]
struct SiteverifyResponse {
    success: bool,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default, rename = "error-codes")]
    error_codes: Vec<String>,
}

pub async fn verify(
    config: &TurnstileConfig,
    token: Option<&str>,
    remote_ip: Option<&str>,
) -> Verdict {
    let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 2048) else {
        return Verdict::Refused("no token".into());
    };
    let mut form = worker::url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("secret", &config.secret_key);
    form.append_pair("response", token);
    if let Some(ip) = remote_ip {
        form.append_pair("remoteip", ip);
    }
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/x-www-form-urlencoded");
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(form.finish().into()));
    let request = match Request::new_with_init(&config.verify_url, &init) {
        Ok(r) => r,
        Err(e) => return Verdict::Refused(format!("bad siteverify request: {e}")),
    };

    let call = Box::pin(async move {
        let mut response = Fetch::Request(request).send().await?;
        if response.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "siteverify answered {}",
                response.status_code()
            )));
        }
        response.json::<SiteverifyResponse>().await
    });
    let timeout = Box::pin(Delay::from(std::time::Duration::from_millis(
        config.timeout_ms,
    )));
    let outcome = match select(call, timeout).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(_) => {
            return Verdict::Refused(format!(
                "siteverify timed out after {} ms",
                config.timeout_ms
            ))
        }
    };
    match outcome {
        Err(e) => Verdict::Refused(format!("siteverify failed: {e}")),
        Ok(r) if !r.success => Verdict::Refused(format!("token rejected: {:?}", r.error_codes)),
        Ok(r) => {
            let hostname = r.hostname.unwrap_or_default();
            if config.allowed_hostnames.is_empty() || config.allowed_hostnames.contains(&hostname) {
                Verdict::Human
            } else {
                Verdict::Refused(format!("token for unexpected hostname {hostname:?}"))
            }
        }
    }
}
