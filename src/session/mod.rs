//! Sessions: their claims and lifetimes, issuing, verifying and renewing them, and the
//! session cookie.
//!
//! A session is a compact HS256 JWT signed by the session [`KeyRing`]: a sliding idle window
//! (`exp`, renewed at most once per half window) inside an absolute lifetime counted from
//! sign-in (`auth_time`). Besides the profile it holds the claims of the app's authorization
//! hook; a profile too large for the cookie is trimmed by a fixed policy, recorded in the token.
//!
//! Its `typ` claim says what it is for: `session` for the browser's cookie (which may also be
//! sent as a bearer token), `bearer` for a token minted for an API, CLI or gRPC client, which is
//! accepted only as `Authorization: Bearer` and never renewed.

mod cache;
mod reader;
mod wire;

use std::time::Duration;

use http::{HeaderMap, HeaderValue};

pub use crate::session_info::{Session, SessionSource};
pub(crate) use cache::CachedSession;
pub(crate) use reader::Presented;

use crate::authorization::Claims;
use crate::config::SsoConfig;
use crate::cookie::{self, Unchecked};
use crate::crypto;
use crate::profile::Profile;
use crate::secret::Token;
use crate::shared_str::SharedStr;
use crate::time::{from_unix_seconds, unix_seconds};
use crate::token::{Addressed, KeyRing, TokenError, Verified};

/// The longest session token the crate writes, so the whole `Set-Cookie` stays under 4 KB.
pub(crate) const MAX_ISSUED_LEN: usize = 3800;

/// The claims of a session token, written and read as `wire.rs` says.
#[derive(Clone, Debug)]
pub(crate) struct SessionClaims {
    pub(crate) iss: SharedStr,
    pub(crate) aud: SharedStr,
    pub(crate) sid: SharedStr,
    /// [`SESSION_TYP`] or [`BEARER_TYP`]; any other purpose reads as `""`.
    pub(crate) typ: &'static str,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) auth_time: u64,
    pub(crate) profile: Profile,
    /// The authorization hook's claims.
    pub(crate) ext: Claims,
    /// Profile fields trimmed to fit the cookie.
    pub(crate) trm: Vec<String>,
}

impl Addressed for SessionClaims {
    fn issuer(&self) -> &str {
        &self.iss
    }
    fn audience(&self) -> &str {
        &self.aud
    }
    fn from_payload(json: &str) -> Option<Self> {
        SessionClaims::from_payload(json)
    }
}

/// What a sign-in adds to a session besides the profile.
#[derive(Clone, Debug, Default)]
pub(crate) struct Granted {
    pub(crate) claims: Claims,
    /// Fields already narrowed before issuing (by the hook's `keep_*`).
    pub(crate) trimmed: Vec<String>,
}

/// A minted bearer token presented as the session cookie is refused.
fn check_source(claims: &SessionClaims, source: SessionSource) -> Result<(), TokenError> {
    if source == SessionSource::Cookie && claims.typ != SESSION_TYP {
        return Err(TokenError::Invalid);
    }
    Ok(())
}

/// The browser's session: the cookie, renewed as the sliding window moves.
pub(crate) const SESSION_TYP: &str = "session";
/// A token minted for an API, CLI or gRPC client: only ever a bearer token, never renewed.
pub(crate) const BEARER_TYP: &str = "bearer";

/// Issues, verifies and renews sessions under one configuration.
pub(crate) struct Sessions {
    ring: KeyRing,
    issuer: SharedStr,
    audience: SharedStr,
    idle: u64,
    absolute: u64,
    leeway: u64,
    /// The session cookie: its name, and the search for it in a request.
    cookie: cookie::CookieFinder,
    secure: bool,
    /// Tokens this ring verified, so a request that presents one again skips the HMAC.
    cache: cache::VerifiedCache,
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
            issuer: SharedStr::from(&config.issuer),
            audience: SharedStr::from(&config.audience),
            idle: config.idle_timeout.as_secs(),
            absolute: config.absolute_lifetime.as_secs(),
            leeway: config.clock_leeway.as_secs(),
            cookie: cookie::CookieFinder::new(&cookie::host_name(
                &config.cookie_name,
                !config.dev_cookies,
            )),
            secure: !config.dev_cookies,
            cache: cache::VerifiedCache::new(config.session_cache_capacity),
        }
    }

    /// A new session with nothing granted beyond the profile (unit tests, the fuzz bridge).
    #[cfg(any(test, fuzzing))]
    pub(crate) fn issue(&self, profile: &Profile, now: u64) -> Option<(Token, SessionClaims)> {
        self.issue_granted(profile, Granted::default(), now)
    }

    /// A new session for a sign-in the app authorized, with what it granted and a new `sid` (no
    /// session fixation). Large optional profile fields are trimmed rather than writing a cookie
    /// browsers would refuse; `None` if it does not fit even trimmed.
    pub(crate) fn issue_granted(
        &self,
        profile: &Profile,
        granted: Granted,
        now: u64,
    ) -> Option<(Token, SessionClaims)> {
        self.issue_within(
            profile,
            SESSION_TYP,
            granted,
            crypto::random_token(16),
            now,
            now,
        )
    }

    /// A bearer token for a new session of `profile` (a service account, say), with a new `sid`.
    pub(crate) fn issue_bearer(&self, profile: &Profile, now: u64) -> Option<Token> {
        self.issue_within(
            profile,
            BEARER_TYP,
            Granted::default(),
            crypto::random_token(16),
            now,
            now,
        )
        .map(|(token, _)| token)
    }

    /// A bearer token for a session already signed in (for an API or gRPC client): same `sid`,
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
        self.issue_within(
            profile,
            BEARER_TYP,
            granted,
            session.id.clone(),
            auth_time,
            now,
        )
        .map(|(token, _)| token)
    }

    fn issue_within(
        &self,
        profile: &Profile,
        typ: &'static str,
        granted: Granted,
        sid: String,
        auth_time: u64,
        now: u64,
    ) -> Option<(Token, SessionClaims)> {
        let mut claims = SessionClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sid: sid.into(),
            typ,
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
                    profile_id = %claims.profile.id,
                    trimmed = ?claims.trm,
                    "profile too large for a session cookie; trimmed"
                );
                return Some((token, claims));
            }
        }
        None
    }

    /// Checks signature, purpose, issuer, audience and every time limit. Browser sessions and
    /// minted bearer tokens both pass; [`verify_as`](Self::verify_as) also checks where it came.
    pub(crate) fn verify(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Verified<SessionClaims>, TokenError> {
        let verified = self.ring.verify::<SessionClaims>(token)?;
        self.check(&verified.claims, now)?;
        Ok(verified)
    }

    /// [`verify`](Self::verify), for a token presented as `source`: a minted bearer token sent
    /// as the session cookie is refused, as if there were no session.
    pub(crate) fn verify_as(
        &self,
        token: &str,
        source: SessionSource,
        now: u64,
    ) -> Result<Verified<SessionClaims>, TokenError> {
        let verified = self.verify(token, now)?;
        check_source(&verified.claims, source)?;
        Ok(verified)
    }

    /// [`verify_as`](Self::verify_as) through the cache of verified tokens: a token verified
    /// before skips the signature and the parse, never the checks of purpose and time. A token
    /// found in the cache is text (it equals one); any other is checked as UTF-8 first, and
    /// one that is not is no token at all (`Ok(None)`), as a cookie that is not UTF-8 is none.
    /// The answer is what `then` takes from the verified session.
    pub(crate) fn authenticate<R>(
        &self,
        token: Unchecked<'_>,
        source: SessionSource,
        now: u64,
        then: impl FnOnce(&CachedSession) -> R,
    ) -> Result<Option<R>, TokenError> {
        // A token seen before is checked, and handed to `then`, under the cache's read lock.
        let seen = self.cache.with(token.bytes(), |cached| match cached {
            Some(cached) => Ok(self
                .check(&cached.claims, now)
                .and_then(|()| check_source(&cached.claims, source))
                .map(|()| then(cached))),
            None => Err(then),
        });
        let then = match seen {
            Ok(checked) => return checked.map(Some),
            Err(then) => then,
        };
        let Some(token) = token.text() else {
            return Ok(None);
        };
        let verified = self.verify(token, now)?;
        let ends = self.ends(&verified.claims);
        let cached = self
            .cache
            .insert(token, verified.claims, verified.current_key, ends, now);
        check_source(&cached.claims, source)?;
        Ok(Some(then(&cached)))
    }

    /// The checks of verified claims that depend on the time or the purpose, not the signature.
    fn check(&self, c: &SessionClaims, now: u64) -> Result<(), TokenError> {
        let purpose = c.typ == SESSION_TYP || c.typ == BEARER_TYP;
        // The token carries the profile's id once, as `sub` (`wire.rs`).
        if !purpose || c.sid.is_empty() || c.profile.id.is_empty() {
            return Err(TokenError::Invalid);
        }
        if c.iat > now + self.leeway || c.auth_time > c.iat {
            return Err(TokenError::NotYetValid);
        }
        if now > self.ends(c) {
            return Err(TokenError::Expired);
        }
        Ok(())
    }

    /// The last second `c`'s times pass: its idle or its absolute end, whichever comes first,
    /// with the leeway.
    fn ends(&self, c: &SessionClaims) -> u64 {
        let hard_end = c.auth_time.saturating_add(self.absolute);
        c.exp.min(hard_end).saturating_add(self.leeway)
    }

    /// The renewed token to send back, if the sliding window or a key rotation calls for one.
    /// Renewal is rare (at most once per half idle window) so most responses set no cookie.
    /// Minted bearer tokens are never renewed.
    pub(crate) fn renew(
        &self,
        c: &SessionClaims,
        current_key: bool,
        now: u64,
    ) -> Option<(Token, u64)> {
        if c.typ != SESSION_TYP {
            return None;
        }
        let exp = (now + self.idle).min(c.auth_time.saturating_add(self.absolute));
        let window_moved = now.saturating_sub(c.iat) >= self.idle / 2 && exp > c.exp;
        if !window_moved && current_key {
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
        reader::presented(headers, &self.cookie)
    }

    /// [`presented`](Self::presented), the cookie's value not yet checked as UTF-8
    /// ([`authenticate`](Self::authenticate) checks it when the cache does not know it).
    pub(crate) fn presented_unchecked<'a>(
        &self,
        headers: &'a HeaderMap,
    ) -> Presented<'a, Unchecked<'a>> {
        reader::presented_unchecked(headers, &self.cookie)
    }

    /// The `Set-Cookie` for a session token expiring at `exp`.
    pub(crate) fn cookie(&self, token: &Token, exp: u64, now: u64) -> HeaderValue {
        let max_age = Duration::from_secs(exp.saturating_sub(now));
        cookie::set_cookie(self.cookie.name(), token.expose(), max_age, self.secure)
    }

    /// The `Set-Cookie` that ends the browser's session.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        cookie::clear_cookie(self.cookie.name(), self.secure)
    }
}

/// The session metadata of verified `claims`, presented from `source`.
fn metadata(claims: &SessionClaims, source: SessionSource) -> Session {
    Session {
        id: claims.sid.to_string(),
        authenticated_at: from_unix_seconds(claims.auth_time),
        issued_at: from_unix_seconds(claims.iat),
        expires_at: from_unix_seconds(claims.exp),
        source,
        claims: claims.ext.clone(),
        trimmed: claims.trm.clone(),
    }
}

#[cfg(test)]
mod tests;
