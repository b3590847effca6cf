//! The authorization parameters a login sends WorkOS besides the selector and hints
//! (`provider_scopes`, `provider_query_params`, `nonce`, `prompt`), and IdP logout. They come
//! from the configuration (for every login, or per organization, connection or provider), from
//! the app's per-login hook, and from the crate's own routes (the step-up guard's
//! `prompt=login`); never from a login's query string unless the app's hook reads it there.

use std::borrow::Cow;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use http::request::Parts;

use super::{ConfigError, SsoConfigBuilder};
use crate::selector::Selector;

/// Most scopes or provider query parameters one login may carry.
const MAX_ENTRIES: usize = 32;
/// Longest scope, key or value.
const MAX_LEN: usize = 512;

/// How the IdP treats a user who is already signed in there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt {
    /// `prompt=login`: the IdP asks for credentials again (forced re-authentication).
    Login,
}

impl Prompt {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Prompt::Login => "login",
        }
    }
}

/// Extra parameters of the WorkOS authorization request, for
/// [`SsoConfigBuilder::authorization_params`] and
/// [`authorization_params_for`](SsoConfigBuilder::authorization_params_for).
///
/// Encoded as follows: `provider_scopes` comma-joined in one value (the spec's `style: form,
/// explode: false`), `provider_query_params[key]=value` per pair (the spec gives this object no
/// style; the bracket form is what WorkOS's SDKs send), `nonce` a fresh random value per login,
/// `prompt=login`.
///
/// ```
/// use tower_workos_sso::{AuthorizationParams, Selector, SsoConfig};
///
/// let google = AuthorizationParams::new()
///     .provider_scopes(["https://www.googleapis.com/auth/calendar.readonly"])
///     .provider_query_param("access_type", "offline")
///     .nonce();
/// let config = SsoConfig::builder()
///     # .api_key("sk_test_example").client_id("client_example")
///     # .redirect_uri("https://app.example.com/auth/callback")
///     # .session_secret(*b"an example secret of at least 32 bytes")
///     .allowed_providers(["GoogleOAuth"])
///     .authorization_params_for(Selector::provider("GoogleOAuth")?, google)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizationParams {
    pub(crate) provider_scopes: Vec<String>,
    pub(crate) provider_query_params: Vec<(String, String)>,
    pub(crate) nonce: bool,
    pub(crate) prompt: Option<Prompt>,
}

impl AuthorizationParams {
    /// None of them.
    pub fn new() -> Self {
        Self::default()
    }

    /// Extra OAuth scopes to ask the provider for. Calls add up.
    pub fn provider_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.provider_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// A query parameter WorkOS passes on to the OAuth provider (`hd`, `access_type`, ...).
    pub fn provider_query_param(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.provider_query_params.push((key.into(), value.into()));
        self
    }

    /// Sends a fresh random `nonce` with every login. The login's flow cookie keeps it, and
    /// the authorization hook gets it as [`SignIn::nonce`](crate::SignIn::nonce), so an app can
    /// bind it (to an ID token from the provider, or a record of its own).
    pub fn nonce(mut self) -> Self {
        self.nonce = true;
        self
    }

    /// Sends `prompt` with every login.
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// Bounded, and nothing that could break out of its query parameter.
    fn check(&self) -> Result<(), ConfigError> {
        let bad = |why| Err(ConfigError::new("authorization_params", why));
        if self.provider_scopes.len() > MAX_ENTRIES
            || self.provider_query_params.len() > MAX_ENTRIES
        {
            return bad("at most 32 provider scopes and 32 provider query parameters");
        }
        let printable =
            |text: &str| (1..=MAX_LEN).contains(&text.len()) && !text.chars().any(char::is_control);
        if !self
            .provider_scopes
            .iter()
            .all(|scope| printable(scope) && !scope.contains([',', ' ']))
        {
            return bad(
                "a provider scope is empty, too long, or holds a comma, space or control character",
            );
        }
        for (key, value) in &self.provider_query_params {
            let key_ok = key.len() <= 64
                && super::url::is_token_text(key)
                && self
                    .provider_query_params
                    .iter()
                    .filter(|(k, _)| k == key)
                    .count()
                    == 1;
            if !key_ok || !printable(value) {
                return bad(
                    "a provider query parameter needs a unique key of letters, digits, - or _ and a printable value",
                );
            }
        }
        Ok(())
    }
}

/// The app's per-login choice ([`SsoConfigBuilder::authorization_params_with`]).
type PerLogin = Arc<dyn Fn(&Parts, &Selector) -> Option<AuthorizationParams> + Send + Sync>;

/// The authorization parameters of every login: the defaults, per selector, and the app's
/// per-login hook.
#[derive(Clone, Default)]
pub(crate) struct LoginParamsConfig {
    pub(crate) defaults: AuthorizationParams,
    pub(crate) per_selector: Vec<(Selector, AuthorizationParams)>,
    per_login: Option<PerLogin>,
}

impl fmt::Debug for LoginParamsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginParamsConfig")
            .field("defaults", &self.defaults)
            .field("per_selector", &self.per_selector)
            .field("per_login", &self.per_login.is_some())
            .finish()
    }
}

impl LoginParamsConfig {
    /// The parameters of a login through `selector`: its own, or else the defaults.
    pub(crate) fn for_selector(&self, selector: &Selector) -> &AuthorizationParams {
        self.per_selector
            .iter()
            .find(|(s, _)| s == selector)
            .map_or(&self.defaults, |(_, params)| params)
    }

    /// The parameters of one login: what the app's per-login hook gives for the request that
    /// started it (`request` builds it, only when there is a hook), else the selector's.
    /// What the hook gives is checked as the configuration's are at start-up; a hook that
    /// gives what would not pass, or panics, starts no login.
    pub(crate) fn of_login(
        &self,
        request: impl FnOnce() -> Parts,
        selector: &Selector,
    ) -> Result<Cow<'_, AuthorizationParams>, ConfigError> {
        let Some(hook) = &self.per_login else {
            return Ok(Cow::Borrowed(self.for_selector(selector)));
        };
        let request = request();
        match catch_unwind(AssertUnwindSafe(|| hook(&request, selector))) {
            Ok(Some(params)) => {
                params.check()?;
                Ok(Cow::Owned(params))
            }
            Ok(None) => Ok(Cow::Borrowed(self.for_selector(selector))),
            Err(_) => Err(ConfigError::new(
                "authorization_params_with",
                "the per-login hook panicked",
            )),
        }
    }

    /// Checks every set; `provider_scopes` (the older setting) fills the defaults' scopes.
    pub(super) fn build(mut self, provider_scopes: Vec<String>) -> Result<Self, ConfigError> {
        if self.defaults.provider_scopes.is_empty() {
            self.defaults.provider_scopes = provider_scopes;
        }
        self.defaults.check()?;
        for (_, params) in &self.per_selector {
            params.check()?;
        }
        Ok(self)
    }
}

impl SsoConfigBuilder {
    /// The authorization parameters of every login (unless
    /// [`authorization_params_for`](Self::authorization_params_for) gives a login's selector
    /// its own). Never read from a login's query string. Default: none.
    pub fn authorization_params(mut self, params: AuthorizationParams) -> Self {
        self.login_params.defaults = params;
        self
    }

    /// The authorization parameters of logins through `selector`, in place of the defaults.
    /// Calling it again for the same selector replaces them.
    pub fn authorization_params_for(
        mut self,
        selector: Selector,
        params: AuthorizationParams,
    ) -> Self {
        let per = &mut self.login_params.per_selector;
        per.retain(|(s, _)| *s != selector);
        per.push((selector, params));
        self
    }

    /// The app's say on each login's authorization parameters: `hook` gets the request that
    /// started the login (`GET {base}/login` with its query, the confirming `POST`, or, for a
    /// step-up, the guarded request itself) and the selector it signs in with, and gives the
    /// parameters of this login (`Some`, in place of the configured ones) or `None` (the
    /// configured ones). The crate never reads these parameters from a query; a hook may read
    /// a query parameter of the app's own, as below. The step-up guard's `prompt=login` still
    /// wins.
    ///
    /// What the hook gives is checked like the configuration's; a login whose hook gives
    /// parameters that would not pass (or that panics) is refused with a 500 page and a WARN
    /// log line, and WorkOS is not asked. A login the layer restarts by itself (an
    /// IdP-initiated sign-in) shows the hook `GET {base}/login` with that request's headers.
    /// Calling it again replaces the hook.
    ///
    /// ```
    /// use http::request::Parts;
    /// use tower_workos_sso::{AuthorizationParams, Selector, SsoConfig};
    ///
    /// // `/auth/login?provider=GoogleOAuth&calendar=1` asks Google for calendar access.
    /// fn per_login(request: &Parts, selector: &Selector) -> Option<AuthorizationParams> {
    ///     let query = request.uri.query().unwrap_or("");
    ///     let calendar = form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "calendar" && v == "1");
    ///     (selector.provider_name() == Some("GoogleOAuth") && calendar).then(|| {
    ///         AuthorizationParams::new()
    ///             .provider_scopes(["https://www.googleapis.com/auth/calendar.readonly"])
    ///             .provider_query_param("access_type", "offline")
    ///     })
    /// }
    ///
    /// let config = SsoConfig::builder()
    ///     # .api_key("sk_test_example").client_id("client_example")
    ///     # .redirect_uri("https://app.example.com/auth/callback")
    ///     # .session_secret(*b"an example secret of at least 32 bytes")
    ///     .allowed_providers(["GoogleOAuth"])
    ///     .authorization_params_with(per_login)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorization_params_with<F, P>(mut self, hook: F) -> Self
    where
        F: Fn(&Parts, &Selector) -> P + Send + Sync + 'static,
        P: Into<Option<AuthorizationParams>>,
    {
        self.login_params.per_login = Some(Arc::new(move |request, selector| {
            hook(request, selector).into()
        }));
        self
    }

    /// Logout also ends the user's session at their identity provider, through WorkOS
    /// (`SSO_IDP_LOGOUT=true`). The app's session always ends first; where WorkOS cannot end
    /// the IdP's (the connection does not support it, or WorkOS is down), logout says it signed
    /// out of the app only. Default off.
    pub fn idp_logout(mut self, enabled: bool) -> Self {
        self.idp_logout = enabled;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{setting_of, valid};

    #[test]
    fn parameters_are_bounded_and_cannot_break_out_of_the_query() {
        for bad in [
            AuthorizationParams::new().provider_scopes(["a,b"]),
            AuthorizationParams::new().provider_scopes([""]),
            AuthorizationParams::new().provider_scopes(["a b"]),
            AuthorizationParams::new().provider_query_param("hd]=x&client_id", "v"),
            AuthorizationParams::new().provider_query_param("hd", "a\r\nb"),
            AuthorizationParams::new()
                .provider_query_param("hd", "a")
                .provider_query_param("hd", "b"),
            AuthorizationParams::new().provider_scopes((0..33).map(|i| format!("s{i}"))),
        ] {
            assert_eq!(
                setting_of(valid().authorization_params(bad.clone())),
                "authorization_params",
                "{bad:?}"
            );
            let selector = Selector::provider("GoogleOAuth").unwrap();
            assert_eq!(
                setting_of(valid().authorization_params_for(selector, bad)),
                "authorization_params"
            );
        }
    }

    #[test]
    fn a_selector_s_own_parameters_replace_the_defaults() {
        let google = Selector::provider("GoogleOAuth").unwrap();
        let config = valid()
            .provider_scopes(["email"])
            .authorization_params_for(google.clone(), AuthorizationParams::new().nonce())
            .build()
            .unwrap();
        let acme = Selector::organization("org_1").unwrap();
        assert_eq!(
            config.login_params.for_selector(&acme).provider_scopes,
            ["email"]
        );
        assert!(config.login_params.for_selector(&google).nonce);
        assert!(
            config
                .login_params
                .for_selector(&google)
                .provider_scopes
                .is_empty()
        );
    }
}
