//! Sign-in in the fake: `GET /sso/authorize` checks the request and the connection selector,
//! then signs in the `login_hint` user or shows the sign-in page, whose click
//! (`GET /sso/authorize/approve`) signs in the chosen user; either way back to the app with a code.

use bytes::Bytes;
use http::header::LOCATION;
use http::{HeaderValue, StatusCode, Uri};

use super::page;
use super::reply::{Reply, html_reply, internal_error, reply};
use super::request::Params;
use super::seed::{Seed, UserRef};
use super::state::{Authorization, Pending, Shared};

/// Where the sign-in page sends the user's choice.
pub(super) const APPROVE_PATH: &str = "/sso/authorize/approve";

/// Validates the request, resolves the connection selector, then signs in the `login_hint` user
/// directly or shows the sign-in page.
pub(super) fn authorize(shared: &Shared, params: &Params) -> Reply {
    let authorization = match check_authorize(&shared.seed, params) {
        Ok(authorization) => authorization,
        Err((title, message)) => return error_page(title, message),
    };
    let connections = match select_connections(&shared.seed, params) {
        Ok(connections) => connections,
        Err((error, description)) => {
            let pairs = [("error", error), ("error_description", description)];
            return redirect_back(&authorization, &pairs);
        }
    };
    let hinted = params
        .get("login_hint")
        .and_then(|email| shared.seed.find_by_email(&connections, email));
    match hinted {
        Some(user) => sign_in(shared, user, authorization),
        None => show_sign_in_page(shared, authorization, connections),
    }
}

/// Why an authorize request gets the 400 page instead of a redirect: a title and a message.
type PageError = (&'static str, &'static str);

/// The checks that, when they fail, leave no safe place to redirect to: answered with a 400 page.
fn check_authorize(seed: &Seed, params: &Params) -> Result<Authorization, PageError> {
    if params.get("client_id") != Some(seed.client_id.as_str()) {
        return Err(("Invalid client_id", "The client_id is missing or unknown."));
    }
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|uri| is_absolute_http_url(uri))
    else {
        return Err((
            "Invalid redirect_uri",
            "The redirect_uri is missing or is not an absolute http(s) URL without a fragment.",
        ));
    };
    if params.get("response_type") != Some("code") {
        return Err((
            "Invalid response_type",
            "The response_type must be \"code\".",
        ));
    }
    Ok(Authorization {
        redirect_uri: redirect_uri.to_owned(),
        state: params.get("state").map(str::to_owned),
        code_challenge: code_challenge(params)?,
    })
}

fn is_absolute_http_url(uri: &str) -> bool {
    let Ok(parsed) = uri.parse::<Uri>() else {
        return false;
    };
    let http = matches!(parsed.scheme_str(), Some("http" | "https"));
    let host = parsed.host().is_some_and(|host| !host.is_empty());
    http && host && !uri.contains('#')
}

/// The PKCE challenge, if any: only S256 is accepted, and the value must look like one.
fn code_challenge(params: &Params) -> Result<Option<String>, PageError> {
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => Ok(None),
        (Some(challenge), Some("S256")) if is_pkce_value(challenge) => {
            Ok(Some(challenge.to_owned()))
        }
        _ => Err((
            "Invalid PKCE parameters",
            "code_challenge must be a base64url value sent with code_challenge_method=S256.",
        )),
    }
}

/// RFC 7636 characters and length.
fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The seeded connections (by index) named by the one `connection`, `organization` or `provider`
/// parameter, or the WorkOS error code and description to redirect with.
fn select_connections(
    seed: &Seed,
    params: &Params,
) -> Result<Vec<usize>, (&'static str, &'static str)> {
    let selectors: Vec<(&str, &str)> = ["connection", "organization", "provider"]
        .into_iter()
        .filter_map(|name| params.get(name).map(|value| (name, value)))
        .collect();
    let [(selector, value)] = selectors[..] else {
        return Err((
            "invalid_connection_selector",
            "Exactly one of connection, organization or provider is required.",
        ));
    };
    let selected: Vec<usize> = (seed.connections.iter().enumerate())
        // As WorkOS: only an active connection signs anyone in.
        .filter(|(_, connection)| connection.state == "active")
        .filter(|(_, connection)| match selector {
            "connection" => connection.id == value,
            "organization" => connection.organization_id.as_deref() == Some(value),
            _ => connection.connection_type == value,
        })
        .map(|(index, _)| index)
        .collect();
    match (selected.is_empty(), selector) {
        (false, _) => Ok(selected),
        (true, "organization") => Err((
            "organization_invalid",
            "No SSO connection for this organization.",
        )),
        (true, _) => Err(("connection_invalid", "No such SSO connection.")),
    }
}

fn show_sign_in_page(
    shared: &Shared,
    authorization: Authorization,
    connections: Vec<usize>,
) -> Reply {
    let Some(id) = shared.random_token() else {
        return internal_error();
    };
    let html = page::sign_in(&shared.seed, APPROVE_PATH, &id, &connections);
    let pending = Pending {
        authorization,
        connections,
    };
    shared.store().pending.insert(id, pending);
    html_reply(StatusCode::OK, html)
}

/// The click on the sign-in page: consumes the pending sign-in and signs in the chosen user.
pub(super) fn approve(shared: &Shared, params: &Params) -> Reply {
    let pending = params
        .get("authorization")
        .and_then(|id| shared.store().pending.take(id));
    let Some(pending) = pending else {
        return error_page(
            "Sign-in expired",
            "This sign-in request is unknown, expired or was already used. Start again from the application.",
        );
    };
    let user = params
        .get("profile")
        .and_then(|id| shared.seed.find_by_profile_id(&pending.connections, id));
    match user {
        Some(user) => sign_in(shared, user, pending.authorization),
        None => error_page(
            "Unknown user",
            "This user cannot sign in through this connection.",
        ),
    }
}

/// Issues a code for `user` and sends the browser back with it.
fn sign_in(shared: &Shared, user: UserRef, authorization: Authorization) -> Reply {
    let code_challenge = authorization.code_challenge.clone();
    match shared.issue_code(user, code_challenge) {
        Some(code) => redirect_back(&authorization, &[("code", &code)]),
        None => internal_error(),
    }
}

/// A 302 to the redirect URI with these parameters and the state, appended to its own query.
fn redirect_back(authorization: &Authorization, pairs: &[(&str, &str)]) -> Reply {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(pairs);
    if let Some(state) = &authorization.state {
        query.append_pair("state", state);
    }
    let uri = &authorization.redirect_uri;
    let separator = match uri.find('?') {
        None => "?",
        Some(_) if uri.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    let location = format!("{uri}{separator}{}", query.finish());
    let Ok(location) = HeaderValue::try_from(location) else {
        return internal_error();
    };
    let mut reply = reply(StatusCode::FOUND, "text/plain; charset=utf-8", Bytes::new());
    reply.headers_mut().insert(LOCATION, location);
    reply
}

fn error_page(title: &str, message: &str) -> Reply {
    html_reply(StatusCode::BAD_REQUEST, page::error(title, message))
}
