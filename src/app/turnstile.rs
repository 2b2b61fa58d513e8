//! Cloudflare Turnstile: server-side verification of a widget token (siteverify).
//! Fails closed: a check that cannot be made counts as failed.

use serde::Deserialize;
use worker::{Headers, Method, Request, RequestInit};

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

    let mut response = match crate::platform::outbound::send(request, config.timeout_ms).await {
        Ok(r) if r.status_code() == 200 => r,
        Ok(r) => return Verdict::Refused(format!("siteverify answered {}", r.status_code())),
        Err(e) => return Verdict::Refused(format!("siteverify: {e}")),
    };
    match response.json::<SiteverifyResponse>().await {
        Err(e) => Verdict::Refused(format!("siteverify answer unreadable: {e}")),
        Ok(r) if !r.success => {
            Verdict::Refused(format!("token rejected: {}", r.error_codes.join(", ")))
        }
        Ok(r) => {
            let hostname = r.hostname.unwrap_or_default();
            if config.allowed_hostnames.is_empty() || config.allowed_hostnames.contains(&hostname) {
                Verdict::Human
            } else {
                Verdict::Refused(format!("token for unexpected hostname '{hostname}'"))
            }
        }
    }
}
