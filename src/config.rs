//! `SsoConfig`: everything the layer needs, validated once at start-up so it fails closed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::Uri;

use crate::flow::Selector;
use crate::secret::{ApiKey, SessionSecret};
use crate::store::SessionStore;

/// The public WorkOS API.
pub const DEFAULT_API_BASE_URL: &str = "https://api.workos.com";

/// Who must be signed in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessPolicy {
    /// Every path needs a session, except the SSO routes and the configured public paths.
    #[default]
    RequireLogin,
    /// No path needs a session; handlers decide (`Option<Profile>`).
    Optional,
}

/// What the callback does with a code that arrives without a login flow this browser started
/// (IdP-initiated SSO: a user clicks the app's tile in their identity provider).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdpInitiatedLogin {
    /// Refuse it with a 400 page (the code is never exchanged).
    #[default]
    Reject,
    /// Discard the code and start a fresh SP-initiated login with the default selector, which
    /// is transparent to a user already signed in at the IdP.
    RestartWithDefaultSelector,
}

/// A source of the current time; tests use it to move sessions through their lifetime.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// A configuration that failed validation. It names the setting, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: &'static str,
    problem: String,
}

impl ConfigError {
    fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        Self {
            setting,
            problem: problem.into(),
        }
    }

    /// The setting (as its environment variable name) that is missing or invalid.
    pub fn setting(&self) -> &'static str {
        self.setting
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SSO configuration: {}: {}", self.setting, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// The validated configuration of [`SsoLayer`](crate::SsoLayer).
///
/// Build it with [`SsoConfig::builder`] or [`SsoConfig::from_env`]; both refuse to produce a
/// configuration that would run insecurely.
#[derive(Clone)]
pub struct SsoConfig {
    pub(crate) api_key: ApiKey,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    /// `scheme://host[:port]` of the redirect URI: the app's own origin.
    pub(crate) origin: String,
    /// Plain-HTTP localhost development: cookies drop `Secure` and the `__Host-` prefix.
    pub(crate) dev_cookies: bool,
    pub(crate) api_base_url: String,
    /// Newest first: the first signs, all verify.
    pub(crate) session_secrets: Vec<SessionSecret>,
    pub(crate) default_selector: Option<Selector>,
    pub(crate) login_path: String,
    pub(crate) callback_path: String,
    pub(crate) logout_path: String,
    pub(crate) access_policy: AccessPolicy,
    pub(crate) public_paths: Vec<String>,
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_lifetime: Duration,
    pub(crate) leeway: Duration,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) cookie_name: String,
    pub(crate) flow_lifetime: Duration,
    pub(crate) max_flows: usize,
    pub(crate) max_response_bytes: usize,
    pub(crate) idp_initiated: IdpInitiatedLogin,
    pub(crate) default_return_to: String,
    pub(crate) after_logout: String,
    pub(crate) provider_scopes: Vec<String>,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) clock: Clock,
    /// The one HTTP client all calls to WorkOS share.
    pub(crate) http: reqwest::Client,
}

impl fmt::Debug for SsoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoConfig")
            .field("api_key", &self.api_key)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("api_base_url", &self.api_base_url)
            .field("session_secrets", &self.session_secrets.len())
            .field("default_selector", &self.default_selector)
            .field("login_path", &self.login_path)
            .field("callback_path", &self.callback_path)
            .field("logout_path", &self.logout_path)
            .field("access_policy", &self.access_policy)
            .field("public_paths", &self.public_paths)
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("idp_initiated", &self.idp_initiated)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl SsoConfig {
    /// Starts a configuration in code.
    pub fn builder() -> SsoConfigBuilder {
        SsoConfigBuilder::default()
    }

    /// Reads the configuration from the environment:
    ///
    /// | variable | |
    /// |---|---|
    /// | `WORKOS_API_KEY` | required, `sk_...` |
    /// | `WORKOS_CLIENT_ID` | required, `client_...` |
    /// | `WORKOS_REDIRECT_URI` | required, e.g. `https://app.example.com/auth/callback` |
    /// | `WORKOS_API_BASE_URL` | optional, default `https://api.workos.com` |
    /// | `SSO_SESSION_SECRET` | required, at least 32 bytes |
    /// | `SSO_PREVIOUS_SESSION_SECRETS` | optional, comma-separated retired secrets still accepted |
    /// | `SSO_DEFAULT_ORGANIZATION` / `SSO_DEFAULT_CONNECTION` / `SSO_DEFAULT_PROVIDER` | optional, at most one |
    /// | `SSO_PUBLIC_PATHS` | optional, comma-separated (`/health,/assets/*`) |
    pub fn from_env() -> Result<SsoConfig, ConfigError> {
        Self::builder_from_env()?.build()
    }

    /// Like [`from_env`](Self::from_env), but returns the builder so code can add to it.
    pub fn builder_from_env() -> Result<SsoConfigBuilder, ConfigError> {
        fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
            match std::env::var(name) {
                Ok(value) if value.trim().is_empty() => Ok(None),
                Ok(value) => Ok(Some(value.trim().to_owned())),
                Err(std::env::VarError::NotPresent) => Ok(None),
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(ConfigError::new(name, "is not valid UTF-8"))
                }
            }
        }
        let mut builder = SsoConfig::builder();
        builder.api_key = var("WORKOS_API_KEY")?.map(ApiKey::new);
        builder.client_id = var("WORKOS_CLIENT_ID")?;
        builder.redirect_uri = var("WORKOS_REDIRECT_URI")?;
        if let Some(url) = var("WORKOS_API_BASE_URL")? {
            builder = builder.api_base_url(url);
        }
        if let Some(secret) = var("SSO_SESSION_SECRET")? {
            builder = builder.session_secret(secret.into_bytes());
        }
        for old in var("SSO_PREVIOUS_SESSION_SECRETS")?
            .iter()
            .flat_map(|s| s.split(','))
        {
            builder = builder.previous_session_secret(old.trim().as_bytes().to_vec());
        }
        let selectors = [
            ("SSO_DEFAULT_ORGANIZATION", var("SSO_DEFAULT_ORGANIZATION")?),
            ("SSO_DEFAULT_CONNECTION", var("SSO_DEFAULT_CONNECTION")?),
            ("SSO_DEFAULT_PROVIDER", var("SSO_DEFAULT_PROVIDER")?),
        ];
        let mut chosen = selectors.into_iter().filter_map(|(n, v)| Some((n, v?)));
        if let Some((name, value)) = chosen.next() {
            if chosen.next().is_some() {
                return Err(ConfigError::new(
                    name,
                    "set only one of SSO_DEFAULT_ORGANIZATION, SSO_DEFAULT_CONNECTION, SSO_DEFAULT_PROVIDER",
                ));
            }
            let selector = match name {
                "SSO_DEFAULT_ORGANIZATION" => Selector::organization(value),
                "SSO_DEFAULT_CONNECTION" => Selector::connection(value),
                _ => Selector::provider(value),
            }
            .map_err(|problem| ConfigError::new(name, problem.to_string()))?;
            builder = builder.default_selector(selector);
        }
        if let Some(paths) = var("SSO_PUBLIC_PATHS")? {
            builder = builder.public_paths(paths.split(',').map(str::trim));
        }
        Ok(builder)
    }
}

/// Builds an [`SsoConfig`]; see each method for its default.
#[derive(Clone)]
pub struct SsoConfigBuilder {
    api_key: Option<ApiKey>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    api_base_url: String,
    session_secrets: Vec<SessionSecret>,
    previous_secrets: Vec<SessionSecret>,
    default_selector: Option<Selector>,
    base_path: String,
    access_policy: AccessPolicy,
    public_paths: Vec<String>,
    idle_timeout: Duration,
    absolute_lifetime: Duration,
    leeway: Duration,
    issuer: String,
    audience: Option<String>,
    cookie_name: String,
    flow_lifetime: Duration,
    max_flows: usize,
    connect_timeout: Duration,
    request_timeout: Duration,
    max_response_bytes: usize,
    idp_initiated: IdpInitiatedLogin,
    default_return_to: String,
    after_logout: String,
    provider_scopes: Vec<String>,
    store: Option<Arc<dyn SessionStore>>,
    clock: Clock,
}

impl Default for SsoConfigBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            client_id: None,
            redirect_uri: None,
            api_base_url: DEFAULT_API_BASE_URL.to_owned(),
            session_secrets: Vec::new(),
            previous_secrets: Vec::new(),
            default_selector: None,
            base_path: "/auth".to_owned(),
            access_policy: AccessPolicy::RequireLogin,
            public_paths: Vec::new(),
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_lifetime: Duration::from_secs(8 * 60 * 60),
            leeway: Duration::from_secs(30),
            issuer: "tower-workos-sso".to_owned(),
            audience: None,
            cookie_name: "sso_session".to_owned(),
            flow_lifetime: Duration::from_secs(10 * 60),
            max_flows: 4,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            max_response_bytes: 256 * 1024,
            idp_initiated: IdpInitiatedLogin::Reject,
            default_return_to: "/".to_owned(),
            after_logout: "/".to_owned(),
            provider_scopes: Vec::new(),
            store: None,
            clock: Arc::new(SystemTime::now),
        }
    }
}

impl fmt::Debug for SsoConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoConfigBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl SsoConfigBuilder {
    /// The WorkOS API key (`sk_...`). Required.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The WorkOS client id (`client_...`). Required.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The callback URL registered with WorkOS. Required. Its path must be `{base_path}/callback`;
    /// it must be `https`, except `http://localhost` (or a loopback address) for development.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Where the WorkOS API lives. Default `https://api.workos.com`.
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = url.into();
        self
    }

    /// The secret that signs new sessions (at least 32 bytes). Required. Calling it again
    /// replaces the current secret; keep older ones with [`previous_session_secret`](Self::previous_session_secret).
    pub fn session_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.session_secrets = vec![SessionSecret::new(secret)];
        self
    }

    /// A retired secret whose sessions are still accepted (and re-issued with the current one).
    pub fn previous_session_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.previous_secrets.push(SessionSecret::new(secret));
        self
    }

    /// The organization, connection or provider used when `/auth/login` names none.
    pub fn default_selector(mut self, selector: Selector) -> Self {
        self.default_selector = Some(selector);
        self
    }

    /// Where the SSO routes live: `{base}/login`, `{base}/callback`, `{base}/logout`. Default `/auth`.
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// Who must be signed in. Default [`AccessPolicy::RequireLogin`].
    pub fn access_policy(mut self, policy: AccessPolicy) -> Self {
        self.access_policy = policy;
        self
    }

    /// Paths that need no session: exact (`/health`) or a prefix ending in `/*` (`/assets/*`).
    pub fn public_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.public_paths
            .extend(paths.into_iter().map(Into::into).filter(|p| !p.is_empty()));
        self
    }

    /// How long a session lives without a request (sliding). Default 30 minutes.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a session lives at most after sign-in. Default 8 hours.
    pub fn absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_lifetime = lifetime;
        self
    }

    /// Clock skew tolerated when checking token times. Default 30 seconds, at most 5 minutes.
    pub fn clock_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The session token's `iss`. Default `tower-workos-sso`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// The session token's `aud`. Default: the client id.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The session cookie's name, without prefix. Default `sso_session` (sent as `__Host-sso_session`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// How long a started login may take. Default 10 minutes (a WorkOS code's lifetime).
    pub fn login_timeout(mut self, lifetime: Duration) -> Self {
        self.flow_lifetime = lifetime;
        self
    }

    /// How many logins may be under way at once in one browser. Default 4.
    pub fn max_concurrent_logins(mut self, max: usize) -> Self {
        self.max_flows = max;
        self
    }

    /// Timeouts for calls to WorkOS: to connect, and for the whole request. Default 5 s and 15 s.
    pub fn workos_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = total;
        self
    }

    /// What to do with IdP-initiated logins. Default [`IdpInitiatedLogin::Reject`].
    pub fn idp_initiated_login(mut self, policy: IdpInitiatedLogin) -> Self {
        self.idp_initiated = policy;
        self
    }

    /// Where a login without `return_to` ends. Default `/`.
    pub fn default_return_to(mut self, path: impl Into<String>) -> Self {
        self.default_return_to = path.into();
        self
    }

    /// Where logout sends the browser. Default `/`.
    pub fn after_logout(mut self, path: impl Into<String>) -> Self {
        self.after_logout = path.into();
        self
    }

    /// Extra OAuth scopes sent as `provider_scopes`.
    pub fn provider_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.provider_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A store shared by all instances, for revoking sessions at logout.
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Replaces the system clock (tests).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Validates everything and produces the configuration.
    pub fn build(self) -> Result<SsoConfig, ConfigError> {
        let api_key = self
            .api_key
            .ok_or_else(|| ConfigError::new("WORKOS_API_KEY", "is required"))?;
        if !api_key.expose().starts_with("sk_") {
            return Err(ConfigError::new(
                "WORKOS_API_KEY",
                "must be a WorkOS secret key starting with sk_",
            ));
        }
        let client_id = self
            .client_id
            .ok_or_else(|| ConfigError::new("WORKOS_CLIENT_ID", "is required"))?;
        if !client_id.starts_with("client_") || !is_token_text(&client_id) {
            return Err(ConfigError::new(
                "WORKOS_CLIENT_ID",
                "must be a WorkOS client id starting with client_",
            ));
        }

        let base_path = self.base_path.trim_end_matches('/').to_owned();
        if !base_path.starts_with('/') || !is_path_text(&base_path) {
            return Err(ConfigError::new(
                "base_path",
                "must be an absolute path such as /auth",
            ));
        }
        let callback_path = format!("{base_path}/callback");

        let redirect_uri = self
            .redirect_uri
            .ok_or_else(|| ConfigError::new("WORKOS_REDIRECT_URI", "is required"))?;
        let redirect = parse_url("WORKOS_REDIRECT_URI", &redirect_uri)?;
        if redirect.path != callback_path {
            return Err(ConfigError::new(
                "WORKOS_REDIRECT_URI",
                format!("its path must be {callback_path} (the layer's callback route)"),
            ));
        }
        if redirect.has_query {
            return Err(ConfigError::new(
                "WORKOS_REDIRECT_URI",
                "must not carry a query string",
            ));
        }

        let api = parse_url("WORKOS_API_BASE_URL", &self.api_base_url)?;
        if api.path != "/" && !api.path.is_empty() || api.has_query {
            return Err(ConfigError::new(
                "WORKOS_API_BASE_URL",
                "must be scheme://host[:port] with no path",
            ));
        }

        let mut session_secrets = self.session_secrets;
        if session_secrets.is_empty() {
            return Err(ConfigError::new("SSO_SESSION_SECRET", "is required"));
        }
        session_secrets.extend(self.previous_secrets);
        if session_secrets
            .iter()
            .any(|s| s.expose().len() < SessionSecret::MIN_LEN)
        {
            return Err(ConfigError::new(
                "SSO_SESSION_SECRET",
                "every session secret must be at least 32 bytes (e.g. `openssl rand -base64 48`)",
            ));
        }

        if self.idle_timeout.is_zero() || self.absolute_lifetime < self.idle_timeout {
            return Err(ConfigError::new(
                "idle_timeout",
                "must be above zero and no longer than absolute_lifetime",
            ));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(ConfigError::new(
                "clock_leeway",
                "must be at most 5 minutes",
            ));
        }
        if self.flow_lifetime.is_zero() || self.max_flows == 0 {
            return Err(ConfigError::new(
                "login_timeout",
                "login lifetime and max_concurrent_logins must be above zero",
            ));
        }
        if !is_token_text(&self.cookie_name) {
            return Err(ConfigError::new(
                "cookie_name",
                "must be letters, digits, '-' or '_'",
            ));
        }
        for (setting, path) in [
            ("default_return_to", &self.default_return_to),
            ("after_logout", &self.after_logout),
        ] {
            if !path.starts_with('/') || path.starts_with("//") || !is_path_text(path) {
                return Err(ConfigError::new(setting, "must be a local path such as /"));
            }
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            return Err(ConfigError::new("workos_timeouts", "must be above zero"));
        }
        let http = crate::client::http_client(self.connect_timeout, self.request_timeout).map_err(
            |_| ConfigError::new("workos_timeouts", "the HTTP client could not be built"),
        )?;
        for path in &self.public_paths {
            if !path.starts_with('/') || !is_path_text(path) {
                return Err(ConfigError::new(
                    "SSO_PUBLIC_PATHS",
                    "every public path must start with / (a prefix ends in /*)",
                ));
            }
        }

        Ok(SsoConfig {
            api_key,
            audience: self.audience.unwrap_or_else(|| client_id.clone()),
            client_id,
            origin: redirect.origin,
            dev_cookies: redirect.scheme == "http",
            redirect_uri,
            api_base_url: api.origin,
            session_secrets,
            default_selector: self.default_selector,
            login_path: format!("{base_path}/login"),
            logout_path: format!("{base_path}/logout"),
            callback_path,
            access_policy: self.access_policy,
            public_paths: self.public_paths,
            idle_timeout: self.idle_timeout,
            absolute_lifetime: self.absolute_lifetime,
            leeway: self.leeway,
            issuer: self.issuer,
            cookie_name: self.cookie_name,
            flow_lifetime: self.flow_lifetime,
            max_flows: self.max_flows,
            max_response_bytes: self.max_response_bytes,
            idp_initiated: self.idp_initiated,
            default_return_to: self.default_return_to,
            after_logout: self.after_logout,
            provider_scopes: self.provider_scopes,
            store: self.store,
            clock: self.clock,
            http,
        })
    }
}

/// The parts of a configured URL the crate needs.
struct ParsedUrl {
    scheme: String,
    origin: String,
    path: String,
    has_query: bool,
}

/// Parses an absolute URL that must be `https`, or `http` on a loopback host.
fn parse_url(setting: &'static str, text: &str) -> Result<ParsedUrl, ConfigError> {
    let uri: Uri = text
        .parse()
        .map_err(|_| ConfigError::new(setting, "is not a valid absolute URL"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(ConfigError::new(setting, "must be an absolute URL"));
    };
    if authority.as_str().contains('@') {
        return Err(ConfigError::new(setting, "must not contain credentials"));
    }
    let loopback = matches!(authority.host(), "localhost" | "127.0.0.1" | "[::1]");
    match scheme {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(ConfigError::new(
                setting,
                "must use https (plain http is allowed only for localhost)",
            ));
        }
        _ => return Err(ConfigError::new(setting, "must be an http(s) URL")),
    }
    // The origin as browsers serialise it in `Origin`: lowercase host, no default port.
    let host = authority.host().to_ascii_lowercase();
    let origin = match (scheme, authority.port_u16()) {
        ("https", Some(443)) | ("http", Some(80)) | (_, None) => format!("{scheme}://{host}"),
        (_, Some(port)) => format!("{scheme}://{host}:{port}"),
    };
    Ok(ParsedUrl {
        scheme: scheme.to_owned(),
        origin,
        path: uri.path().to_owned(),
        has_query: uri.query().is_some(),
    })
}

fn is_token_text(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_path_text(path: &str) -> bool {
    path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> SsoConfigBuilder {
        SsoConfig::builder()
            .api_key("sk_test_123")
            .client_id("client_123")
            .redirect_uri("https://app.example.com/auth/callback")
            .session_secret(vec![7u8; 32])
    }

    fn setting_of(builder: SsoConfigBuilder) -> &'static str {
        builder.build().unwrap_err().setting()
    }

    #[test]
    fn a_complete_config_builds() {
        let config = valid().build().unwrap();
        assert_eq!(config.origin, "https://app.example.com");
        assert_eq!(config.login_path, "/auth/login");
        assert_eq!(config.audience, "client_123");
        assert!(!config.dev_cookies);
    }

    #[test]
    fn missing_or_bad_settings_are_named() {
        let mut b = valid();
        b.api_key = None;
        assert_eq!(setting_of(b), "WORKOS_API_KEY");
        assert_eq!(setting_of(valid().api_key("pk_123")), "WORKOS_API_KEY");
        let mut b = valid();
        b.client_id = None;
        assert_eq!(setting_of(b), "WORKOS_CLIENT_ID");
        let mut b = valid();
        b.redirect_uri = None;
        assert_eq!(setting_of(b), "WORKOS_REDIRECT_URI");
        let mut b = valid();
        b.session_secrets.clear();
        assert_eq!(setting_of(b), "SSO_SESSION_SECRET");
        assert_eq!(
            setting_of(valid().session_secret(vec![1u8; 31])),
            "SSO_SESSION_SECRET"
        );
        assert_eq!(
            setting_of(valid().previous_session_secret(b"short".to_vec())),
            "SSO_SESSION_SECRET"
        );
    }

    #[test]
    fn redirect_uri_must_be_https_except_on_localhost() {
        for bad in [
            "http://app.example.com/auth/callback",
            "ftp://app.example.com/auth/callback",
            "https://app.example.com/other/callback",
            "https://app.example.com/auth/callback?x=1",
            "https://user:pw@app.example.com/auth/callback",
            "/auth/callback",
        ] {
            assert_eq!(
                setting_of(valid().redirect_uri(bad)),
                "WORKOS_REDIRECT_URI",
                "{bad}"
            );
        }
        let dev = valid()
            .redirect_uri("http://localhost:3000/auth/callback")
            .build()
            .unwrap();
        assert!(dev.dev_cookies);
        assert_eq!(dev.origin, "http://localhost:3000");
    }

    #[test]
    fn the_origin_drops_default_ports_as_browsers_do() {
        let explicit = valid()
            .redirect_uri("https://App.Example.com:443/auth/callback")
            .build()
            .unwrap();
        assert_eq!(explicit.origin, "https://app.example.com");
        let dev = valid()
            .redirect_uri("http://localhost:80/auth/callback")
            .build()
            .unwrap();
        assert_eq!(dev.origin, "http://localhost");
        let other = valid()
            .redirect_uri("https://app.example.com:8443/auth/callback")
            .build()
            .unwrap();
        assert_eq!(other.origin, "https://app.example.com:8443");
    }

    #[test]
    fn api_base_url_may_not_be_plain_http_elsewhere() {
        assert_eq!(
            setting_of(valid().api_base_url("http://api.example.com")),
            "WORKOS_API_BASE_URL"
        );
        let local = valid()
            .api_base_url("http://127.0.0.1:9999/")
            .build()
            .unwrap();
        assert_eq!(local.api_base_url, "http://127.0.0.1:9999");
    }

    #[test]
    fn debug_and_errors_carry_no_secret() {
        let config = valid()
            .api_key("sk_live_supersecret")
            .session_secret(b"a-very-long-session-secret-of-40-bytes!!".to_vec())
            .build()
            .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("supersecret"), "{printed}");
        assert!(!printed.contains("a-very-long"), "{printed}");
        let error = valid().api_key("pk_live_supersecret").build().unwrap_err();
        assert!(!error.to_string().contains("supersecret"));
    }
}
