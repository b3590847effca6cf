//! Injected faults: each request is counted, then answered as its endpoint's [`Fault`] says.

use http::header::HeaderName;
use http::{HeaderValue, StatusCode};

use super::reply::{Reply, reply};
use super::state::Shared;
use super::{Endpoint, Fault};

/// Counts a request to `endpoint` and applies its injected fault: the faulty answer, or (after
/// any delay) the profile the token endpoint should return instead, if one was set.
pub(super) async fn counted_with_fault(
    shared: &Shared,
    endpoint: Endpoint,
) -> Result<Option<serde_json::Value>, Reply> {
    shared.count_request(endpoint);
    match shared.fault(endpoint) {
        Some(Fault::Status {
            status,
            headers,
            body,
        }) => Err(fault_reply(status, &headers, body)),
        Some(Fault::Body(body)) => Err(reply(StatusCode::OK, "application/json", body)),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(None)
        }
        Some(Fault::Hang) => std::future::pending().await,
        Some(Fault::Profile(profile)) => Ok(Some(profile)),
        None => Ok(None),
    }
}

/// The answer of a [`Fault::Status`]: invalid or informational (1xx) statuses become 500, invalid
/// headers are skipped.
fn fault_reply(status: u16, headers: &[(String, String)], body: String) -> Reply {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|status| !status.is_informational())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut reply = reply(status, "application/json", body);
    let mut replaced: Vec<HeaderName> = Vec::new();
    for (name, value) in headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) else {
            tracing::debug!("MockWorkOs: skipping an invalid fault header");
            continue;
        };
        // A fault header replaces a default one (content-type, cache-control); repeats add up.
        if !replaced.contains(&name) {
            reply.headers_mut().remove(&name);
            replaced.push(name.clone());
        }
        reply.headers_mut().append(name, value);
    }
    reply
}
