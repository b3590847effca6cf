//! Newtypes for values that must never reach a log line, an error message or a `Debug` print.
//!
//! Each prints as `Name(<redacted>)`, compares only through explicit helpers, and wipes its
//! bytes when dropped. The idea of secrets that cannot be printed by accident is oauth2-rs's.

use std::fmt;

use zeroize::Zeroizing;

/// Stands in for a value that must not be printed (a secret, or someone's email) in the
/// `Debug` output of a struct that holds it.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// The secret itself: call this only where the value is sent, never to print it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_string!(
    /// The WorkOS API key (`sk_...`), sent only as the token request's `client_secret`.
    ApiKey
);
secret_string!(
    /// A one-time authorization code from the callback.
    AuthorizationCode
);
secret_string!(
    /// A signed session or flow token, as it travels in a cookie or an `Authorization` header.
    Token
);
secret_string!(
    /// The PKCE code verifier of one login flow.
    PkceVerifier
);
secret_string!(
    /// An OAuth provider's access token, from the token response's `oauth_tokens`: handed to
    /// the authorization hook, never kept in a session.
    OAuthAccessToken
);
secret_string!(
    /// An OAuth provider's refresh token, from the token response's `oauth_tokens`: handed to
    /// the authorization hook, never kept in a session.
    OAuthRefreshToken
);

/// Secret key material for signing sessions (at least 32 bytes).
#[derive(Clone)]
pub struct SessionSecret(Zeroizing<Vec<u8>>);

impl SessionSecret {
    /// The shortest secret the crate accepts.
    pub const MIN_LEN: usize = 32;

    /// Wraps key material; length is checked when the configuration is built.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into()))
    }

    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let printed = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            ApiKey::new("sk_live_abcdef"),
            AuthorizationCode::new("code-123456"),
            Token::new("eyJhbGciOi.payload.sig"),
            PkceVerifier::new("verifier-xyz"),
            SessionSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()),
            OAuthAccessToken::new("ya29.access-abc"),
            OAuthRefreshToken::new("1//refresh-def"),
        );
        for secret in [
            "sk_live",
            "code-123",
            "eyJ",
            "verifier-xyz",
            "0123456789",
            "ya29",
            "refresh-def",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("ApiKey(<redacted>)"));
    }
}
