//! Login flows: `state` and PKCE, the per-flow state cookie, and the WorkOS authorization URL.
//!
//! Each login gets its own short-lived signed cookie, named after a hash of its `state`, so
//! several tabs can log in at once and the callback finds its flow without a server-side store.
//! The cookies a browser holds are capped in number and bytes.

mod authorize;
mod request;
mod return_to;

use std::time::Duration;

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use serde::{Deserialize, Serialize};

pub(crate) use request::RequestLine;
pub(crate) use return_to::safe_return_to;

use crate::config::{Prompt, SsoConfig};
use crate::cookie;
use crate::crypto;
use crate::response::{self, OwnBody};
use crate::secret::PkceVerifier;
use crate::selector::Selector;
use crate::token::{Addressed, KeyRing, TokenError};

/// What a login asks WorkOS for besides the selector, as the login route parsed it.
#[derive(Debug, Default)]
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

/// The claims of a flow cookie's token. The wire names are short: the cookie travels on every
/// request until the callback deletes it. Verified as owned strings; signed borrowing them
/// (`FlowClaims<&str>`), since a login would otherwise copy each one only to serialise it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FlowClaims<S = String> {
    iss: S,
    aud: S,
    typ: S,
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
    #[serde(rename = "xs", default)]
    cross_site: bool,
    #[serde(rename = "idp", default, skip_serializing_if = "std::ops::Not::not")]
    idp_initiated: bool,
    /// The `nonce` sent to WorkOS, if the login sent one: the authorization hook sees it.
    #[serde(rename = "nc", default, skip_serializing_if = "Option::is_none")]
    nonce: Option<S>,
    iat: u64,
    exp: u64,
}

const FLOW_TYP: &str = "flow";

impl Addressed for FlowClaims {
    fn issuer(&self) -> &str {
        &self.iss
    }
    fn audience(&self) -> &str {
        &self.aud
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
    ring: KeyRing,
    issuer: String,
    audience: String,
    lifetime: Duration,
    max: usize,
    prefix: String,
    secure: bool,
    /// What every authorization URL starts with (`authorize::fixed_part`).
    authorize_fixed: String,
}

impl Flows {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        Self {
            ring: KeyRing::new(
                &config.session_secrets,
                FLOW_TYP,
                &config.issuer,
                &config.audience,
            ),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            lifetime: config.login_timeout,
            max: config.max_concurrent_logins,
            prefix: cookie::host_name(
                &format!("{}_flow_", config.cookie_name),
                !config.dev_cookies,
            ),
            secure: !config.dev_cookies,
            authorize_fixed: authorize::fixed_part(config),
        }
    }

    /// The cookie of the flow with this `state`: a short hash, so the state itself never
    /// appears in a cookie name.
    fn cookie_for(&self, state: &str) -> String {
        format!(
            "{}{}",
            self.prefix,
            &crypto::sha256_b64(state.as_bytes())[..16]
        )
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
        let state = crypto::random_token(32);
        let verifier = PkceVerifier::new(crypto::random_token(32));
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
        let nonce = params.nonce.then(|| crypto::random_token(32));
        let claims = FlowClaims::<&str> {
            iss: &self.issuer,
            aud: &self.audience,
            typ: FLOW_TYP,
            state: &state,
            pkce_verifier: verifier.expose(),
            return_to: &return_to,
            selector: Some((param, value)),
            cross_site: login.cross_site,
            idp_initiated: login.idp_initiated,
            nonce: nonce.as_deref(),
            iat: now,
            exp: now + self.lifetime.as_secs(),
        };
        let token = self.ring.sign(&claims);

        let challenge = crypto::sha256_b64(verifier.expose().as_bytes());
        let location = authorize::url(
            &self.authorize_fixed,
            login,
            &params,
            selector,
            authorize::Flow {
                state: &state,
                code_challenge: &challenge,
                nonce: nonce.as_deref(),
            },
        );

        let mut response = response::redirect(StatusCode::FOUND, &location);
        let name = self.cookie_for(&state);
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
        let claims = self.ring.verify::<FlowClaims>(token)?.claims;
        if claims.typ != FLOW_TYP {
            return Err(TokenError::Invalid);
        }
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
mod tests {
    use super::*;
    use crate::flow::return_to::MAX_RETURN_TO;

    fn config() -> SsoConfig {
        SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .api_base_url("https://api.workos.test")
            .session_secret(vec![3u8; 32])
            .provider_scopes(["openid", "email"])
            .build()
            .unwrap()
    }

    #[test]
    fn authorization_url_carries_every_parameter() {
        let config = config();
        let flows = Flows::new(&config);
        let login = LoginParams {
            login_hint: Some("a@b.test".into()),
            domain_hint: Some("b.test".into()),
            return_to: Some("/x".into()),
            cross_site: false,
            prompt: None,
            idp_initiated: false,
            request: None,
        };
        let response = flows.start(
            &config,
            &login,
            &Selector::organization("org_1").unwrap(),
            &HeaderMap::new(),
            1000,
        );
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        let (base, query) = location.split_once('?').unwrap();
        assert_eq!(base, "https://api.workos.test/sso/authorize");
        assert!(
            query.starts_with("client_id="),
            "no empty first pair: {query}"
        );
        let params: std::collections::HashMap<_, _> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(params["client_id"], "client_1");
        assert_eq!(params["redirect_uri"], "https://app.test/auth/callback");
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["organization"], "org_1");
        assert_eq!(params["login_hint"], "a@b.test");
        assert_eq!(params["domain_hint"], "b.test");
        assert_eq!(params["provider_scopes"], "openid,email");
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["state"].len(), 43);

        let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        let (name_value, _) = set_cookie.split_once(';').unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(name_value).unwrap());
        let FlowLookup::Found { claims, .. } = flows.find(&headers, &params["state"], 1001) else {
            panic!("flow not found");
        };
        assert_eq!(claims.return_to, "/x");
        assert_eq!(
            crypto::sha256_b64(claims.pkce_verifier.as_bytes()),
            params["code_challenge"]
        );
        assert!(matches!(
            flows.find(&headers, "another-state", 1001),
            FlowLookup::Missing
        ));
        assert!(matches!(
            flows.find(&headers, &params["state"], 1000 + 601),
            FlowLookup::Expired { .. }
        ));
    }

    #[test]
    fn the_nonce_sent_is_the_one_the_flow_keeps_and_is_fresh_per_login() {
        let config = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![3u8; 32])
            .authorization_params(crate::config::AuthorizationParams::new().nonce())
            .build()
            .unwrap();
        let flows = Flows::new(&config);
        let selector = Selector::organization("org_1").unwrap();
        let mut nonces = Vec::new();
        for now in [1000, 1001] {
            let response = flows.start(
                &config,
                &LoginParams::default(),
                &selector,
                &HeaderMap::new(),
                now,
            );
            let location = response.headers()[header::LOCATION].to_str().unwrap();
            let params: std::collections::HashMap<_, _> =
                form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
                    .into_owned()
                    .collect();
            let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
            let mut headers = HeaderMap::new();
            let pair = set_cookie.split(';').next().unwrap();
            headers.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
            let FlowLookup::Found { claims, .. } = flows.find(&headers, &params["state"], now)
            else {
                panic!("flow not found");
            };
            assert_eq!(params["nonce"].len(), 43);
            assert_eq!(claims.nonce(), Some(params["nonce"].as_str()));
            nonces.push(params["nonce"].clone());
        }
        assert_ne!(nonces[0], nonces[1], "a fresh nonce per login");

        // Without `nonce()` none is sent or kept.
        let plain = self::config();
        let flows = Flows::new(&plain);
        let response = flows.start(
            &plain,
            &LoginParams::default(),
            &selector,
            &HeaderMap::new(),
            1000,
        );
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(!location.contains("nonce="), "{location}");
    }

    #[test]
    fn the_state_is_compared_in_constant_time() {
        let config = config();
        let flows = Flows::new(&config);
        let response = flows.start(
            &config,
            &LoginParams::default(),
            &Selector::organization("org_1").unwrap(),
            &HeaderMap::new(),
            1000,
        );
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        let state = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        let value = set_cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1;
        // A near miss (last character changed) whose cookie name was made to match, so the
        // lookup reaches the comparison of the signed state with the query's.
        let mut near = state.clone().into_bytes();
        *near.last_mut().unwrap() ^= 1;
        let near = String::from_utf8(near).unwrap();
        for (asked, found) in [(&near, false), (&state, true)] {
            let mut headers = HeaderMap::new();
            let cookie = format!("{}={value}", flows.cookie_for(asked));
            headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
            crypto::COMPARED.with(|c| c.borrow_mut().clear());
            let lookup = flows.find(&headers, asked, 1001);
            assert_eq!(matches!(lookup, FlowLookup::Found { .. }), found);
            assert!(found || matches!(lookup, FlowLookup::Invalid { .. }));
            let compared = crypto::COMPARED.with(|c| c.borrow().clone());
            assert!(
                compared.contains(&(state.clone().into_bytes(), asked.clone().into_bytes())),
                "the state comparison did not go through constant_time_eq"
            );
        }
    }

    /// Starts a login in a browser whose cookies are `jar` (`name=value` pairs) and applies the
    /// response's `Set-Cookie` lines to it, as a browser would.
    fn start_in_jar(
        flows: &Flows,
        config: &SsoConfig,
        jar: &mut Vec<String>,
        return_to: &str,
        now: u64,
    ) {
        let mut headers = HeaderMap::new();
        if !jar.is_empty() {
            headers.insert(
                header::COOKIE,
                HeaderValue::from_str(&jar.join("; ")).unwrap(),
            );
        }
        let login = LoginParams {
            return_to: Some(return_to.to_owned()),
            ..LoginParams::default()
        };
        let selector = Selector::provider("GoogleOAuth").unwrap();
        let response = flows.start(config, &login, &selector, &headers, now);
        for line in response.headers().get_all(header::SET_COOKIE) {
            let (pair, _) = line.to_str().unwrap().split_once(';').unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            jar.retain(|c| !c.starts_with(&format!("{name}=")));
            if !value.is_empty() {
                jar.push(pair.to_owned());
            }
        }
    }

    #[test]
    fn flow_cookies_are_capped() {
        let config = config();
        let flows = Flows::new(&config);
        let mut jar = Vec::new();
        for i in 0..10 {
            start_in_jar(&flows, &config, &mut jar, "/", 1000 + i);
            assert!(
                jar.len() <= config.max_concurrent_logins,
                "{} flow cookies",
                jar.len()
            );
        }
        assert_eq!(jar.len(), config.max_concurrent_logins);
    }

    #[test]
    fn flow_cookies_stay_within_a_byte_budget() {
        let config = config();
        let flows = Flows::new(&config);
        let long = format!("/{}", "r".repeat(MAX_RETURN_TO - 1));
        let mut jar = Vec::new();
        for i in 0..10 {
            let return_to = if i % 3 == 0 { long.as_str() } else { "/" };
            start_in_jar(&flows, &config, &mut jar, return_to, 1000 + i);
            let bytes: usize = jar.iter().map(String::len).sum();
            assert!(bytes <= MAX_FLOW_BYTES, "{bytes} bytes of flow cookies");
            assert!(!jar.is_empty() && jar.len() <= config.max_concurrent_logins);
        }
    }
}
