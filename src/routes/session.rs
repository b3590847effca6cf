//! `GET /auth/session`: who is signed in, as JSON, for single-page frontends.
//!
//! The session (cookie, or `Authorization: Bearer`) is verified and checked against the
//! revocations like on any other request; the answer holds the profile as the session keeps
//! it, when the session expires, and the claims of the app's hook; never a token, never
//! cached, never a renewed cookie (asking who is signed in is not activity).

use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::json;

use super::Answer;
use crate::core::Core;
use crate::response::{self, Caller, OwnBody, Reason};
use crate::session::{Presented, SessionSource};

/// Answers `GET`/`HEAD {base}/session`.
pub(crate) fn session<B>(core: &Arc<Core>, request: &Request<B>) -> Answer {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut refused = response::method_not_allowed("GET");
        response::no_store(&mut refused);
        return Answer::Now(refused);
    }
    let (token, source) = match core.sessions.presented(request.headers()) {
        Presented::Cookie(token) => (token, SessionSource::Cookie),
        Presented::Bearer(token) => (token, SessionSource::Bearer),
        Presented::None => return Answer::Now(unauthenticated(Reason::Missing)),
        Presented::Ambiguous => return Answer::Now(unauthenticated(Reason::Invalid)),
    };
    let verified = core
        .sessions
        .authenticate(token.into(), source, core.now(), |cached| {
            cached.profile(source).clone()
        });
    let profile = match verified {
        Ok(Some(profile)) => profile,
        // Text always: only a cookie found as bytes can be no token at all.
        Ok(None) => return Answer::Now(unauthenticated(Reason::Missing)),
        Err(error) => {
            tracing::debug!(?error, "session token refused");
            return Answer::Now(unauthenticated(Reason::Invalid));
        }
    };
    // On a tenant's host, a session of another tenant is none.
    let refusal = core
        .tenants
        .as_ref()
        .and_then(|t| t.refusal(request, &profile));
    if let Some(reason) = refusal {
        return Answer::Now(unauthenticated(reason));
    }
    let core = core.clone();
    Answer::later(async move {
        match core.revocations.check(&profile).await {
            Ok(false) => {}
            Ok(true) => return unauthenticated(Reason::Invalid),
            Err(error) => {
                tracing::error!(%error, "session store unavailable; session route refused");
                let mut refused = response::json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "session_store_unavailable",
                    "sessions cannot be checked right now",
                );
                response::no_store(&mut refused);
                return refused;
            }
        }
        let Some(session) = profile.session() else {
            return unauthenticated(Reason::Invalid);
        };
        let expires_at = session
            .expires_at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |at| at.as_secs());
        let body = json!({
            "profile": profile,
            "expires_at": expires_at,
            "claims": session.claims,
            "trimmed": session.trimmed,
        });
        let mut answer = Response::new(OwnBody::from(body.to_string()));
        let headers = answer.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        personal(&mut answer);
        answer
    })
}

/// 401 with JSON and `WWW-Authenticate`: a frontend asks with `fetch`, never navigating.
fn unauthenticated(reason: Reason) -> Response<OwnBody> {
    let mut answer = response::unauthenticated(Caller::Api, "", reason);
    personal(&mut answer);
    answer
}

/// Never stored, and told apart by cookie by whatever caches anyway.
fn personal(answer: &mut Response<OwnBody>) {
    response::no_store(answer);
    answer.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Authorization"),
    );
}
