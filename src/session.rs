//! Sessions: signed JWTs with a key ring, their claims and lifetimes, and the session cookie.
//!
//! A session is a compact HS256 JWT whose header names its key (`kid`). New tokens are signed
//! with the newest configured secret; every listed secret still verifies, so keys rotate without
//! signing anyone out. Each purpose (session, login flow) derives its own key from the secret and
//! carries its own `typ`, so a token made for one can never pass as the other.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::SsoConfig;
use crate::cookie;
use crate::crypto;
use crate::profile::Profile;
use crate::secret::{SessionSecret, Token};

/// The longest token the crate reads: anything longer is refused before any parsing.
pub(crate) const MAX_TOKEN_LEN: usize = 4096;
/// The longest session token the crate writes, so the whole `Set-Cookie` stays under 4 KB.
pub(crate) const MAX_ISSUED_LEN: usize = 3800;

/// Metadata of the verified session, beside the [`Profile`] in the request extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// The session id (`sid`): new at every sign-in, the handle for revocation.
    pub id: String,
    /// When the user signed in; the absolute lifetime counts from here.
    pub authenticated_at: SystemTime,
    /// When this token was issued (moves with the sliding window).
    pub issued_at: SystemTime,
    /// When this token expires unless the user is active.
    pub expires_at: SystemTime,
    /// Where the token came from.
    pub source: SessionSource,
}

/// How the client presented its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionSource {
    /// The session cookie (browsers).
    Cookie,
    /// `Authorization: Bearer` (API and gRPC clients).
    Bearer,
}

/// Why a token was refused. Carries no part of the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    TooLong,
    Malformed,
    UnknownKey,
    Invalid,
    Expired,
    NotYetValid,
}

/// Signing keys for one purpose, newest first.
pub(crate) struct KeyRing {
    keys: Vec<RingKey>,
    validation: Validation,
}

struct RingKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// A verified token's claims, and whether the current key signed it.
pub(crate) struct Verified<T> {
    pub(crate) claims: T,
    pub(crate) current_key: bool,
}

impl KeyRing {
    pub(crate) fn new(
        secrets: &[SessionSecret],
        purpose: &str,
        issuer: &str,
        audience: &str,
    ) -> Self {
        let label = format!("tower-workos-sso/v1/{purpose}");
        let keys = secrets
            .iter()
            .map(|secret| {
                let key = zeroize::Zeroizing::new(crypto::derive_key(secret.expose(), &label));
                RingKey {
                    // A short hash of the derived key: names the key, reveals nothing of it.
                    kid: crypto::sha256_b64(&key)[..11].to_owned(),
                    encoding: EncodingKey::from_secret(&key),
                    decoding: DecodingKey::from_secret(&key),
                }
            })
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        // Times are checked by the crate with its own clock and leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        Self { keys, validation }
    }

    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Token {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, claims, &key.encoding)
            .expect("HS256 signing of plain serde claims cannot fail");
        Token::new(token)
    }

    pub(crate) fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<T>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let index = self
            .keys
            .iter()
            .position(|key| crypto::constant_time_eq(key.kid.as_bytes(), kid.as_bytes()))
            .ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<T>(token, &self.keys[index].decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        Ok(Verified {
            claims: data.claims,
            current_key: index == 0,
        })
    }
}

/// The claims of a session token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SessionClaims {
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) sub: String,
    pub(crate) sid: String,
    pub(crate) typ: String,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) auth_time: u64,
    pub(crate) profile: Profile,
}

const SESSION_TYP: &str = "session";

/// A session token found on a request.
pub(crate) enum Presented<'a> {
    None,
    Cookie(&'a str),
    Bearer(&'a str),
    /// Several session cookies: refused, whatever they hold.
    Ambiguous,
}

/// Issues, verifies and renews sessions under one configuration.
pub(crate) struct Sessions {
    ring: KeyRing,
    issuer: String,
    audience: String,
    idle: u64,
    absolute: u64,
    leeway: u64,
    cookie_name: String,
    secure: bool,
}

impl Sessions {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        Self {
            ring: KeyRing::new(
                &config.session_secrets,
                SESSION_TYP,
                &config.issuer,
                &config.audience,
            ),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            idle: config.idle_timeout.as_secs(),
            absolute: config.absolute_lifetime.as_secs(),
            leeway: config.leeway.as_secs(),
            cookie_name: cookie_name(config, &config.cookie_name),
            secure: !config.dev_cookies,
        }
    }

    /// A new session for a fresh sign-in, with a new `sid` (no session fixation). Large optional
    /// profile fields are dropped rather than writing a cookie browsers would refuse.
    pub(crate) fn issue(&self, profile: &Profile, now: u64) -> Option<(Token, SessionClaims)> {
        self.issue_within(profile, crypto::random_token(16), now, now)
    }

    /// Another token for a session already signed in (for an API or gRPC client): same `sid`,
    /// so revoking the session revokes it too, and the same absolute end.
    pub(crate) fn issue_for(
        &self,
        profile: &Profile,
        session: &Session,
        now: u64,
    ) -> Option<Token> {
        let auth_time = unix_now(session.authenticated_at);
        if now >= auth_time.saturating_add(self.absolute) {
            return None;
        }
        self.issue_within(profile, session.id.clone(), auth_time, now)
            .map(|(token, _)| token)
    }

    fn issue_within(
        &self,
        profile: &Profile,
        sid: String,
        auth_time: u64,
        now: u64,
    ) -> Option<(Token, SessionClaims)> {
        let mut claims = SessionClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: profile.id.clone(),
            sid,
            typ: SESSION_TYP.to_owned(),
            iat: now,
            exp: (now + self.idle).min(auth_time.saturating_add(self.absolute)),
            auth_time,
            profile: profile.clone(),
        };
        let token = self.ring.sign(&claims);
        if token.expose().len() <= MAX_ISSUED_LEN {
            return Some((token, claims));
        }
        tracing::warn!(
            "profile too large for a session cookie; dropping custom attributes and groups"
        );
        claims.profile.custom_attributes.clear();
        claims.profile.groups.clear();
        let token = self.ring.sign(&claims);
        (token.expose().len() <= MAX_ISSUED_LEN).then_some((token, claims))
    }

    /// Checks signature, purpose, issuer, audience and every time limit.
    pub(crate) fn verify(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Verified<SessionClaims>, TokenError> {
        let verified = self.ring.verify::<SessionClaims>(token)?;
        let c = &verified.claims;
        if c.typ != SESSION_TYP || c.sid.is_empty() || c.sub != c.profile.id {
            return Err(TokenError::Invalid);
        }
        if c.iat > now + self.leeway || c.auth_time > c.iat {
            return Err(TokenError::NotYetValid);
        }
        let hard_end = c.auth_time.saturating_add(self.absolute);
        if now > c.exp.saturating_add(self.leeway) || now > hard_end.saturating_add(self.leeway) {
            return Err(TokenError::Expired);
        }
        Ok(verified)
    }

    /// The renewed token to send back, if the sliding window or a key rotation calls for one.
    /// Renewal is rare (at most once per half idle window) so most responses set no cookie.
    pub(crate) fn renew(
        &self,
        verified: &Verified<SessionClaims>,
        now: u64,
    ) -> Option<(Token, u64)> {
        let c = &verified.claims;
        let exp = (now + self.idle).min(c.auth_time.saturating_add(self.absolute));
        let window_moved = now.saturating_sub(c.iat) >= self.idle / 2 && exp > c.exp;
        if !window_moved && verified.current_key {
            return None;
        }
        if exp <= now {
            return None;
        }
        let renewed = SessionClaims {
            iat: now,
            exp,
            ..c.clone()
        };
        Some((self.ring.sign(&renewed), exp))
    }

    /// Where the request carries its session: a bearer token wins over the cookie.
    pub(crate) fn presented<'a>(&self, headers: &'a HeaderMap) -> Presented<'a> {
        if let Some(token) = bearer_token(headers) {
            return Presented::Bearer(token);
        }
        let mut found = Presented::None;
        for (name, value) in cookie::request_cookies(headers) {
            if name == self.cookie_name {
                if !matches!(found, Presented::None) {
                    return Presented::Ambiguous;
                }
                found = Presented::Cookie(value);
            }
        }
        found
    }

    /// The `Set-Cookie` for a session token expiring at `exp`.
    pub(crate) fn cookie(&self, token: &Token, exp: u64, now: u64) -> HeaderValue {
        let max_age = Duration::from_secs(exp.saturating_sub(now));
        cookie::set_cookie(&self.cookie_name, token.expose(), max_age, self.secure)
    }

    /// The `Set-Cookie` that ends the browser's session.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        cookie::clear_cookie(&self.cookie_name, self.secure)
    }

    pub(crate) fn metadata(claims: &SessionClaims, source: SessionSource) -> Session {
        Session {
            id: claims.sid.clone(),
            authenticated_at: from_unix(claims.auth_time),
            issued_at: from_unix(claims.iat),
            expires_at: from_unix(claims.exp),
            source,
        }
    }
}

/// The cookie name with the `__Host-` prefix, which pins it to this host, path `/` and HTTPS;
/// plain-HTTP localhost development cannot use the prefix and drops it.
pub(crate) fn cookie_name(config: &SsoConfig, name: &str) -> String {
    if config.dev_cookies {
        name.to_owned()
    } else {
        format!("__Host-{name}")
    }
}

/// The token of an `Authorization: Bearer` header, if there is one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

pub(crate) fn unix_now(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn from_unix(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SsoConfig {
        SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![1u8; 32])
            .previous_session_secret(vec![2u8; 32])
            .build()
            .unwrap()
    }

    fn profile() -> Profile {
        serde_json::from_value(serde_json::json!({
            "id": "prof_1", "email": "alice@example.com", "connection_id": "conn_1",
            "connection_type": "OktaSAML"
        }))
        .unwrap()
    }

    const T0: u64 = 1_800_000_000;

    #[test]
    fn issue_then_verify() {
        let sessions = Sessions::new(&config());
        let (token, claims) = sessions.issue(&profile(), T0).unwrap();
        let verified = sessions.verify(token.expose(), T0 + 60).unwrap();
        assert_eq!(verified.claims.sid, claims.sid);
        assert!(verified.current_key);
        assert!(sessions.renew(&verified, T0 + 60).is_none());
    }

    #[test]
    fn each_sign_in_gets_a_new_sid() {
        let sessions = Sessions::new(&config());
        let (_, a) = sessions.issue(&profile(), T0).unwrap();
        let (_, b) = sessions.issue(&profile(), T0).unwrap();
        assert_ne!(a.sid, b.sid);
    }

    #[test]
    fn time_limits_hold_at_their_edges() {
        let sessions = Sessions::new(&config());
        let (token, _) = sessions.issue(&profile(), T0).unwrap();
        let t = token.expose();
        let idle_end = T0 + 30 * 60 + 30;
        assert!(sessions.verify(t, idle_end).is_ok());
        assert_eq!(
            sessions.verify(t, idle_end + 1).err(),
            Some(TokenError::Expired)
        );
        assert!(sessions.verify(t, T0 - 30).is_ok());
        assert_eq!(
            sessions.verify(t, T0 - 31).err(),
            Some(TokenError::NotYetValid)
        );
    }

    #[test]
    fn sliding_window_renews_but_never_past_the_absolute_lifetime() {
        let sessions = Sessions::new(&config());
        let (token, _) = sessions.issue(&profile(), T0).unwrap();
        let mut token = token;
        let mut now = T0;
        for _ in 0..40 {
            now += 20 * 60;
            match sessions.verify(token.expose(), now) {
                Ok(verified) => {
                    if let Some((renewed, _)) = sessions.renew(&verified, now) {
                        token = renewed;
                    }
                }
                Err(error) => {
                    assert_eq!(error, TokenError::Expired);
                    assert!(now > T0 + 8 * 3600, "ended early at {}", now - T0);
                    return;
                }
            }
        }
        panic!("session outlived its absolute lifetime");
    }

    #[test]
    fn tokens_of_a_retired_key_verify_and_are_renewed_with_the_current_one() {
        let old = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![2u8; 32])
            .build()
            .unwrap();
        let (token, _) = Sessions::new(&old).issue(&profile(), T0).unwrap();
        let sessions = Sessions::new(&config());
        let verified = sessions.verify(token.expose(), T0).unwrap();
        assert!(!verified.current_key);
        let (renewed, _) = sessions.renew(&verified, T0).unwrap();
        assert!(sessions.verify(renewed.expose(), T0).unwrap().current_key);
    }

    #[test]
    fn flow_tokens_never_pass_as_sessions() {
        let config = config();
        let flow_ring = KeyRing::new(
            &config.session_secrets,
            "flow",
            &config.issuer,
            &config.audience,
        );
        let sessions = Sessions::new(&config);
        let (_, claims) = sessions.issue(&profile(), T0).unwrap();
        let forged = flow_ring.sign(&claims);
        assert_eq!(
            sessions.verify(forged.expose(), T0).err(),
            Some(TokenError::UnknownKey)
        );
    }

    #[test]
    fn tokens_for_an_existing_session_keep_its_id_and_absolute_end() {
        let sessions = Sessions::new(&config());
        let (_, claims) = sessions.issue(&profile(), T0).unwrap();
        let session = Sessions::metadata(&claims, SessionSource::Cookie);
        let late = T0 + 8 * 3600 - 60;
        let token = sessions.issue_for(&profile(), &session, late).unwrap();
        let verified = sessions.verify(token.expose(), late).unwrap();
        assert_eq!(verified.claims.sid, claims.sid);
        assert_eq!(verified.claims.exp, T0 + 8 * 3600);
        assert!(
            sessions
                .issue_for(&profile(), &session, T0 + 8 * 3600)
                .is_none()
        );
    }

    #[test]
    fn oversize_profiles_are_trimmed() {
        let sessions = Sessions::new(&config());
        let mut big = profile();
        big.groups = (0..400).map(|i| format!("group-{i}")).collect();
        let (token, claims) = sessions.issue(&big, T0).unwrap();
        assert!(token.expose().len() <= MAX_ISSUED_LEN);
        assert!(claims.profile.groups.is_empty());
    }

    #[test]
    fn bearer_wins_and_duplicate_cookies_are_ambiguous() {
        let sessions = Sessions::new(&config());
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-sso_session=a; __Host-sso_session=b"),
        );
        assert!(matches!(sessions.presented(&headers), Presented::Ambiguous));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tok"),
        );
        assert!(matches!(
            sessions.presented(&headers),
            Presented::Bearer("tok")
        ));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(matches!(sessions.presented(&headers), Presented::Ambiguous));
    }
}
