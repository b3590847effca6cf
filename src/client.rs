//! The WorkOS HTTP client: the code exchange, on one shared `reqwest::Client` with connect and
//! total timeouts and a cap on how much of a response is read.

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::authorization::OAuthTokens;
use crate::config::SsoConfig;
use crate::profile::Profile;
use crate::secret::{ApiKey, AuthorizationCode, PkceVerifier};

/// The most bytes of a WorkOS answer the crate reads; a profile is a few KiB.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why a code exchange failed. Carries status and WorkOS's error code, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WorkOsError {
    /// The code is expired, used or unknown, or the PKCE verifier does not match.
    InvalidGrant,
    /// WorkOS refused the request for another reason (credentials, grant type).
    Rejected { status: u16, error: String },
    /// WorkOS asked us to slow down.
    RateLimited { retry_after: Option<u64> },
    /// WorkOS answered 5xx.
    ServerError { status: u16 },
    /// WorkOS could not be reached.
    Unreachable,
    /// WorkOS did not answer in time.
    Timeout,
    /// The answer was too large or not the expected JSON.
    BadResponse(&'static str),
}

/// The parts of the token response the crate uses. `token_type` and `expires_in` are not
/// required: some deployments omit them.
#[derive(Deserialize)]
struct TokenResponse {
    profile: Value,
    #[serde(default)]
    oauth_tokens: Option<Value>,
}

/// What a code exchange returns: the profile, and what only the authorization step sees.
pub(crate) struct Exchanged {
    pub(crate) profile: Profile,
    /// The IdP's unfiltered attributes: never stored, never logged.
    pub(crate) raw_attributes: Map<String, Value>,
    pub(crate) oauth_tokens: Option<OAuthTokens>,
}

impl TokenResponse {
    fn parse(body: &[u8]) -> Result<Exchanged, WorkOsError> {
        const BAD: WorkOsError = WorkOsError::BadResponse("the token response is not valid JSON");
        let mut response = serde_json::from_slice::<TokenResponse>(body).map_err(|_| BAD)?;
        let raw_attributes = match response.profile.get_mut("raw_attributes").map(Value::take) {
            Some(Value::Object(raw)) => raw,
            _ => Map::new(),
        };
        let profile = serde_json::from_value(response.profile).map_err(|_| BAD)?;
        Ok(Exchanged {
            profile,
            raw_attributes,
            oauth_tokens: response.oauth_tokens.and_then(OAuthTokens::from_json),
        })
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
}

/// Talks to the WorkOS API.
pub(crate) struct WorkOsClient {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    api_key: ApiKey,
    max_body: usize,
}

impl WorkOsClient {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        Self {
            http: config.http.clone(),
            token_url: format!("{}/sso/token", config.api_base_url),
            client_id: config.client_id.clone(),
            api_key: config.api_key.clone(),
            max_body: MAX_RESPONSE_BYTES,
        }
    }

    /// Exchanges a callback's code for the user's profile (`POST /sso/token`, JSON body).
    ///
    /// A code is single-use, so a request that reached WorkOS is never repeated; only a
    /// connection that never opened is tried once more.
    pub(crate) async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> Result<Exchanged, WorkOsError> {
        // The API key travels only in this body, never in a URL (SECURITY.md C3).
        let body = zeroize::Zeroizing::new(
            serde_json::json!({
                "client_id": self.client_id,
                "client_secret": self.api_key.expose(),
                "grant_type": "authorization_code",
                "code": code.expose(),
                "code_verifier": verifier.expose(),
            })
            .to_string(),
        );
        let send = || {
            self.http
                .post(&self.token_url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::ACCEPT, "application/json")
                .body(body.as_bytes().to_vec())
                .send()
        };
        let response = match send().await {
            Err(error) if error.is_connect() && !error.is_timeout() => send().await,
            result => result,
        }
        .map_err(classify)?;

        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = self.read_capped(response).await?;

        match status {
            StatusCode::OK => TokenResponse::parse(&body),
            StatusCode::TOO_MANY_REQUESTS => Err(WorkOsError::RateLimited { retry_after }),
            s if s.is_server_error() => Err(WorkOsError::ServerError { status: s.as_u16() }),
            s => {
                let error = serde_json::from_slice::<ErrorBody>(&body)
                    .map(|e| e.error)
                    .unwrap_or_default();
                if error == "invalid_grant" {
                    Err(WorkOsError::InvalidGrant)
                } else {
                    // Keep only a well-formed error code: it is logged.
                    let error = if is_error_code(&error) {
                        error
                    } else {
                        String::new()
                    };
                    Err(WorkOsError::Rejected {
                        status: s.as_u16(),
                        error,
                    })
                }
            }
        }
    }

    /// Reads at most `max_body` bytes; a longer answer is refused, not truncated.
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>, WorkOsError> {
        const TOO_LARGE: WorkOsError = WorkOsError::BadResponse("the response is too large");
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body as u64)
        {
            return Err(TOO_LARGE);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(TOO_LARGE);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn classify(error: reqwest::Error) -> WorkOsError {
    if error.is_timeout() {
        WorkOsError::Timeout
    } else if error.is_connect() {
        WorkOsError::Unreachable
    } else {
        // A reset mid-answer, a broken body: treat like a bad gateway.
        WorkOsError::BadResponse("the connection to WorkOS failed mid-answer")
    }
}

fn is_error_code(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_response_keeps_raw_attributes_and_oauth_tokens_apart_from_the_profile() {
        let body = serde_json::json!({
            "token_type": "Bearer", "access_token": "wos", "expires_in": 600,
            "profile": {"id": "prof_1", "email": "e@gmail.test", "connection_type": "GoogleOAuth",
                        "raw_attributes": {"sub": "104", "hd": "gmail.test"}},
            "oauth_tokens": {"provider": "GoogleOAuth", "access_token": "ya29.x",
                             "refresh_token": "1//y", "expires_at": 1, "scopes": ["email"]}
        });
        let exchanged = TokenResponse::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(exchanged.profile.id, "prof_1");
        assert_eq!(exchanged.raw_attributes["hd"], "gmail.test");
        let tokens = exchanged.oauth_tokens.unwrap();
        assert_eq!(tokens.access_token.expose(), "ya29.x");
        assert_eq!(tokens.provider, "GoogleOAuth");

        let bare = TokenResponse::parse(br#"{"profile": {"id": "p", "email": "e@x.test", "raw_attributes": null}, "oauth_tokens": null}"#).unwrap();
        assert!(bare.raw_attributes.is_empty() && bare.oauth_tokens.is_none());
        for bad in [
            &br#"{"profile": null}"#[..],
            br#"{"profile": []}"#,
            br#"{}"#,
            b"[]",
        ] {
            assert!(TokenResponse::parse(bad).is_err());
        }
    }
}
