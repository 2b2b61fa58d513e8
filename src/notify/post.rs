//! The one way a notification leaves: a JSON POST with a deadline.

use crate::config::Config;
use crate::platform::outbound::{self, Failure};
use crate::store::notifications::Delivery;

/// POSTs a JSON body; any 2xx is delivered, anything else a failure to retry.
pub(super) async fn post_json(
    config: &Config,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
    target: &str,
) -> Result<Delivery, String> {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    let response = outbound::post(url, &all, &body, config.notify.timeout_ms)
        .await
        .map_err(|e| match e {
            Failure::Invalid(_) => format!("the {target} URL is invalid"),
            e => e.to_string(),
        })?;
    match response.status() {
        200..=299 => Ok(Delivery::Sent),
        status => Err(format!("{target} answered {status}")),
    }
}
