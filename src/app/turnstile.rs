//! Cloudflare Turnstile: server-side verification of a widget token (siteverify).
//! Fails closed: a check that cannot be made counts as failed.

use serde::Deserialize;

use crate::config::TurnstileConfig;
use crate::platform::outbound::{self, Failure};

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
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    let body = form.finish();
    let sent = outbound::post(&config.verify_url, &headers, &body, config.timeout_ms);
    let response = match sent.await {
        Ok(r) if r.status() == 200 => r,
        Ok(r) => return Verdict::Refused(format!("siteverify answered {}", r.status())),
        Err(Failure::Invalid(why)) => {
            return Verdict::Refused(format!("bad siteverify request: {why}"))
        }
        Err(e) => return Verdict::Refused(format!("siteverify: {e}")),
    };
    let answer = match response.text().await {
        Ok(text) => {
            serde_json::from_slice::<SiteverifyResponse>(text.as_bytes()).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    match answer {
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
