//! `ConfigError`: which setting is wrong, by its builder method and its environment variable.

use std::fmt;

/// A configuration that failed validation. It names the setting, never its value.
///
/// ```
/// use tower_workos_sso::SsoConfig;
///
/// let error = SsoConfig::builder().build().unwrap_err();
/// assert_eq!(error.setting(), "api_key");
/// assert_eq!(error.env_var(), Some("WORKOS_API_KEY"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: &'static str,
    env_var: Option<&'static str>,
    problem: String,
}

/// Builder methods and the environment variables [`SsoConfig::from_env`](crate::SsoConfig::from_env)
/// reads for them. A setting missing here has no variable.
const ENV_VARS: &[(&str, &str)] = &[
    ("api_key", "WORKOS_API_KEY"),
    ("client_id", "WORKOS_CLIENT_ID"),
    ("redirect_uri", "WORKOS_REDIRECT_URI"),
    ("api_base_url", "WORKOS_API_BASE_URL"),
    ("session_secret", "SSO_SESSION_SECRET"),
    ("previous_session_secret", "SSO_PREVIOUS_SESSION_SECRETS"),
    ("public_paths", "SSO_PUBLIC_PATHS"),
    ("optional_paths", "SSO_OPTIONAL_PATHS"),
    ("allowed_organizations", "SSO_ALLOWED_ORGANIZATIONS"),
    ("allowed_connections", "SSO_ALLOWED_CONNECTIONS"),
    ("allowed_providers", "SSO_ALLOWED_PROVIDERS"),
];

impl ConfigError {
    /// An error about `setting` (a builder method's name), with the variable it is read from.
    pub(crate) fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        let env_var = ENV_VARS
            .iter()
            .find(|(method, _)| *method == setting)
            .map(|(_, var)| *var);
        Self {
            setting,
            env_var,
            problem: problem.into(),
        }
    }

    /// The same error, naming the environment variable the value came from.
    pub(crate) fn read_from(mut self, var: &'static str) -> Self {
        self.env_var = Some(var);
        self
    }

    /// The builder method of the setting that is missing or invalid, e.g. `"redirect_uri"`.
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// The environment variable of that setting, e.g. `"WORKOS_REDIRECT_URI"`, if it has one.
    pub fn env_var(&self) -> Option<&'static str> {
        self.env_var
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SSO configuration: {}", self.setting)?;
        if let Some(var) = self.env_var {
            write!(f, " ({var})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_the_method_and_the_variable() {
        let error = ConfigError::new("redirect_uri", "is required");
        assert_eq!(error.env_var(), Some("WORKOS_REDIRECT_URI"));
        assert_eq!(
            error.to_string(),
            "SSO configuration: redirect_uri (WORKOS_REDIRECT_URI): is required"
        );
        let plain = ConfigError::new("cookie_name", "bad");
        assert_eq!(plain.env_var(), None);
        assert_eq!(plain.to_string(), "SSO configuration: cookie_name: bad");
    }
}
