//! IdP logout in the fake: `POST /sso/logout/authorize` and the Logout Redirect
//! `GET /sso/logout?token=...`. As WorkOS, only `GenericOIDC` connections support it.

use http::header::LOCATION;
use http::{HeaderValue, Request, StatusCode, Uri};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::page;
use super::reply::{Reply, html_reply, internal_error, json_reply, oauth_error, reply};
use super::request::{Params, base_of, read_body};
use super::state::{CAPACITY, Shared, lock};

#[derive(Deserialize)]
struct LogoutRequest {
    profile_id: String,
}

/// Issues a one-time logout token for a seeded profile of an OIDC connection.
pub(super) async fn authorize(shared: &Shared, request: Request<Incoming>) -> Reply {
    let base = base_of(request.headers());
    let Ok(body) = read_body(request.into_body()).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body could not be read.",
        );
    };
    let Ok(LogoutRequest { profile_id }) = serde_json::from_slice(&body) else {
        return json_reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({ "message": "profile_id is required." }),
        );
    };
    let everywhere: Vec<usize> = (0..shared.seed.connections.len()).collect();
    let Some(user) = shared.seed.find_by_profile_id(&everywhere, &profile_id) else {
        return json_reply(
            StatusCode::NOT_FOUND,
            &json!({ "message": "Profile not found." }),
        );
    };
    if shared.seed.get(user).0.connection_type != "GenericOIDC" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "connection_invalid",
            "Single Logout is only supported for GenericOIDC connections.",
        );
    }
    let Some(token) = shared.random_token() else {
        return internal_error();
    };
    let mut tokens = lock(&shared.api.logout_tokens);
    if tokens.len() >= CAPACITY {
        tokens.clear();
    }
    tokens.insert(token.clone(), profile_id);
    json_reply(
        StatusCode::OK,
        &json!({
            "logout_url": format!("{base}/sso/logout?token={token}"),
            "logout_token": token,
        }),
    )
}

/// The browser arrives with the token: the IdP session ends, and the browser goes to the
/// configured logout redirect (or sees a small page).
pub(super) fn redirect(shared: &Shared, uri: &Uri) -> Reply {
    let params = Params::parse(uri);
    let profile = params
        .get("token")
        .and_then(|token| lock(&shared.api.logout_tokens).remove(token));
    let Some(profile) = profile else {
        return json_reply(
            StatusCode::NOT_FOUND,
            &json!({ "message": "Logout token not found." }),
        );
    };
    lock(&shared.api.logged_out).push(profile);
    let target = lock(&shared.api.logout_redirect).clone();
    match target.and_then(|url| HeaderValue::try_from(url).ok()) {
        Some(location) => {
            let mut reply = reply(StatusCode::FOUND, "text/plain; charset=utf-8", "");
            reply.headers_mut().insert(LOCATION, location);
            reply
        }
        None => html_reply(
            StatusCode::OK,
            page::error(
                "Signed out",
                "You are signed out at your identity provider.",
            ),
        ),
    }
}
