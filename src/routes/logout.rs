//! `POST /auth/logout`: same-origin only, clears the session cookie and revokes the session in
//! the layer's store, so every copy of its tokens is refused until the session's absolute end;
//! then, with `idp_logout`, ends the session at the identity provider too (`idp_logout.rs`).

use std::sync::Arc;

use http::{HeaderMap, Method, Request, Response, StatusCode, header};

use super::origin::same_origin;
use super::{Answer, idp_logout};
use crate::core::Core;
use crate::response::{self, OwnBody};
use crate::session::{Presented, SessionClaims, SessionSource};
use crate::token::Verified;

/// `POST /auth/logout`: the cookie is cleared, and the session is revoked before the answer
/// goes out. If the store cannot record it, the answer says so (503) rather than pretend.
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

    let Some(verified) = session_of(core, headers) else {
        return Answer::Now(response);
    };
    // A form post from a page gets a page back; other clients get JSON.
    let wants_page = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let core = core.clone();
    Answer::later(async move {
        // The app's session ends first: only then is the identity provider asked.
        match core.revocations.revoke_session_of(&verified.claims).await {
            Ok(()) if core.config.idp_logout => {
                idp_logout::end_at_idp(&core, &verified.claims.profile.id, wants_page).await
            }
            Ok(()) => response,
            Err(error) => {
                crate::telemetry::store_error("revoke");
                tracing::error!(%error, "could not revoke the session at logout");
                not_revoked(&core, wants_page)
            }
        }
    })
}

/// The answer to a logout whose revocation the store refused: the cookie is still cleared, and
/// the user learns that copies of the session may live on.
fn not_revoked(core: &Core, wants_page: bool) -> Response<OwnBody> {
    let status = StatusCode::SERVICE_UNAVAILABLE;
    let message = "You are signed out in this browser, but the session could not be ended \
                   everywhere. Other copies of it may work until it expires.";
    let mut response = if wants_page {
        response::page(status, "Sign-out incomplete", message, None)
    } else {
        response::json_error(status, "session_not_revoked", message)
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, core.sessions.clear_cookie());
    response::no_store(&mut response);
    response
}

/// The verified session the logout request presents, if any. A minted bearer token sent as the
/// cookie is no session, as everywhere else.
fn session_of(core: &Core, headers: &HeaderMap) -> Option<Verified<SessionClaims>> {
    let (token, source) = match core.sessions.presented(headers) {
        Presented::Cookie(token) => (token, SessionSource::Cookie),
        Presented::Bearer(token) => (token, SessionSource::Bearer),
        Presented::None | Presented::Ambiguous => return None,
    };
    core.sessions.verify_as(token, source, core.now()).ok()
}
