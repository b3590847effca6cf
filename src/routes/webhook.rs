//! `POST {base_path}/webhooks/workos` (when turned on): WorkOS events that end sessions.
//!
//! The body is read (bounded), the signature checked (see [`crate::webhook`]), a connection
//! deactivated or deleted, or an organization deleted, is revoked through the store as of the
//! event's `created_at` (so every instance refuses its sessions, and revoking it again on a
//! redelivery changes nothing), and then the event id is marked seen in the store (a replay,
//! even a freshly signed one, is answered `replayed`). A delivery whose revocation failed is
//! not marked: WorkOS delivers it again, and that delivery revokes. Answers:
//!
//! | what | answer |
//! |---|---|
//! | not `POST` | `405` |
//! | no or malformed `WorkOS-Signature`, or a body that is no event | `400` |
//! | a signature that does not match, or a timestamp outside the tolerance | `401` |
//! | a body over the bound | `413` |
//! | the store cannot record it | `503` (WorkOS delivers it again, and that delivery counts) |
//! | otherwise | `200` with `{"status": "revoked" \| "ignored" \| "replayed"}` |

use std::sync::Arc;

use http::{Method, Request, Response, StatusCode, header};

use super::Answer;
use crate::config::Webhooks;
use crate::core::Core;
use crate::response::{self, OwnBody};
use crate::webhook::{Event, ReadError, Refusal, read_body, verify};

/// The header WorkOS signs deliveries in.
const SIGNATURE: &str = "workos-signature";

/// Answers a delivery to the webhook route.
pub(crate) fn receive<B: Send + 'static>(core: &Arc<Core>, request: Request<B>) -> Answer {
    let Some(webhooks) = core.config.webhooks.clone() else {
        // The route exists only when configured.
        return Answer::Now(response::json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route",
        ));
    };
    if request.method() != Method::POST {
        return Answer::Now(response::method_not_allowed("POST"));
    }
    let (parts, body) = request.into_parts();
    let header = parts
        .headers
        .get(SIGNATURE)
        .map(|value| value.as_bytes().to_vec());
    let reading = read_body(body, webhooks.max_body);
    let core = core.clone();
    Answer::later(async move {
        let body = match reading.await {
            Ok(body) => body,
            Err(error) => return unread(error),
        };
        let now_ms = (core.config.clock)()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        handle(&core, &webhooks, header.as_deref(), &body, now_ms).await
    })
}

/// A delivery whose body was read.
async fn handle(
    core: &Core,
    webhooks: &Webhooks,
    header: Option<&[u8]>,
    body: &[u8],
    now_ms: u64,
) -> Response<OwnBody> {
    let signed = verify(
        webhooks.secret.bytes(),
        header,
        body,
        now_ms,
        webhooks.tolerance,
    );
    let event = signed.and_then(|t| Event::parse(body).map(|event| (t, event)));
    let (timestamp, event) = match event {
        Ok(event) => event,
        Err(refusal) => return refused(refusal),
    };
    let kind = event.kind();
    let revocation = match event.revocation() {
        Ok(revocation) => revocation,
        Err(refusal) => return refused(refusal),
    };
    // Seen until its signature is too old to be taken again.
    let until = timestamp / 1000 + webhooks.tolerance.as_secs() + 1;
    let seen = || core.revocations.consume_event(&event.id, until);
    let replayed = || {
        tracing::info!(event = kind, event_id = %event.id, "webhook event replayed; ignored");
        ok("replayed")
    };
    let Some(what) = revocation else {
        return match seen().await {
            Ok(true) => {
                tracing::debug!(event = kind, event_id = %event.id, "webhook event ignored");
                ok("ignored")
            }
            Ok(false) => replayed(),
            Err(error) => unavailable(&error),
        };
    };
    // Revoked as of the event's creation, so every delivery of it revokes the very same: it is
    // revoked first and marked seen after, and a delivery whose revocation failed leaves the
    // id free for WorkOS's next one. An event without a readable `created_at` (WorkOS always
    // sends one) is revoked as of now, so it is marked first: a replay must not end sessions
    // signed in since.
    let as_of = event.created_at();
    if as_of.is_none() {
        match seen().await {
            Ok(true) => {}
            Ok(false) => return replayed(),
            Err(error) => return unavailable(&error),
        }
    }
    if let Err(error) = core.revocations.revoke_as_of(what, as_of, "webhook").await {
        return unavailable(&error);
    }
    let first = match as_of {
        Some(_) => seen().await,
        None => Ok(true),
    };
    match first {
        Ok(true) => {
            tracing::info!(event = kind, event_id = %event.id, "webhook event ended sessions");
            ok("revoked")
        }
        Ok(false) => replayed(),
        Err(error) => unavailable(&error),
    }
}

/// `200` with what was done.
fn ok(status: &'static str) -> Response<OwnBody> {
    crate::telemetry::webhook(status);
    let body = serde_json::json!({ "status": status }).to_string();
    let mut response = Response::new(OwnBody::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// A delivery not taken: `400` or `401`, with its stable code and nothing of the request.
fn refused(refusal: Refusal) -> Response<OwnBody> {
    let status = match refusal {
        Refusal::MalformedSignature | Refusal::MalformedEvent => StatusCode::BAD_REQUEST,
        Refusal::Stale | Refusal::BadSignature => StatusCode::UNAUTHORIZED,
    };
    crate::telemetry::webhook(refusal.code());
    tracing::warn!(reason = refusal.code(), "webhook delivery refused");
    response::json_error(status, refusal.code(), "webhook delivery refused")
}

/// A body that could not be read.
fn unread(error: ReadError) -> Response<OwnBody> {
    let (status, code) = match error {
        ReadError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        ReadError::Incomplete => (StatusCode::BAD_REQUEST, "body_incomplete"),
        ReadError::Unsupported => {
            tracing::error!(
                "the webhook route cannot read this server's request body type; \
                 see the crate's webhook docs for the types it reads"
            );
            (StatusCode::INTERNAL_SERVER_ERROR, "body_unsupported")
        }
    };
    crate::telemetry::webhook(code);
    tracing::warn!(reason = code, "webhook delivery refused");
    response::json_error(status, code, "webhook delivery refused")
}

/// The store could not record the event: WorkOS retries a delivery that is not a 2xx.
fn unavailable(error: &crate::store::StoreError) -> Response<OwnBody> {
    crate::telemetry::webhook("store_unavailable");
    crate::telemetry::store_error("webhook");
    tracing::error!(%error, "webhook event not recorded");
    response::json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "session_store_unavailable",
        "the event could not be recorded; deliver it again",
    )
}
