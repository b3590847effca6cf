//! `SsoConfig::from_env`: the settings a deployment passes as environment variables.

use super::{ConfigError, SsoConfig, SsoConfigBuilder};
use crate::secret::ApiKey;
use crate::selector::{InvalidSelector, Selector};

impl SsoConfig {
    /// Reads the configuration from the environment:
    ///
    /// | variable | builder method | |
    /// |---|---|---|
    /// | `WORKOS_API_KEY` | `api_key` | required, `sk_...` |
    /// | `WORKOS_CLIENT_ID` | `client_id` | required, `client_...` |
    /// | `WORKOS_REDIRECT_URI` | `redirect_uri` | required, e.g. `https://app.example.com/auth/callback` |
    /// | `WORKOS_API_BASE_URL` | `api_base_url` | optional, default `https://api.workos.com` |
    /// | `SSO_SESSION_SECRET` | `session_secret` | required, at least 32 bytes |
    /// | `SSO_PREVIOUS_SESSION_SECRETS` | `previous_session_secret` | optional, comma-separated retired secrets still accepted |
    /// | `SSO_DEFAULT_ORGANIZATION` / `SSO_DEFAULT_CONNECTION` / `SSO_DEFAULT_PROVIDER` | `default_selector` | optional, at most one |
    /// | `SSO_PUBLIC_PATHS` | `public_paths` | optional, comma-separated (`/health,/assets/*`): no session read |
    /// | `SSO_OPTIONAL_PATHS` | `optional_paths` | optional, comma-separated (`/,/docs/*`): no session needed, one seen if there is |
    /// | `SSO_ALLOWED_ORGANIZATIONS` | `allowed_organizations` | optional, comma-separated `org_...` ids; `*` admits any organization (`allow_any_organization`) |
    /// | `SSO_ALLOWED_CONNECTIONS` | `allowed_connections` | optional, comma-separated `conn_...` ids |
    /// | `SSO_ALLOWED_PROVIDERS` | `allowed_providers` | optional, comma-separated names (`GoogleOAuth,MicrosoftOAuth`) |
    /// | `SSO_IDP_LOGOUT` | `idp_logout` | optional, `true` or `false` (default) |
    /// | `WORKOS_WEBHOOK_SECRET` | `workos_webhooks` | optional: turns on the webhook route with the endpoint's secret |
    pub fn from_env() -> Result<SsoConfig, ConfigError> {
        Self::builder_from_env()?.build()
    }

    /// Like [`from_env`](Self::from_env), but returns the builder so code can add to it.
    pub fn builder_from_env() -> Result<SsoConfigBuilder, ConfigError> {
        let mut builder = SsoConfig::builder();
        builder.api_key = var("api_key", "WORKOS_API_KEY")?.map(ApiKey::new);
        builder.client_id = var("client_id", "WORKOS_CLIENT_ID")?;
        builder.redirect_uri = var("redirect_uri", "WORKOS_REDIRECT_URI")?;
        if let Some(url) = var("api_base_url", "WORKOS_API_BASE_URL")? {
            builder = builder.api_base_url(url);
        }
        if let Some(secret) = var("session_secret", "SSO_SESSION_SECRET")? {
            builder = builder.session_secret(secret.into_bytes());
        }
        let previous = var("previous_session_secret", "SSO_PREVIOUS_SESSION_SECRETS")?;
        for old in previous.iter().flat_map(|s| s.split(',')) {
            builder = builder.previous_session_secret(old.trim().as_bytes().to_vec());
        }
        if let Some(selector) = default_selector()? {
            builder = builder.default_selector(selector);
        }
        if let Some(paths) = var("public_paths", "SSO_PUBLIC_PATHS")? {
            builder = builder.public_paths(paths.split(',').map(str::trim));
        }
        if let Some(paths) = var("optional_paths", "SSO_OPTIONAL_PATHS")? {
            builder = builder.optional_paths(paths.split(',').map(str::trim));
        }
        if let Some(ids) = var("allowed_organizations", "SSO_ALLOWED_ORGANIZATIONS")? {
            let (any, ids): (Vec<&str>, Vec<&str>) = list(&ids).partition(|id| *id == "*");
            if !any.is_empty() {
                builder = builder.allow_any_organization();
            }
            builder = builder.allowed_organizations(ids);
        }
        if let Some(ids) = var("allowed_connections", "SSO_ALLOWED_CONNECTIONS")? {
            builder = builder.allowed_connections(list(&ids));
        }
        if let Some(names) = var("allowed_providers", "SSO_ALLOWED_PROVIDERS")? {
            builder = builder.allowed_providers(list(&names));
        }
        if let Some(flag) = var("idp_logout", "SSO_IDP_LOGOUT")? {
            builder = builder.idp_logout(flag_value(&flag).ok_or_else(|| {
                ConfigError::new("idp_logout", "must be true or false").read_from("SSO_IDP_LOGOUT")
            })?);
        }
        if let Some(secret) = var("workos_webhooks", "WORKOS_WEBHOOK_SECRET")? {
            builder = builder.workos_webhooks(secret.into_bytes());
        }
        Ok(builder)
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, in any case).
fn flag_value(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// The entries of a comma-separated list, trimmed, empty ones skipped.
fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
}

/// A variable's trimmed value; unset and blank are the same.
fn var(setting: &'static str, name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(ConfigError::new(setting, "is not valid UTF-8").read_from(name))
        }
    }
}

type MakeSelector = fn(String) -> Result<Selector, InvalidSelector>;

/// At most one of the three `SSO_DEFAULT_*` variables, checked.
fn default_selector() -> Result<Option<Selector>, ConfigError> {
    const SETTING: &str = "default_selector";
    let kinds: [(&'static str, MakeSelector); 3] = [
        ("SSO_DEFAULT_ORGANIZATION", Selector::organization),
        ("SSO_DEFAULT_CONNECTION", Selector::connection),
        ("SSO_DEFAULT_PROVIDER", Selector::provider),
    ];
    let mut chosen: Option<(&'static str, Selector)> = None;
    for (name, make) in kinds {
        let Some(value) = var(SETTING, name)? else {
            continue;
        };
        if let Some((first, _)) = chosen {
            return Err(ConfigError::new(
                SETTING,
                "set only one of SSO_DEFAULT_ORGANIZATION, SSO_DEFAULT_CONNECTION, SSO_DEFAULT_PROVIDER",
            )
            .read_from(first));
        }
        let selector = make(value)
            .map_err(|problem| ConfigError::new(SETTING, problem.to_string()).read_from(name))?;
        chosen = Some((name, selector));
    }
    Ok(chosen.map(|(_, selector)| selector))
}

#[cfg(test)]
mod tests {
    use super::flag_value;

    #[test]
    fn sso_idp_logout_takes_true_or_false() {
        assert_eq!(flag_value("true"), Some(true));
        assert_eq!(flag_value("TRUE"), Some(true));
        assert_eq!(flag_value("0"), Some(false));
        assert_eq!(flag_value("maybe"), None);
    }
}
