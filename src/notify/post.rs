//! The one way a notification leaves: a JSON POST with a deadline.

use worker::{Headers, Method, Request, RequestInit};

use crate::config::Config;
use crate::platform::outbound;
use crate::store::notifications::Delivery;

/// POSTs a JSON body; any 2xx is delivered, anything else a failure to retry.
pub(super) async fn post_json(
    config: &Config,
    url: &str,
    headers: Headers,
    body: String,
    target: &str,
) -> Result<Delivery, String> {
    let _ = headers.set("Content-Type", "application/json");
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let request =
        Request::new_with_init(url, &init).map_err(|_| format!("the {target} URL is invalid"))?;
    let response = outbound::send(request, config.notify.timeout_ms).await?;
    match response.status_code() {
        200..=299 => Ok(Delivery::Sent),
        status => Err(format!("{target} answered {status}")),
    }
}
