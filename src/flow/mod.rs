//! Login flows: `state` and PKCE, the per-flow state cookie, and the WorkOS authorization URL.
//!
//! Each login gets its own short-lived signed cookie, named after a hash of its `state`, so
//! several tabs can log in at once and the callback finds its flow without a server-side store.
//! The cookies a browser holds are capped in number and bytes.

mod authorize;
mod request;
mod return_to;
mod wire;

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use serde::Serialize;

pub(crate) use request::RequestLine;
pub(crate) use return_to::safe_return_to;

use crate::config::{Prompt, SsoConfig};
use crate::cookie;
use crate::crypto;
use crate::response::{self, OwnBody};
use crate::secret::{PkceVerifier, Redacted};
use crate::selector::Selector;
use crate::token::TokenError;

/// What a login asks WorkOS for besides the selector, as the login route parsed it.
#[derive(Default)]
pub(crate) struct LoginParams {
    pub(crate) login_hint: Option<String>,
    pub(crate) domain_hint: Option<String>,
    /// As requested: [`safe_return_to`] replaces what is not a local path.
    pub(crate) return_to: Option<String>,
    /// Another site started this login and nobody confirmed it here: its callback may not
    /// replace a live session of another user.
    pub(crate) cross_site: bool,
    /// Set by the crate's own routes (the step-up guard), never by the query: wins over the
    /// configured prompt.
    pub(crate) prompt: Option<Prompt>,
    /// The layer restarted an IdP-initiated sign-in as this login: where it lands is the
    /// app's `idp_landing` hook's choice.
    pub(crate) idp_initiated: bool,
    /// The request that started the login, for the app's per-login hook
    /// (`authorization_params_with`); `None` when the layer starts one by itself.
    pub(crate) request: Option<RequestLine>,
}

/// The claims of a flow cookie, written and read by [`wire`] (format 2, not a JWT). Read as
/// owned strings; sealed borrowing them (`FlowClaims<&str>`), since a login would otherwise
/// copy each one only to write it. `Serialize` is for the fuzzers' view of a flow.
#[derive(Clone, Serialize)]
pub(crate) struct FlowClaims<S = String> {
    /// The `state` sent to WorkOS.
    #[serde(rename = "st")]
    state: S,
    #[serde(rename = "pv")]
    pkce_verifier: S,
    /// Where to go after sign-in (already made safe).
    #[serde(rename = "rt")]
    return_to: S,
    /// The selector the login asked WorkOS for, as its query parameter.
    #[serde(rename = "sel")]
    selector: Option<(S, S)>,
    #[serde(rename = "xs")]
    cross_site: bool,
    #[serde(rename = "idp")]
    idp_initiated: bool,
    /// The `nonce` sent to WorkOS, if the login sent one: the authorization hook sees it.
    #[serde(rename = "nc")]
    nonce: Option<S>,
    iat: u64,
    exp: u64,
}

/// Prints no email: the login hint is someone's address.
impl fmt::Debug for LoginParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginParams")
            .field(
                "login_hint",
                &self.login_hint.as_ref().map(|_| "<redacted>"),
            )
            .field("domain_hint", &self.domain_hint)
            .field("return_to", &self.return_to)
            .field("cross_site", &self.cross_site)
            .field("prompt", &self.prompt)
            .field("idp_initiated", &self.idp_initiated)
            .field("request", &self.request)
            .finish()
    }
}

/// Prints no state, PKCE verifier or nonce: each is a secret of the login until it ends.
impl<S: fmt::Debug> fmt::Debug for FlowClaims<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowClaims")
            .field("state", &Redacted)
            .field("pkce_verifier", &Redacted)
            .field("return_to", &self.return_to)
            .field("selector", &self.selector)
            .field("cross_site", &self.cross_site)
            .field("idp_initiated", &self.idp_initiated)
            .field("nonce", &self.nonce.as_ref().map(|_| Redacted))
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .finish()
    }
}

impl FlowClaims {
    /// The PKCE verifier the code exchange must present.
    pub(crate) fn verifier(&self) -> PkceVerifier {
        PkceVerifier::new(self.pkce_verifier.clone())
    }

    /// The local path the browser goes to after sign-in.
    pub(crate) fn return_to(&self) -> &str {
        &self.return_to
    }

    /// The flow's name in the store, for its one-time use: a hash of its `state` (the state
    /// itself never leaves the browser and WorkOS).
    pub(crate) fn store_id(&self) -> String {
        crypto::sha256_b64(self.state.as_bytes())
    }

    /// The last moment the flow is valid: its lifetime's end.
    pub(crate) fn expires_at(&self) -> u64 {
        self.exp
    }

    /// Whether another site started the login, unconfirmed.
    pub(crate) fn cross_site(&self) -> bool {
        self.cross_site
    }

    /// Whether the login restarts an IdP-initiated sign-in.
    pub(crate) fn idp_initiated(&self) -> bool {
        self.idp_initiated
    }

    /// The `nonce` this login sent WorkOS, if it sent one.
    pub(crate) fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The selector the login started with.
    pub(crate) fn selector(&self) -> Option<Selector> {
        let (name, value) = self.selector.as_ref()?;
        Selector::from_param(name, value)?.ok()
    }
}

/// What the callback found for its `state`.
pub(crate) enum FlowLookup {
    /// No flow cookie for this state: forged, from another browser, already used, or gone.
    Missing,
    /// The flow's cookie exists but has expired.
    Expired { cookie: String },
    /// The cookie exists but does not verify (tampered, other key, wrong state).
    Invalid { cookie: String },
    /// A live flow this browser started.
    Found {
        claims: Box<FlowClaims>,
        cookie: String,
    },
}

/// The most bytes (`name=value`) all flow cookies of a browser may take together. With the
/// session cookie (at most ~3.8 KB) the crate's cookies stay under the 8 KiB that common servers
/// and proxies accept for one header line, however many logins a browser starts.
const MAX_FLOW_BYTES: usize = 4096;

/// Starts login flows and finds them again at the callback.
pub(crate) struct Flows {
    keys: wire::FlowKeys,
    lifetime: Duration,
    max: usize,
    prefix: String,
    /// The search for `prefix` in a `Cookie` header, built once.
    prefix_finder: memchr::memmem::Finder<'static>,
    secure: bool,
    /// What every authorization URL starts with (`authorize::fixed_part`).
    authorize_fixed: String,
}

impl Flows {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        let prefix = cookie::host_name(
            &format!("{}_flow_", config.cookie_name),
            !config.dev_cookies,
        );
        Self {
            keys: wire::FlowKeys::new(&config.session_secrets, &config.issuer, &config.audience),
            lifetime: config.login_timeout,
            max: config.max_concurrent_logins,
            prefix_finder: memchr::memmem::Finder::new(&prefix).into_owned(),
            prefix,
            secure: !config.dev_cookies,
            authorize_fixed: authorize::fixed_part(config),
        }
    }

    /// The cookie of the flow with this `state`: a short hash, so the state itself never
    /// appears in a cookie name.
    fn cookie_for(&self, state: &str) -> String {
        // 12 bytes of the hash are its first 16 base64url characters.
        let mut name = String::with_capacity(self.prefix.len() + 16);
        name.push_str(&self.prefix);
        crypto::push_base64url(&mut name, &crypto::sha256(state.as_bytes()).as_ref()[..12]);
        name
    }

    /// Answers `GET /auth/login`: a redirect to WorkOS with a new flow cookie.
    pub(crate) fn start(
        &self,
        config: &SsoConfig,
        login: &LoginParams,
        selector: &Selector,
        headers: &HeaderMap,
        now: u64,
    ) -> Response<OwnBody> {
        crate::telemetry::login_started();
        // One draw for the state, the PKCE verifier and the nonce, 32 bytes each; wiped after.
        let drawn = zeroize::Zeroizing::new(crypto::random_bytes::<96>());
        let state = crypto::Base64Url32::of(drawn[..32].try_into().expect("32 bytes"));
        let state = state.as_str();
        let verifier = PkceVerifier::new(crypto::base64url(&drawn[32..64]));
        let (param, value) = selector.param();
        let return_to = safe_return_to(config, login.return_to.as_deref());
        let request = || request::parts(config, login.request.as_ref(), headers);
        let params = match config.login_params.of_login(request, selector) {
            Ok(params) => params,
            Err(error) => {
                tracing::warn!(%error, "login refused: the app's authorization parameters");
                let mut refused = response::page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Cannot start sign-in",
                    "Sign-in is not set up correctly here. Try again later.",
                    None,
                );
                response::no_store(&mut refused);
                return refused;
            }
        };
        // Kept in the flow, so the callback can hand the authorization hook what WorkOS got.
        let nonce = params.nonce.then(|| crypto::base64url(&drawn[64..]));
        let claims = FlowClaims::<&str> {
            state,
            pkce_verifier: verifier.expose(),
            return_to: &return_to,
            selector: Some((param, value)),
            cross_site: login.cross_site,
            idp_initiated: login.idp_initiated,
            nonce: nonce.as_deref(),
            iat: now,
            exp: now + self.lifetime.as_secs(),
        };
        let token = self.keys.seal(&claims);

        let challenge = crypto::sha256(verifier.expose().as_bytes());
        let challenge = crypto::Base64Url32::of(challenge.as_ref().try_into().expect("32 bytes"));
        let location = authorize::url(
            &self.authorize_fixed,
            login,
            &params,
            selector,
            authorize::Flow {
                state,
                code_challenge: challenge.as_str(),
                nonce: nonce.as_deref(),
            },
        );

        let mut response = response::redirect_to(StatusCode::FOUND, location);
        let name = self.cookie_for(state);
        let cookies = response.headers_mut();
        for stale in self.overflow(headers, now, name.len() + 1 + token.expose().len()) {
            cookies.append(header::SET_COOKIE, cookie::clear_cookie(stale, self.secure));
        }
        cookies.append(
            header::SET_COOKIE,
            cookie::set_cookie(&name, token.expose(), self.lifetime, self.secure),
        );
        response::no_store(&mut response);
        response
    }

    /// Flow cookies to delete so that, with the new one (`new_len` bytes as `name=value`), at
    /// most `max` remain and together they take at most [`MAX_FLOW_BYTES`]: the invalid and
    /// expired go first, then the oldest. Bounded: at most a few dozen are ever verified.
    fn overflow<'a>(&self, headers: &'a HeaderMap, now: u64, new_len: usize) -> Vec<&'a str> {
        // Most logins come from a browser with no flow under way: one search, no parsing.
        let any_flow = headers
            .get_all(header::COOKIE)
            .iter()
            .any(|line| self.prefix_finder.find(line.as_bytes()).is_some());
        if !any_flow {
            return Vec::new();
        }
        let mut flows: Vec<(&str, u64, usize)> = cookie::request_cookies(headers)
            .filter(|(name, _)| name.starts_with(&self.prefix))
            .enumerate()
            .map(|(i, (name, value))| {
                let iat = (i < 4 * self.max)
                    .then(|| self.verify(value, now).ok())
                    .flatten()
                    .map_or(0, |claims| claims.iat);
                (name, iat, name.len() + 1 + value.len())
            })
            .collect();
        flows.sort_by_key(|(_, iat, _)| std::cmp::Reverse(*iat));
        // Keep the newest while both caps allow; once one does not fit, it and all older go.
        let mut bytes = new_len;
        let keep = flows
            .iter()
            .take(self.max - 1)
            .take_while(|(_, _, len)| {
                bytes += len;
                bytes <= MAX_FLOW_BYTES
            })
            .count();
        flows
            .split_off(keep)
            .into_iter()
            .map(|(name, _, _)| name)
            .collect()
    }

    fn verify(&self, token: &str, now: u64) -> Result<FlowClaims, TokenError> {
        let claims = self.keys.open(token)?;
        if now > claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Finds and checks the flow that `state` belongs to, comparing the state in constant time.
    pub(crate) fn find(&self, headers: &HeaderMap, state: &str, now: u64) -> FlowLookup {
        let name = self.cookie_for(state);
        let mut values = cookie::request_cookies(headers).filter(|(n, _)| *n == name);
        let (Some((_, value)), None) = (values.next(), values.next()) else {
            return FlowLookup::Missing;
        };
        match self.verify(value, now) {
            Ok(claims) if crypto::constant_time_eq(claims.state.as_bytes(), state.as_bytes()) => {
                FlowLookup::Found {
                    claims: Box::new(claims),
                    cookie: name,
                }
            }
            Err(TokenError::Expired) => FlowLookup::Expired { cookie: name },
            _ => FlowLookup::Invalid { cookie: name },
        }
    }

    pub(crate) fn clear(&self, cookie: &str) -> HeaderValue {
        cookie::clear_cookie(cookie, self.secure)
    }
}

#[cfg(test)]
mod tests;
