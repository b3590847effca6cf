//! `SsoConfigBuilder`: every setting with its default, and the checks that make `build` fail
//! closed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::params::LoginParamsConfig;
use super::sign_in::SignInSettings;
use super::url::{is_local_path, is_path_text, is_token_text, parse_url};
use super::{
    AccessPolicy, ConfigError, DEFAULT_API_BASE_URL, IdpInitiatedLogin, OpenPaths, SsoConfig,
    Tenancy, WebhookSettings,
};
use crate::secret::{ApiKey, SessionSecret};
use crate::selector::Selector;
use crate::store::SessionStore;
use crate::time::Clock;

/// Builds an [`SsoConfig`]; see each method for its default.
#[derive(Clone)]
pub struct SsoConfigBuilder {
    pub(super) api_key: Option<ApiKey>,
    pub(super) client_id: Option<String>,
    pub(super) redirect_uri: Option<String>,
    pub(super) api_base_url: String,
    pub(super) session_secret: Option<SessionSecret>,
    pub(super) previous_session_secrets: Vec<SessionSecret>,
    pub(super) default_selector: Option<Selector>,
    /// Who may sign in: admitted selectors, shortcuts, the hook (`sign_in.rs`).
    pub(super) sign_in: SignInSettings,
    pub(super) base_path: String,
    pub(super) access_policy: AccessPolicy,
    pub(super) paths: OpenPaths,
    pub(super) idle_timeout: Duration,
    pub(super) absolute_lifetime: Duration,
    pub(super) clock_leeway: Duration,
    pub(super) issuer: String,
    pub(super) audience: Option<String>,
    pub(super) cookie_name: String,
    pub(super) login_timeout: Duration,
    pub(super) max_concurrent_logins: usize,
    pub(super) max_concurrent_exchanges: usize,
    /// To connect, and for the whole request.
    pub(super) workos_timeouts: (Duration, Duration),
    pub(super) idp_initiated_login: IdpInitiatedLogin,
    pub(super) default_return_to: String,
    pub(super) after_logout: String,
    pub(super) provider_scopes: Vec<String>,
    /// `authorization_params` and `authorization_params_for` (`params.rs`).
    pub(super) login_params: LoginParamsConfig,
    pub(super) idp_logout: bool,
    pub(super) session_store: Option<Arc<dyn SessionStore>>,
    pub(super) session_cache_capacity: usize,
    pub(super) clock: Clock,
    /// Tenants, domain routing, landings and pages (`tenancy.rs`).
    pub(super) tenancy: Tenancy,
    /// The WorkOS webhook route (`webhooks.rs`).
    pub(super) webhooks: WebhookSettings,
}

impl Default for SsoConfigBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            client_id: None,
            redirect_uri: None,
            api_base_url: DEFAULT_API_BASE_URL.to_owned(),
            session_secret: None,
            previous_session_secrets: Vec::new(),
            default_selector: None,
            sign_in: SignInSettings::default(),
            base_path: "/auth".to_owned(),
            access_policy: AccessPolicy::RequireLogin,
            paths: OpenPaths::default(),
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_lifetime: Duration::from_secs(8 * 60 * 60),
            clock_leeway: Duration::from_secs(30),
            issuer: "tower-workos-sso".to_owned(),
            audience: None,
            cookie_name: "sso_session".to_owned(),
            login_timeout: Duration::from_secs(10 * 60),
            max_concurrent_logins: 4,
            max_concurrent_exchanges: 32,
            workos_timeouts: DEFAULT_WORKOS_TIMEOUTS,
            idp_initiated_login: IdpInitiatedLogin::Reject,
            default_return_to: "/".to_owned(),
            after_logout: "/".to_owned(),
            provider_scopes: Vec::new(),
            login_params: LoginParamsConfig::default(),
            idp_logout: false,
            session_store: None,
            session_cache_capacity: 4096,
            clock: Arc::new(SystemTime::now),
            tenancy: Tenancy::default(),
            webhooks: WebhookSettings::default(),
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
        self.session_secret = Some(SessionSecret::new(secret));
        self
    }

    /// A retired secret whose sessions are still accepted (and re-issued with the current one).
    pub fn previous_session_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.previous_session_secrets
            .push(SessionSecret::new(secret));
        self
    }

    /// The organization, connection or provider used when `/auth/login` names none. It is
    /// always admitted; with no `allowed_*` setting it is the only one.
    pub fn default_selector(mut self, selector: Selector) -> Self {
        self.default_selector = Some(selector);
        self
    }

    /// Where the SSO routes live: `{base}/login`, `{base}/callback`, `{base}/logout`,
    /// `{base}/session`. Default `/auth`.
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// Who must be signed in. Default [`AccessPolicy::RequireLogin`].
    pub fn access_policy(mut self, policy: AccessPolicy) -> Self {
        self.access_policy = policy;
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
        self.clock_leeway = leeway;
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
    pub fn login_timeout(mut self, timeout: Duration) -> Self {
        self.login_timeout = timeout;
        self
    }

    /// How many logins may be under way at once in one browser. Default 4.
    pub fn max_concurrent_logins(mut self, max: usize) -> Self {
        self.max_concurrent_logins = max;
        self
    }

    /// How many code exchanges with WorkOS may run at once, across all browsers. Default 32.
    /// Callbacks above it get an immediate 503 (`Retry-After: 1`) instead of queueing, so a
    /// burst (or one flow replayed with junk codes) cannot spend the app's WorkOS rate limit.
    pub fn max_concurrent_exchanges(mut self, max: usize) -> Self {
        self.max_concurrent_exchanges = max;
        self
    }

    /// Timeouts for calls to WorkOS: to connect, and for the whole request. Default 5 s and 15 s.
    pub fn workos_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.workos_timeouts = (connect, total);
        self
    }

    /// What to do with IdP-initiated logins. Default [`IdpInitiatedLogin::Reject`].
    pub fn idp_initiated_login(mut self, policy: IdpInitiatedLogin) -> Self {
        self.idp_initiated_login = policy;
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

    /// How many verified session tokens the layer remembers, so that a token it has seen
    /// costs a lookup instead of an HMAC and a JSON parse. Default 4096; `0` turns it off.
    /// Each entry holds the token and its claims, about twice the token's length plus ~300
    /// bytes (≈ 2.3 KB for a typical 1 KB token, at most ≈ 8.5 KB). A cached token is still
    /// checked on every request against the clock, its purpose and the revocations.
    pub fn session_cache_capacity(mut self, entries: usize) -> Self {
        self.session_cache_capacity = entries;
        self
    }

    /// Where revocations (logout, [`SsoLayer::revoke`](crate::SsoLayer::revoke)) live. Default:
    /// a [`MemoryStore`](crate::store::MemoryStore) of the layer's own, so revocations hold in
    /// this process only; with several instances, configure a store they all share.
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.session_store = Some(Arc::new(store));
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
            .ok_or_else(|| ConfigError::new("api_key", "is required"))?;
        if !api_key.expose().starts_with("sk_") {
            return Err(ConfigError::new(
                "api_key",
                "must be a WorkOS secret key starting with sk_",
            ));
        }
        let client_id = self
            .client_id
            .ok_or_else(|| ConfigError::new("client_id", "is required"))?;
        if !client_id.starts_with("client_") || !is_token_text(&client_id) {
            return Err(ConfigError::new(
                "client_id",
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
            .ok_or_else(|| ConfigError::new("redirect_uri", "is required"))?;
        let redirect = parse_url("redirect_uri", &redirect_uri)?;
        if redirect.path != callback_path {
            return Err(ConfigError::new(
                "redirect_uri",
                format!("its path must be {callback_path} (the layer's callback route)"),
            ));
        }
        if redirect.has_query {
            return Err(ConfigError::new(
                "redirect_uri",
                "must not carry a query string",
            ));
        }

        let api = parse_url("api_base_url", &self.api_base_url)?;
        if api.path != "/" && !api.path.is_empty() || api.has_query {
            return Err(ConfigError::new(
                "api_base_url",
                "must be scheme://host[:port] with no path",
            ));
        }

        let current = self
            .session_secret
            .ok_or_else(|| ConfigError::new("session_secret", "is required"))?;
        let mut session_secrets = vec![current];
        session_secrets.extend(self.previous_session_secrets);
        for (i, secret) in session_secrets.iter().enumerate() {
            if secret.expose().len() < SessionSecret::MIN_LEN {
                let setting = if i == 0 {
                    "session_secret"
                } else {
                    "previous_session_secret"
                };
                return Err(ConfigError::new(
                    setting,
                    "every session secret must be at least 32 bytes (e.g. `openssl rand -base64 48`)",
                ));
            }
        }

        if self.idle_timeout.is_zero() || self.absolute_lifetime < self.idle_timeout {
            return Err(ConfigError::new(
                "idle_timeout",
                "must be above zero and no longer than absolute_lifetime",
            ));
        }
        if self.clock_leeway > Duration::from_secs(300) {
            return Err(ConfigError::new(
                "clock_leeway",
                "must be at most 5 minutes",
            ));
        }
        if self.login_timeout.is_zero() {
            return Err(ConfigError::new("login_timeout", "must be above zero"));
        }
        if self.max_concurrent_logins == 0 {
            return Err(ConfigError::new(
                "max_concurrent_logins",
                "must be above zero",
            ));
        }
        if self.max_concurrent_exchanges == 0 {
            return Err(ConfigError::new(
                "max_concurrent_exchanges",
                "must be above zero",
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
            if !is_local_path(path) {
                return Err(ConfigError::new(setting, "must be a local path such as /"));
            }
        }
        let http = http_client(self.workos_timeouts)?;
        self.paths.check()?;

        let (allowed, authorizer) = self.sign_in.build()?;
        let login_params = self.login_params.build(self.provider_scopes)?;
        self.tenancy.check()?;

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
            allowed,
            authorizer,
            webhooks: self.webhooks.build(&base_path)?,
            login_path: format!("{base_path}/login"),
            logout_path: format!("{base_path}/logout"),
            session_path: format!("{base_path}/session"),
            callback_path,
            access_policy: self.access_policy,
            paths: self.paths,
            idle_timeout: self.idle_timeout,
            absolute_lifetime: self.absolute_lifetime,
            clock_leeway: self.clock_leeway,
            issuer: self.issuer,
            cookie_name: self.cookie_name,
            login_timeout: self.login_timeout,
            max_concurrent_logins: self.max_concurrent_logins,
            max_concurrent_exchanges: self.max_concurrent_exchanges,
            idp_initiated_login: self.idp_initiated_login,
            default_return_to: self.default_return_to,
            after_logout: self.after_logout,
            login_params,
            idp_logout: self.idp_logout,
            session_store: self.session_store,
            session_cache_capacity: self.session_cache_capacity,
            clock: self.clock,
            http,
            tenancy: self.tenancy,
        })
    }
}

/// The default timeouts for calls to WorkOS: to connect, and for the whole request.
const DEFAULT_WORKOS_TIMEOUTS: (Duration, Duration) =
    (Duration::from_secs(5), Duration::from_secs(15));

/// The HTTP client of [`http_client`] with the default timeouts.
pub(crate) fn default_http_client() -> Result<reqwest::Client, ConfigError> {
    http_client(DEFAULT_WORKOS_TIMEOUTS)
}

/// The one HTTP client every call to WorkOS shares: timeouts, no redirects followed. Also what
/// a standalone `WorkOsClient::with_timeouts` builds.
pub(crate) fn http_client(
    (connect, total): (Duration, Duration),
) -> Result<reqwest::Client, ConfigError> {
    if connect.is_zero() || total.is_zero() {
        return Err(ConfigError::new("workos_timeouts", "must be above zero"));
    }
    reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(total)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tower-workos-sso/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| ConfigError::new("workos_timeouts", "the HTTP client could not be built"))
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::{setting_of, valid};

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
        assert_eq!(setting_of(b), "api_key");
        assert_eq!(setting_of(valid().api_key("pk_123")), "api_key");
        let mut b = valid();
        b.client_id = None;
        assert_eq!(setting_of(b), "client_id");
        let mut b = valid();
        b.redirect_uri = None;
        assert_eq!(setting_of(b), "redirect_uri");
        let mut b = valid();
        b.session_secret = None;
        assert_eq!(setting_of(b), "session_secret");
        assert_eq!(
            setting_of(valid().session_secret(vec![1u8; 31])),
            "session_secret"
        );
        assert_eq!(
            setting_of(valid().previous_session_secret(b"short".to_vec())),
            "previous_session_secret"
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
                "redirect_uri",
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
            "api_base_url"
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
