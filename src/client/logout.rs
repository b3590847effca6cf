//! `POST /sso/logout/authorize`: the one-time logout URL that ends a user's session at their
//! identity provider (OIDC connections).

use std::fmt;

use serde::Deserialize;

use super::{WorkOsClient, WorkOsError, check_id};

/// What `POST /sso/logout/authorize` returns: where to send the browser. The URL carries a
/// short-lived logout token, so `Debug` shows neither.
#[derive(Clone, Deserialize)]
pub struct LogoutAuthorization {
    logout_url: String,
    logout_token: String,
}

impl LogoutAuthorization {
    /// The Logout Redirect URL (`.../sso/logout?token=...`) to send the browser to. It holds
    /// the logout token: do not log it.
    pub fn logout_url(&self) -> &str {
        &self.logout_url
    }

    /// The logout token alone, for building the redirect by hand.
    pub fn logout_token(&self) -> &str {
        &self.logout_token
    }
}

impl fmt::Debug for LogoutAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogoutAuthorization(<redacted>)")
    }
}

impl WorkOsClient {
    /// Asks WorkOS for the logout URL of the profile's IdP session
    /// (`POST /sso/logout/authorize` with `{"profile_id": ...}`). WorkOS refuses connections
    /// that do not support it with `Rejected { error: "connection_invalid", .. }`.
    pub async fn logout_authorize(
        &self,
        profile_id: &str,
    ) -> Result<LogoutAuthorization, WorkOsError> {
        let body = serde_json::json!({ "profile_id": check_id(profile_id)? }).to_string();
        let answer = self
            .post_json("logout_authorize", "/sso/logout/authorize", body)
            .await?;
        let logout: LogoutAuthorization = serde_json::from_slice(&answer)
            .map_err(|_| WorkOsError::BadResponse("the logout answer is not the expected JSON"))?;
        if !is_redirect_target(&logout.logout_url) {
            return Err(WorkOsError::BadResponse(
                "the logout URL is not an http(s) URL",
            ));
        }
        Ok(logout)
    }
}

/// An absolute `http(s)` URL that fits in a `Location` header.
fn is_redirect_target(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    matches!(uri.scheme_str(), Some("https" | "http"))
        && uri.host().is_some_and(|h| !h.is_empty())
        && http::HeaderValue::from_str(url).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_urls_must_be_absolute_http_and_stay_out_of_debug() {
        assert!(is_redirect_target(
            "https://auth.workos.com/sso/logout?token=abc"
        ));
        for bad in [
            "javascript:alert(1)",
            "/sso/logout",
            "https://x.test/\r\nSet-Cookie: a",
        ] {
            assert!(!is_redirect_target(bad), "{bad}");
        }
        let logout = LogoutAuthorization {
            logout_url: "https://auth.workos.com/sso/logout?token=secret-token".into(),
            logout_token: "secret-token".into(),
        };
        assert!(!format!("{logout:?}").contains("secret"));
    }
}
