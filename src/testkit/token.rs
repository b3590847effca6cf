//! The code exchange in the fake, `POST /sso/token` (client, code, PKCE checked as WorkOS does),
//! and `GET /sso/profile`, which its access token reads.

use aws_lc_rs::{constant_time, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Request, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{Reply, internal_error, json_reply, oauth_error};
use super::request::read_body;
use super::seed::Seed;
use super::state::{ACCESS_TOKEN_LIFETIME, Shared};

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

pub(super) async fn token(
    shared: &Shared,
    request: Request<Incoming>,
    profile: Option<Value>,
) -> Reply {
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

/// The profile of the user an access token was issued to.
pub(super) fn profile(shared: &Shared, headers: &HeaderMap) -> Reply {
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
