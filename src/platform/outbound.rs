//! Outbound HTTP with a deadline: a third party that hangs must not hang us.

use futures_util::future::{select, Either};
use worker::{Delay, Fetch, Request, Response};

/// Sends `request`, giving up after `timeout_ms`. Errors are short, loggable texts
/// (no URLs with credentials, no bodies).
pub async fn send(request: Request, timeout_ms: u64) -> Result<Response, String> {
    let call = Box::pin(async move { Fetch::Request(request).send().await });
    let deadline = Box::pin(Delay::from(std::time::Duration::from_millis(timeout_ms)));
    match select(call, deadline).await {
        Either::Left((Ok(response), _)) => Ok(response),
        // The runtime's text may name the URL, and webhook URLs can carry secrets.
        Either::Left((Err(_), _)) => Err("network error".to_owned()),
        Either::Right(_) => Err(format!("timed out after {timeout_ms} ms")),
    }
}
