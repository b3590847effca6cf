//! The fake's HTTP endpoints: routing, faults, and the authorize, token and profile handlers
//! (the API-key endpoints are in `api.rs`).

use std::collections::HashMap;

use aws_lc_rs::{constant_time, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderName, LOCATION};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use super::seed::{Seed, UserRef};
use super::state::{ACCESS_TOKEN_LIFETIME, Authorization, Pending, Shared};
use super::{Endpoint, Fault, directory, page};

pub(super) type Reply = Response<Full<Bytes>>;

/// The largest token request body the fake reads.
const MAX_BODY: usize = 64 * 1024;
/// Where the sign-in page sends the user's choice.
const APPROVE_PATH: &str = "/sso/authorize/approve";

/// The routes the fake answers; anything else is a 404.
#[derive(Clone, Copy)]
enum Route {
    Authorize,
    Approve,
    Token,
    Profile,
    Organizations,
}

impl Route {
    fn of(method: &Method, path: &str) -> Option<Route> {
        match (method, path) {
            (&Method::GET, "/sso/authorize") => Some(Route::Authorize),
            (&Method::GET, APPROVE_PATH) => Some(Route::Approve),
            (&Method::POST, "/sso/token") => Some(Route::Token),
            (&Method::GET, "/sso/profile") => Some(Route::Profile),
            (&Method::GET, "/organizations") => Some(Route::Organizations),
            _ => None,
        }
    }

    fn endpoint(self) -> Endpoint {
        match self {
            Route::Authorize | Route::Approve => Endpoint::Authorize,
            Route::Token => Endpoint::Token,
            Route::Profile => Endpoint::Profile,
            Route::Organizations => Endpoint::Organizations,
        }
    }
}

/// Answers one request: counts it, applies the endpoint's fault, then handles it normally.
pub(super) async fn handle(shared: &Shared, request: Request<Incoming>) -> Reply {
    // Method and path only: queries carry codes and states.
    tracing::debug!(method = %request.method(), path = request.uri().path(), "MockWorkOs request");
    let Some(route) = Route::of(request.method(), request.uri().path()) else {
        return super::api::handle(shared, request).await;
    };
    if let Route::Authorize = route {
        shared
            .api
            .record_authorize(request.uri().query().unwrap_or_default());
    }
    let profile_override = match counted_with_fault(shared, route.endpoint()).await {
        Ok(profile_override) => profile_override,
        Err(faulty) => return faulty,
    };
    let params = Params::parse(request.uri());
    match route {
        Route::Authorize => authorize(shared, &params),
        Route::Approve => approve(shared, &params),
        Route::Token => token(shared, request, profile_override).await,
        Route::Profile => profile(shared, request.headers()),
        Route::Organizations => {
            directory::list_organizations(&shared.seed, request.uri(), request.headers())
        }
    }
}

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

/// Query parameters; the first occurrence of a name wins.
pub(super) struct Params(HashMap<String, String>);

impl Params {
    pub(super) fn parse(uri: &Uri) -> Params {
        let mut params = HashMap::new();
        let query = uri.query().unwrap_or_default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            params
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Params(params)
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

// ---- GET /sso/authorize -------------------------------------------------------------------------

/// Validates the request, resolves the connection selector, then signs in the `login_hint` user
/// directly or shows the sign-in page.
fn authorize(shared: &Shared, params: &Params) -> Reply {
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

// ---- GET /sso/authorize/approve -----------------------------------------------------------------

/// The click on the sign-in page: consumes the pending sign-in and signs in the chosen user.
fn approve(shared: &Shared, params: &Params) -> Reply {
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

// ---- POST /sso/token ----------------------------------------------------------------------------

/// The fields of a token request, from JSON or a form. Deliberately not `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
#[serde(default)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
}

impl TokenRequest {
    /// A JSON object with string (or null) fields; anything else is not a token request.
    fn from_json(body: &[u8]) -> Option<TokenRequest> {
        match serde_json::from_slice(body).ok()? {
            object @ Value::Object(_) => serde_json::from_value(object).ok(),
            _ => None,
        }
    }

    /// A form body; the first occurrence of a field wins, unknown fields are ignored.
    fn from_form(body: &[u8]) -> TokenRequest {
        let mut request = TokenRequest::default();
        for (name, value) in form_urlencoded::parse(body) {
            let field = match &*name {
                "client_id" => &mut request.client_id,
                "client_secret" => &mut request.client_secret,
                "grant_type" => &mut request.grant_type,
                "code" => &mut request.code,
                "code_verifier" => &mut request.code_verifier,
                _ => continue,
            };
            field.get_or_insert_with(|| value.into_owned());
        }
        request
    }
}

async fn token(shared: &Shared, request: Request<Incoming>, profile: Option<Value>) -> Reply {
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err((status, description)) => return oauth_error(status, "invalid_request", description),
    };
    let token_request = if is_form {
        TokenRequest::from_form(&body)
    } else {
        let Some(token_request) = TokenRequest::from_json(&body) else {
            let description = "The body is not a valid JSON token request.";
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description);
        };
        token_request
    };
    exchange(shared, token_request, profile)
}

/// The body, at most [`MAX_BODY`] bytes, or the status and description to refuse it with.
pub(super) async fn read_body(body: Incoming) -> Result<Bytes, (StatusCode, &'static str)> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large.",
        )),
        Err(_) => Err((
            StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        )),
    }
}

/// The checks, in order: client, grant type, code (consumed here, even if PKCE then fails), PKCE.
fn exchange(shared: &Shared, request: TokenRequest, profile: Option<Value>) -> Reply {
    let bad = |error, description| oauth_error(StatusCode::BAD_REQUEST, error, description);
    if !client_authenticates(&shared.seed, &request) {
        return bad("invalid_client", "Invalid client ID or secret.");
    }
    if request.grant_type.as_deref() != Some("authorization_code") {
        return bad("unsupported_grant_type", "The grant type is not supported.");
    }
    let code = request.code.as_deref().unwrap_or_default();
    let Some(issued) = shared.store().codes.take(code) else {
        return bad(
            "invalid_grant",
            "The code has expired or has already been used.",
        );
    };
    if !pkce_matches(
        issued.code_challenge.as_deref(),
        request.code_verifier.as_deref(),
    ) {
        return bad(
            "invalid_grant",
            "The code_verifier does not match the code_challenge.",
        );
    }
    let Some(access_token) = shared.issue_access_token(issued.user) else {
        return internal_error();
    };
    let profile = profile.unwrap_or_else(|| shared.seed.profile_json(issued.user));
    let mut body = json!({
        "token_type": "Bearer",
        "access_token": access_token,
        "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
        "profile": profile,
    });
    // OAuth connections also hand over the provider's own tokens, as WorkOS does.
    let provider = &shared.seed.get(issued.user).0.connection_type;
    if provider.ends_with("OAuth") {
        let (Some(access), Some(refresh)) = (shared.random_token(), shared.random_token()) else {
            return internal_error();
        };
        body["oauth_tokens"] = json!({
            "provider": provider,
            "access_token": format!("ya29.testkit-{access}"),
            "refresh_token": format!("1//testkit-{refresh}"),
            "expires_at": unix_now() + 3600,
            "scopes": ["openid", "profile", "email"],
        });
    }
    json_reply(StatusCode::OK, &body)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn client_authenticates(seed: &Seed, request: &TokenRequest) -> bool {
    let secret = request.client_secret.as_deref().unwrap_or_default();
    let secret_ok =
        constant_time::verify_slices_are_equal(secret.as_bytes(), seed.api_key.as_bytes()).is_ok();
    request.client_id.as_deref() == Some(seed.client_id.as_str()) && secret_ok
}

/// A code issued without a challenge ignores any verifier; one with a challenge needs the verifier
/// whose base64url(SHA-256) equals it.
fn pkce_matches(challenge: Option<&str>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(challenge), Some(verifier)) => {
            let hash = digest::digest(&digest::SHA256, verifier.as_bytes());
            URL_SAFE_NO_PAD.encode(hash.as_ref()) == challenge
        }
    }
}

// ---- GET /sso/profile ---------------------------------------------------------------------------

fn profile(shared: &Shared, headers: &HeaderMap) -> Reply {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let user = token.and_then(|token| shared.store().tokens.get(token).copied());
    match user {
        Some(user) => json_reply(StatusCode::OK, &shared.seed.profile_json(user)),
        None => json_reply(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "Unauthorized" }),
        ),
    }
}

// ---- Replies ------------------------------------------------------------------------------------

pub(super) fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Reply {
    let mut reply = Response::new(Full::new(body.into()));
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

pub(super) fn json_reply(status: StatusCode, body: &Value) -> Reply {
    reply(status, "application/json", body.to_string())
}

pub(super) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Reply {
    json_reply(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

pub(super) fn html_reply(status: StatusCode, html: String) -> Reply {
    let mut reply = reply(status, "text/html; charset=utf-8", html);
    let headers = reply.headers_mut();
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        http::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    reply
}

fn error_page(title: &str, message: &str) -> Reply {
    html_reply(StatusCode::BAD_REQUEST, page::error(title, message))
}

pub(super) fn internal_error() -> Reply {
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "MockWorkOs failed internally.",
    )
}

/// The answer of a [`Fault::Status`]: invalid or informational (1xx) statuses become 500, invalid
/// headers are skipped.
pub(super) fn fault_reply(status: u16, headers: &[(String, String)], body: String) -> Reply {
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
