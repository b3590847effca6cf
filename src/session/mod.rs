//! Sessions: their claims and lifetimes, issuing, verifying and renewing them, and the
//! session cookie.
//!
//! A session is a compact HS256 JWT signed by the session [`KeyRing`]: a sliding idle window
//! (`exp`, renewed at most once per half window) inside an absolute lifetime counted from
//! sign-in (`auth_time`). Besides the profile it holds the claims of the app's authorization
//! hook; a profile too large for the cookie is trimmed by a fixed policy, recorded in the token.

mod reader;

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

pub(crate) use reader::Presented;

use crate::authorization::Claims;
use crate::config::SsoConfig;
use crate::cookie;
use crate::crypto;
use crate::profile::Profile;
use crate::secret::Token;
use crate::time::{from_unix_seconds, unix_seconds};
use crate::token::{KeyRing, TokenError, Verified};

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
    /// The claims the app's [authorization hook](crate::SsoConfigBuilder::authorize) added at
    /// sign-in (empty without one).
    pub claims: Claims,
    /// The profile fields that hold less than WorkOS returned, so that the session fits in a
    /// cookie: `"custom_attributes"`, `"groups"` (dropped by the default policy, or narrowed by
    /// the hook's `keep_*`). Empty when the profile is complete.
    pub trimmed: Vec<String>,
}

impl Session {
    /// Whether any profile field was trimmed (see [`trimmed`](Self::trimmed)).
    pub fn is_trimmed(&self) -> bool {
        !self.trimmed.is_empty()
    }
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
    /// The authorization hook's claims.
    #[serde(default, skip_serializing_if = "Claims::is_empty")]
    pub(crate) ext: Claims,
    /// Profile fields trimmed to fit the cookie.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) trm: Vec<String>,
}

/// What a sign-in adds to a session besides the profile.
#[derive(Clone, Debug, Default)]
pub(crate) struct Granted {
    pub(crate) claims: Claims,
    /// Fields already narrowed before issuing (by the hook's `keep_*`).
    pub(crate) trimmed: Vec<String>,
}

const SESSION_TYP: &str = "session";

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
            leeway: config.clock_leeway.as_secs(),
            cookie_name: cookie::host_name(&config.cookie_name, !config.dev_cookies),
            secure: !config.dev_cookies,
        }
    }

    /// A new session for a fresh sign-in, with a new `sid` (no session fixation). Large optional
    /// profile fields are dropped rather than writing a cookie browsers would refuse.
    pub(crate) fn issue(&self, profile: &Profile, now: u64) -> Option<(Token, SessionClaims)> {
        self.issue_granted(profile, Granted::default(), now)
    }

    /// A new session for a sign-in the app authorized, with what it granted. `None` if it does
    /// not fit in a cookie even trimmed.
    pub(crate) fn issue_granted(
        &self,
        profile: &Profile,
        granted: Granted,
        now: u64,
    ) -> Option<(Token, SessionClaims)> {
        self.issue_within(profile, granted, crypto::random_token(16), now, now)
    }

    /// Another token for a session already signed in (for an API or gRPC client): same `sid`,
    /// so revoking the session revokes it too, and the same absolute end.
    pub(crate) fn issue_for(
        &self,
        profile: &Profile,
        session: &Session,
        now: u64,
    ) -> Option<Token> {
        let auth_time = unix_seconds(session.authenticated_at);
        if now >= auth_time.saturating_add(self.absolute) {
            return None;
        }
        let granted = Granted {
            claims: session.claims.clone(),
            trimmed: session.trimmed.clone(),
        };
        self.issue_within(profile, granted, session.id.clone(), auth_time, now)
            .map(|(token, _)| token)
    }

    fn issue_within(
        &self,
        profile: &Profile,
        granted: Granted,
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
            ext: granted.claims,
            trm: granted.trimmed,
        };
        let token = self.ring.sign(&claims);
        if token.expose().len() <= MAX_ISSUED_LEN {
            return Some((token, claims));
        }
        // The default policy: drop custom attributes, then groups, and say so in the token;
        // the app's claims are its choice and never dropped. Authorization saw everything.
        type DropField = fn(&mut Profile) -> bool;
        let policy: [(&str, DropField); 2] = [
            ("custom_attributes", |p| {
                !std::mem::take(&mut p.custom_attributes).is_empty()
            }),
            ("groups", |p| !std::mem::take(&mut p.groups).is_empty()),
        ];
        for (field, drop) in policy {
            if !drop(&mut claims.profile) {
                continue;
            }
            if !claims.trm.iter().any(|t| t == field) {
                claims.trm.push(field.to_owned());
            }
            let token = self.ring.sign(&claims);
            if token.expose().len() <= MAX_ISSUED_LEN {
                tracing::info!(
                    profile_id = %claims.sub,
                    trimmed = ?claims.trm,
                    "profile too large for a session cookie; trimmed"
                );
                return Some((token, claims));
            }
        }
        None
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
        reader::presented(headers, &self.cookie_name)
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
            authenticated_at: from_unix_seconds(claims.auth_time),
            issued_at: from_unix_seconds(claims.iat),
            expires_at: from_unix_seconds(claims.exp),
            source,
            claims: claims.ext.clone(),
            trimmed: claims.trm.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header;

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
        assert_eq!(claims.trm, ["groups"], "only what was dropped is named");
        let session = Sessions::metadata(&claims, SessionSource::Cookie);
        assert!(session.is_trimmed());
        // The record survives verification and renewal.
        let verified = sessions.verify(token.expose(), T0 + 1000).unwrap();
        assert_eq!(verified.claims.trm, ["groups"]);
        let (renewed, _) = sessions.renew(&verified, T0 + 1000).unwrap();
        assert_eq!(
            sessions
                .verify(renewed.expose(), T0 + 1000)
                .unwrap()
                .claims
                .trm,
            ["groups"]
        );
    }

    #[test]
    fn the_apps_claims_are_kept_and_what_never_fits_is_refused() {
        let sessions = Sessions::new(&config());
        let mut claims = Claims::new();
        claims.insert("tenant", "acme").unwrap();
        let mut big = profile();
        big.custom_attributes
            .insert("blob".into(), serde_json::Value::from("c".repeat(3000)));
        big.groups = vec!["Engineering".into()];
        let granted = Granted {
            claims: claims.clone(),
            trimmed: Vec::new(),
        };
        let (_, issued) = sessions.issue_granted(&big, granted, T0).unwrap();
        assert_eq!(issued.ext, claims);
        assert_eq!(issued.trm, ["custom_attributes"]);
        assert_eq!(
            issued.profile.groups,
            ["Engineering"],
            "groups kept: it fit without"
        );
        let session = Sessions::metadata(&issued, SessionSource::Cookie);
        assert_eq!(
            session.claims.get::<String>("tenant").as_deref(),
            Some("acme")
        );
        // Tokens minted for the session carry its claims and its record.
        let minted = sessions
            .issue_for(&issued.profile, &session, T0 + 5)
            .unwrap();
        let minted = sessions.verify(minted.expose(), T0 + 5).unwrap().claims;
        assert_eq!(
            (minted.ext, minted.trm),
            (claims.clone(), issued.trm.clone())
        );

        let mut huge = profile();
        huge.name = Some("n".repeat(4000));
        assert!(sessions.issue(&huge, T0).is_none());
        let mut too_many_claims = Claims::new();
        too_many_claims.insert("big", "x".repeat(4000)).unwrap();
        let granted = Granted {
            claims: too_many_claims,
            trimmed: Vec::new(),
        };
        assert!(sessions.issue_granted(&profile(), granted, T0).is_none());
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
