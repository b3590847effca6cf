//! IdP logout (`idp_logout`): after the app's session has ended, ask WorkOS for the logout URL
//! of the user's identity-provider session and send the browser there. Where WorkOS cannot (the
//! connection does not support it, WorkOS is down or slow), the answer says the user is signed
//! out of this app only: the app's session is already gone either way.

use http::{HeaderValue, Response, StatusCode, header};

use crate::client::log_failure;
use crate::core::Core;
use crate::response::{self, Action, OwnBody};

/// The answer to a logout whose session `profile_id` was already revoked and cleared.
pub(super) async fn end_at_idp(
    core: &Core,
    profile_id: &str,
    wants_page: bool,
) -> Response<OwnBody> {
    let mut response = match core.client.logout_authorize(profile_id).await {
        Ok(logout) if wants_page => response::redirect(StatusCode::SEE_OTHER, logout.logout_url()),
        Ok(logout) => json(&serde_json::json!({
            "signed_out": "idp",
            "logout_url": logout.logout_url(),
        })),
        Err(error) => {
            log_failure("logout authorize", &error);
            local_only(core, wants_page)
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, core.sessions.clear_cookie());
    response::no_store(&mut response);
    response
}

/// Signed out here, not at the identity provider: said plainly, with the way on.
fn local_only(core: &Core, wants_page: bool) -> Response<OwnBody> {
    const MESSAGE: &str = "You are signed out of this application. Your session at your \
        identity provider could not be ended, so it may sign you in again without asking.";
    if wants_page {
        let action = Action {
            href: &core.config.after_logout,
            label: "Continue",
            post: false,
        };
        response::page(
            StatusCode::OK,
            "Signed out of this app",
            MESSAGE,
            Some(action),
        )
    } else {
        json(&serde_json::json!({
            "signed_out": "local",
            "idp_logout": "unavailable",
            "message": MESSAGE,
        }))
    }
}

fn json(body: &serde_json::Value) -> Response<OwnBody> {
    let mut response = Response::new(OwnBody::from(body.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
