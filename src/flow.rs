//! The start of a login: the connection selector, a safe `return_to`, `state` and PKCE, the
//! per-flow state cookie, and the WorkOS authorization URL.
//!
//! Each login gets its own short-lived signed cookie, named after a hash of its `state`, so
//! several tabs can log in at once and the callback finds its flow without a server-side store.

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use crate::config::SsoConfig;
use crate::cookie;
use crate::crypto;
use crate::response::{self, OwnBody};
use crate::secret::PkceVerifier;
use crate::session::{self, KeyRing, TokenError};

/// Which identity provider WorkOS should send the user to: exactly one per login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// A WorkOS organization (`org_...`); WorkOS picks its connection.
    Organization(String),
    /// A WorkOS connection (`conn_...`).
    Connection(String),
    /// An OAuth provider such as `GoogleOAuth` or `MicrosoftOAuth`.
    Provider(String),
}

/// A selector value that is not a well-formed WorkOS id or provider name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSelector(&'static str);

impl fmt::Display for InvalidSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InvalidSelector {}

impl Selector {
    /// An organization selector; the id must look like `org_...`.
    pub fn organization(id: impl Into<String>) -> Result<Self, InvalidSelector> {
        let id = id.into();
        prefixed_id(&id, "org_")
            .then_some(Selector::Organization(id))
            .ok_or(InvalidSelector("an organization id looks like org_01H..."))
    }

    /// A connection selector; the id must look like `conn_...`.
    pub fn connection(id: impl Into<String>) -> Result<Self, InvalidSelector> {
        let id = id.into();
        prefixed_id(&id, "conn_")
            .then_some(Selector::Connection(id))
            .ok_or(InvalidSelector("a connection id looks like conn_01H..."))
    }

    /// An OAuth provider selector, e.g. `GoogleOAuth`.
    pub fn provider(name: impl Into<String>) -> Result<Self, InvalidSelector> {
        let name = name.into();
        let valid = (1..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.bytes().all(|b| b.is_ascii_alphanumeric());
        valid
            .then_some(Selector::Provider(name))
            .ok_or(InvalidSelector("a provider is a name such as GoogleOAuth"))
    }

    /// The query parameter WorkOS expects for it.
    pub(crate) fn param(&self) -> (&'static str, &str) {
        match self {
            Selector::Organization(id) => ("organization", id),
            Selector::Connection(id) => ("connection", id),
            Selector::Provider(name) => ("provider", name),
        }
    }

    fn from_param(name: &str, value: &str) -> Option<Result<Self, InvalidSelector>> {
        match name {
            "organization" => Some(Selector::organization(value)),
            "connection" => Some(Selector::connection(value)),
            "provider" => Some(Selector::provider(value)),
            _ => None,
        }
    }
}

fn prefixed_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// What `GET /auth/login` was asked for.
#[derive(Debug, Default)]
pub(crate) struct LoginRequest {
    pub(crate) selector: Option<Selector>,
    pub(crate) login_hint: Option<String>,
    pub(crate) domain_hint: Option<String>,
    pub(crate) return_to: Option<String>,
}

/// Queries longer than this are refused before parsing.
pub(crate) const MAX_QUERY_LEN: usize = 8 * 1024;

impl LoginRequest {
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, &'static str> {
        let query = query.unwrap_or("");
        if query.len() > MAX_QUERY_LEN {
            return Err("The sign-in link is too long.");
        }
        let mut login = LoginRequest::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if let Some(selector) = Selector::from_param(&name, &value) {
                if login.selector.is_some() {
                    return Err("Give exactly one of organization, connection or provider.");
                }
                login.selector = Some(
                    selector
                        .map_err(|_| "The organization, connection or provider is not valid.")?,
                );
                continue;
            }
            let (slot, max) = match &*name {
                "login_hint" => (&mut login.login_hint, 320),
                "domain_hint" => (&mut login.domain_hint, 253),
                // Any value: `safe_return_to` replaces what is not a local path.
                "return_to" => {
                    login.return_to = Some(value.into_owned());
                    continue;
                }
                _ => continue,
            };
            if value.len() > max || value.chars().any(char::is_control) {
                return Err("A sign-in hint is not valid.");
            }
            *slot = Some(value.into_owned());
        }
        Ok(login)
    }
}

/// The claims of a flow cookie's token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FlowClaims {
    iss: String,
    aud: String,
    typ: String,
    /// The `state` sent to WorkOS.
    pub(crate) st: String,
    /// The PKCE verifier.
    pv: String,
    /// Where to go after sign-in (already sanitised).
    pub(crate) rt: String,
    /// The selector, so a failed login can offer to start the same one again.
    sel: Option<(String, String)>,
    pub(crate) iat: u64,
    exp: u64,
}

const FLOW_TYP: &str = "flow";

impl FlowClaims {
    pub(crate) fn verifier(&self) -> PkceVerifier {
        PkceVerifier::new(self.pv.clone())
    }

    pub(crate) fn selector(&self) -> Option<Selector> {
        let (name, value) = self.sel.as_ref()?;
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
            lifetime: config.flow_lifetime,
            max: config.max_flows,
            prefix: session::cookie_name(config, &format!("{}_flow_", config.cookie_name)),
            secure: !config.dev_cookies,
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
        login: LoginRequest,
        selector: Selector,
        headers: &HeaderMap,
        now: u64,
    ) -> Response<OwnBody> {
        let state = crypto::random_token(32);
        let verifier = PkceVerifier::new(crypto::random_token(32));
        let (param, value) = selector.param();
        let claims = FlowClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            typ: FLOW_TYP.to_owned(),
            st: state.clone(),
            pv: verifier.expose().to_owned(),
            rt: safe_return_to(config, login.return_to.as_deref()),
            sel: Some((param.to_owned(), value.to_owned())),
            iat: now,
            exp: now + self.lifetime.as_secs(),
        };
        let token = self.ring.sign(&claims);

        let mut url =
            form_urlencoded::Serializer::new(format!("{}/sso/authorize?", config.api_base_url));
        url.append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", &config.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("state", &state)
            .append_pair(
                "code_challenge",
                &crypto::sha256_b64(verifier.expose().as_bytes()),
            )
            .append_pair("code_challenge_method", "S256")
            .append_pair(param, value);
        if let Some(hint) = &login.login_hint {
            url.append_pair("login_hint", hint);
        }
        if let Some(hint) = &login.domain_hint {
            url.append_pair("domain_hint", hint);
        }
        if !config.provider_scopes.is_empty() {
            url.append_pair("provider_scopes", &config.provider_scopes.join(","));
        }

        let mut response = response::redirect(StatusCode::FOUND, &url.finish());
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
            Ok(claims) if crypto::constant_time_eq(claims.st.as_bytes(), state.as_bytes()) => {
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

/// The path a login may return to: a same-origin relative path, else the configured default.
///
/// Refuses anything a browser could read as another origin (`//host`, `/\host`, schemes,
/// encoded or double-encoded separators), control characters and non-ASCII look-alikes, overly
/// long values, and the SSO routes themselves (no login loops).
pub(crate) fn safe_return_to(config: &SsoConfig, requested: Option<&str>) -> String {
    match requested {
        Some(path) if is_safe_return_to(config, path) => path.to_owned(),
        _ => config.default_return_to.clone(),
    }
}

const MAX_RETURN_TO: usize = 2048;

fn is_safe_return_to(config: &SsoConfig, path: &str) -> bool {
    if path.len() > MAX_RETURN_TO || !path.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    // Check the text as it is and as it reads after each round of percent-decoding.
    let mut current = path.to_owned();
    for _ in 0..3 {
        if !looks_local(&current) {
            return false;
        }
        let route = current.split(['?', '#']).next().unwrap_or_default();
        // Dot and empty segments: browsers and proxies resolve `/a/../auth/login` or
        // `/auth//login` to an SSO route, and `/.//host` to a path starting with `//`.
        if route.contains("//") || route.split('/').any(is_dot_segment) {
            return false;
        }
        let route = route.trim_end_matches('/');
        if [
            &config.login_path,
            &config.callback_path,
            &config.logout_path,
        ]
        .iter()
        .any(|sso| route.eq_ignore_ascii_case(sso))
        {
            return false;
        }
        let decoded = percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == current {
            return true;
        }
        current = decoded;
    }
    false
}

/// `.` or `..` as browsers read a path segment (URL standard): any of its dots may be `%2e`.
fn is_dot_segment(segment: &str) -> bool {
    let dots = segment.to_ascii_lowercase().replace("%2e", ".");
    dots == "." || dots == ".."
}

fn looks_local(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn selectors_are_validated() {
        assert!(Selector::organization("org_01ABC").is_ok());
        assert!(Selector::organization("conn_01ABC").is_err());
        assert!(Selector::connection("conn_01ABC").is_ok());
        assert!(Selector::connection("conn_../x").is_err());
        assert!(Selector::provider("GoogleOAuth").is_ok());
        assert!(Selector::provider("google oauth").is_err());
    }

    #[test]
    fn login_query_needs_at_most_one_selector() {
        let one = LoginRequest::parse(Some("organization=org_1&login_hint=a%40b.test")).unwrap();
        assert_eq!(one.selector, Some(Selector::Organization("org_1".into())));
        assert_eq!(one.login_hint.as_deref(), Some("a@b.test"));
        assert!(LoginRequest::parse(Some("organization=org_1&connection=conn_1")).is_err());
        assert!(LoginRequest::parse(Some("organization=org_1&organization=org_2")).is_err());
        assert!(LoginRequest::parse(Some("organization=nope")).is_err());
        assert!(LoginRequest::parse(Some("login_hint=a%0d%0ab")).is_err());
        let odd = LoginRequest::parse(Some("return_to=%2Fa%0d%0aSet-Cookie:x")).unwrap();
        assert_eq!(odd.return_to.as_deref(), Some("/a\r\nSet-Cookie:x"));
    }

    #[test]
    fn authorization_url_carries_every_parameter() {
        let config = config();
        let flows = Flows::new(&config);
        let login = LoginRequest::parse(Some(
            "login_hint=a%40b.test&domain_hint=b.test&return_to=/x",
        ))
        .unwrap();
        let response = flows.start(
            &config,
            login,
            Selector::Organization("org_1".into()),
            &HeaderMap::new(),
            1000,
        );
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        let (base, query) = location.split_once('?').unwrap();
        assert_eq!(base, "https://api.workos.test/sso/authorize");
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
        assert_eq!(claims.rt, "/x");
        assert_eq!(
            crypto::sha256_b64(claims.pv.as_bytes()),
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
    fn the_state_is_compared_in_constant_time() {
        let config = config();
        let flows = Flows::new(&config);
        let response = flows.start(
            &config,
            LoginRequest::default(),
            Selector::Organization("org_1".into()),
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
        let login = LoginRequest {
            return_to: Some(return_to.to_owned()),
            ..LoginRequest::default()
        };
        let selector = Selector::Provider("GoogleOAuth".into());
        let response = flows.start(config, login, selector, &headers, now);
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
            assert!(jar.len() <= config.max_flows, "{} flow cookies", jar.len());
        }
        assert_eq!(jar.len(), config.max_flows);
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
            assert!(!jar.is_empty() && jar.len() <= config.max_flows);
        }
    }

    /// Fuzzing findings (`return_to` target): `/+a/../k/..//+a/..` passed, yet a browser
    /// resolves its dot segments to `//`; `/a/../auth/login` likewise reached an SSO route;
    /// and `/%23/%2e./auth/callback` too, as browsers read `%2e.` as `..` in the raw path while
    /// the decoded text hides the rest behind a `#`.
    #[test]
    fn return_to_refuses_dot_and_empty_segments() {
        let config = config();
        for bad in [
            "/+a/../k/..//+a/..",
            "/%23/%2e./auth/callback",
            "/%3F/.%2E/auth/login",
            "/x/%2e%2e/%2E/auth/logout",
            "/x/.%2e//evil.test",
            "/x/../auth/login",
            "/.//evil.test",
            "/auth//login",
            "/a/.",
            "/x/%2e%2e/auth/logout",
            "/x/%252E%252E/auth/callback?code=1",
        ] {
            assert_eq!(safe_return_to(&config, Some(bad)), "/", "{bad:?}");
        }
        for good in [
            "/a/b/",
            "/a.b/..c/d..",
            "/x?next=/a/../b",
            "/x#//y",
            "/%2e%2ex/.x.",
        ] {
            assert_eq!(safe_return_to(&config, Some(good)), good);
        }
    }

    #[test]
    fn return_to_accepts_local_paths_only() {
        let config = config();
        for good in ["/", "/dashboard", "/a/b?c=d&e=f#g", "/search?q=%20x"] {
            assert_eq!(safe_return_to(&config, Some(good)), good);
        }
        for bad in [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "\\\\evil.test",
            "/%2fevil.test",
            "/%252fevil.test",
            "/%5cevil.test",
            "javascript:alert(1)",
            "/a\r\nSet-Cookie:x=y",
            "/a\tb",
            "/ａ",
            "/auth/login",
            "/auth/callback?code=x",
            "/AUTH/LOGIN/",
            "/%61uth/login",
            "relative",
            "",
        ] {
            assert_eq!(safe_return_to(&config, Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(
            safe_return_to(&config, Some(&format!("/{}", "a".repeat(3000)))),
            "/"
        );
    }
}
