//! `SsoConfig`: everything the layer needs, validated once at start-up so it fails closed.
//!
//! Build it in code with [`SsoConfig::builder`] or read it with [`SsoConfig::from_env`]. Each
//! setting has one name everywhere: the builder method, the field, [`ConfigError::setting`] and
//! the docs; [`ConfigError::env_var`] names its environment variable where it has one.

mod builder;
mod env;
mod error;
mod params;
mod paths;
mod sign_in;
mod tenancy;
pub(crate) mod url;
mod webhooks;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use builder::SsoConfigBuilder;
pub(crate) use builder::{default_http_client, http_client};
pub use error::ConfigError;
pub(crate) use params::LoginParamsConfig;
pub use params::{AuthorizationParams, Prompt};
pub(crate) use paths::OpenPaths;
pub(crate) use sign_in::Allowed;
pub(crate) use tenancy::{DomainCache, DomainRouting, Tenancy};
pub(crate) use webhooks::{WebhookSettings, Webhooks};

use crate::authorization::Authorizer;
use crate::secret::{ApiKey, SessionSecret};
use crate::selector::Selector;
use crate::store::SessionStore;
use crate::time::Clock;

/// The public WorkOS API.
pub(crate) const DEFAULT_API_BASE_URL: &str = "https://api.workos.com";

/// Who must be signed in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessPolicy {
    /// Every path needs a session, except the SSO routes and the public and optional paths.
    #[default]
    RequireLogin,
    /// No path needs a session; handlers decide (`Option<Profile>`). Public paths still see
    /// none: the layer does not read it there.
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
    /// Discard the code and start a fresh SP-initiated login for the tenant the callback
    /// request resolves to ([`tenant_resolver`](crate::SsoConfigBuilder::tenant_resolver), by
    /// host or header); refused as by `Reject` when it resolves to none.
    RestartWithTenant,
}

/// The validated configuration of [`SsoLayer`](crate::SsoLayer).
///
/// Build it with [`SsoConfig::builder`] or [`SsoConfig::from_env`]; both refuse to produce a
/// configuration that would run insecurely. The fields are the builder's settings, by name.
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
    /// `session_secret` first (it signs), then every `previous_session_secret` (they verify).
    pub(crate) session_secrets: Vec<SessionSecret>,
    pub(crate) default_selector: Option<Selector>,
    /// What a login may name besides the default selector.
    pub(crate) allowed: Allowed,
    /// The authorization shortcuts and hook.
    pub(crate) authorizer: Authorizer,
    pub(crate) login_path: String,
    pub(crate) callback_path: String,
    pub(crate) logout_path: String,
    pub(crate) session_path: String,
    pub(crate) access_policy: AccessPolicy,
    pub(crate) paths: OpenPaths,
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_lifetime: Duration,
    pub(crate) clock_leeway: Duration,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) cookie_name: String,
    pub(crate) login_timeout: Duration,
    pub(crate) max_concurrent_logins: usize,
    pub(crate) max_concurrent_exchanges: usize,
    pub(crate) idp_initiated_login: IdpInitiatedLogin,
    pub(crate) default_return_to: String,
    pub(crate) after_logout: String,
    /// `provider_scopes`, `provider_query_params`, `nonce`, `prompt`: defaults and per selector.
    pub(crate) login_params: LoginParamsConfig,
    /// Logout also ends the IdP session through WorkOS.
    pub(crate) idp_logout: bool,
    pub(crate) session_store: Option<Arc<dyn SessionStore>>,
    pub(crate) session_cache_capacity: usize,
    pub(crate) clock: Clock,
    /// The one HTTP client all calls to WorkOS share (built from `workos_timeouts`).
    pub(crate) http: reqwest::Client,
    /// Tenants, domain routing, landings and the app's pages.
    pub(crate) tenancy: Tenancy,
    /// The WorkOS webhook route, when turned on.
    pub(crate) webhooks: Option<Webhooks>,
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
            .field("allowed", &self.allowed)
            .field("authorizer", &self.authorizer)
            .field("login_path", &self.login_path)
            .field("callback_path", &self.callback_path)
            .field("logout_path", &self.logout_path)
            .field("access_policy", &self.access_policy)
            .field("public_paths", &self.paths.public)
            .field("optional_paths", &self.paths.optional)
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("idp_initiated_login", &self.idp_initiated_login)
            .field("login_params", &self.login_params)
            .field("idp_logout", &self.idp_logout)
            .field("session_store", &self.session_store.is_some())
            .field("tenant_resolver", &self.tenancy.resolver.is_some())
            .field("webhooks", &self.webhooks)
            .finish_non_exhaustive()
    }
}

impl SsoConfig {
    /// Starts a configuration in code.
    pub fn builder() -> SsoConfigBuilder {
        SsoConfigBuilder::default()
    }

    /// The WorkOS client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The callback URL registered with WorkOS.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The selector used when a login names none.
    pub fn default_selector(&self) -> Option<&Selector> {
        self.default_selector.as_ref()
    }

    /// The organizations, connections and providers a login may name besides the default
    /// selector.
    pub fn allowed_selectors(&self) -> &[Selector] {
        &self.allowed.selectors
    }

    /// Whether every organization is admitted ([`SsoConfigBuilder::allow_any_organization`]).
    pub fn allows_any_organization(&self) -> bool {
        self.allowed.any_organization
    }

    /// The login route, `{base_path}/login`.
    pub fn login_path(&self) -> &str {
        &self.login_path
    }

    /// The callback route, `{base_path}/callback` (the redirect URI's path).
    pub fn callback_path(&self) -> &str {
        &self.callback_path
    }

    /// The logout route, `{base_path}/logout`.
    pub fn logout_path(&self) -> &str {
        &self.logout_path
    }

    /// The session route, `{base_path}/session`: who is signed in, as JSON.
    pub fn session_path(&self) -> &str {
        &self.session_path
    }

    /// Who must be signed in.
    pub fn access_policy(&self) -> AccessPolicy {
        self.access_policy
    }

    /// How long a session lives without a request.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// How long a session lives at most after sign-in.
    pub fn absolute_lifetime(&self) -> Duration {
        self.absolute_lifetime
    }

    /// Whether logout also ends the session at the identity provider.
    pub fn idp_logout(&self) -> bool {
        self.idp_logout
    }
}

/// What the configuration's unit tests start from.
#[cfg(test)]
pub(super) mod test_support {
    use super::{SsoConfig, SsoConfigBuilder};

    /// A builder that builds.
    pub(crate) fn valid() -> SsoConfigBuilder {
        SsoConfig::builder()
            .api_key("sk_test_123")
            .client_id("client_123")
            .redirect_uri("https://app.example.com/auth/callback")
            .session_secret(vec![7u8; 32])
    }

    /// The setting `builder.build()` names in its error.
    pub(crate) fn setting_of(builder: SsoConfigBuilder) -> &'static str {
        builder.build().unwrap_err().setting()
    }
}
