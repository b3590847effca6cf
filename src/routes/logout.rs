//! `POST /auth/logout`: same-origin only, clears the session cookie, revokes the session where
//! a store is configured.

use std::sync::Arc;

use http::{HeaderMap, Method, Request, StatusCode, header};

use super::Answer;
use super::origin::same_origin;
use crate::core::Core;
use crate::response;
use crate::session::{Presented, SessionClaims};
use crate::time::from_unix_seconds;
use crate::token::Verified;

/// `POST /auth/logout`: the cookie is cleared at once; with a store, the session is revoked
/// before the answer goes out.
pub(crate) fn logout<B>(core: &Arc<Core>, request: &Request<B>) -> Answer {
    if request.method() != Method::POST {
        return Answer::Now(response::method_not_allowed("POST"));
    }
    let headers = request.headers();
    if !same_origin(&core.config.origin, headers) {
        return Answer::Now(response::json_error(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "logout must come from this site",
        ));
    }

    let mut response = response::redirect(StatusCode::SEE_OTHER, &core.config.after_logout);
    response
        .headers_mut()
        .append(header::SET_COOKIE, core.sessions.clear_cookie());
    response::no_store(&mut response);

    let (Some(store), Some(verified)) = (&core.config.session_store, session_of(core, headers))
    else {
        return Answer::Now(response);
    };
    let store = store.clone();
    let until = from_unix_seconds(verified.claims.exp) + core.config.clock_leeway;
    let session_id = verified.claims.sid;
    Answer::later(async move {
        if let Err(error) = store.revoke(&session_id, until).await {
            tracing::error!(%error, "could not revoke the session at logout");
        }
        response
    })
}

/// The verified session the logout request presents, if any.
fn session_of(core: &Core, headers: &HeaderMap) -> Option<Verified<SessionClaims>> {
    match core.sessions.presented(headers) {
        Presented::Cookie(token) | Presented::Bearer(token) => {
            core.sessions.verify(token, core.now()).ok()
        }
        Presented::None | Presented::Ambiguous => None,
    }
}
