//! `POST /sso/token`: the code exchange, and the parts of its answer the crate keeps.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{WorkOsClient, WorkOsError};
use crate::authorization::OAuthTokens;
use crate::profile::Profile;
use crate::secret::{AuthorizationCode, PkceVerifier};

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

impl WorkOsClient {
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
        let url = self.url("/sso/token");
        let answer = self
            .send("token", || {
                self.http
                    .post(&url)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.as_bytes().to_vec())
            })
            .await?;
        TokenResponse::parse(&answer)
    }
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
        let printed = format!("{tokens:?}");
        assert!(
            !printed.contains("ya29.x") && !printed.contains("1//y"),
            "{printed}"
        );

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
