//! Admin Portal links in the fake: `POST /portal/generate_link` for a seeded organization; each
//! well-formed request is recorded for tests ([`super::MockWorkOs::portal_requests`]).

use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::recorded::PortalRequest;
use super::reply::{Reply, internal_error, json_reply};
use super::request::{base_of, read_body};
use super::state::Shared;

/// The intents WorkOS accepts.
const INTENTS: &[&str] = &[
    "sso",
    "dsync",
    "audit_logs",
    "log_streams",
    "domain_verification",
    "certificate_renewal",
];

#[derive(Deserialize)]
struct LinkRequest {
    organization: String,
    intent: String,
    #[serde(default)]
    return_url: Option<String>,
}

/// A link to a fake portal page, for a known organization and intent.
pub(super) async fn generate_link(shared: &Shared, request: Request<Incoming>) -> Reply {
    let base = base_of(request.headers());
    let invalid = |message: &str| {
        json_reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({ "code": "invalid_request_parameters", "message": message }),
        )
    };
    let Ok(body) = read_body(request.into_body()).await else {
        return invalid("The body could not be read.");
    };
    let Ok(link) = serde_json::from_slice::<LinkRequest>(&body) else {
        return invalid("organization and intent are required.");
    };
    shared.api.record_portal(PortalRequest {
        organization: link.organization.clone(),
        intent: link.intent.clone(),
        return_url: link.return_url.clone(),
    });
    if !INTENTS.contains(&link.intent.as_str()) {
        return invalid("intent is not valid.");
    }
    if link
        .return_url
        .as_deref()
        .is_some_and(|url| !url.starts_with("https://") && !url.starts_with("http://"))
    {
        return invalid("return_url must be a URL.");
    }
    let known = shared
        .seed
        .connections
        .iter()
        .any(|c| c.organization_id.as_deref() == Some(link.organization.as_str()));
    if !known {
        return json_reply(
            StatusCode::NOT_FOUND,
            &json!({ "code": "entity_not_found", "message": "Organization not found." }),
        );
    }
    let Some(secret) = shared.random_token() else {
        return internal_error();
    };
    json_reply(
        StatusCode::CREATED,
        &json!({ "link": format!("{base}/portal/launch?secret={secret}&intent={}", link.intent) }),
    )
}
