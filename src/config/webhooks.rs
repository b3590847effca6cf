//! The settings of the WorkOS webhook route: off unless an endpoint secret is given; its path,
//! how far a signature's timestamp may be from now, and how large a body may be.

use std::fmt;
use std::time::Duration;

use zeroize::Zeroizing;

use super::url::is_path_text;
use super::{ConfigError, SsoConfigBuilder};

/// The webhook endpoint's secret, as WorkOS shows it: kept zeroized, never printed.
#[derive(Clone)]
pub(crate) struct WebhookSecret(Zeroizing<Vec<u8>>);

impl WebhookSecret {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// The webhook route as the builder collects it.
#[derive(Clone, Debug)]
pub(crate) struct WebhookSettings {
    secret: Option<WebhookSecret>,
    /// `None`: `{base_path}/webhooks/workos`.
    path: Option<String>,
    tolerance: Duration,
    max_body: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            secret: None,
            path: None,
            // What WorkOS's own SDKs allow.
            tolerance: Duration::from_secs(180),
            max_body: 64 * 1024,
        }
    }
}

/// The webhook route as the layer uses it, once checked.
#[derive(Clone, Debug)]
pub(crate) struct Webhooks {
    pub(crate) secret: WebhookSecret,
    pub(crate) path: String,
    pub(crate) tolerance: Duration,
    pub(crate) max_body: usize,
}

impl WebhookSettings {
    /// The route, if a secret was given; checks the path, tolerance and size bound.
    pub(super) fn build(self, base_path: &str) -> Result<Option<Webhooks>, ConfigError> {
        let Some(secret) = self.secret else {
            return Ok(None);
        };
        if secret.bytes().is_empty() {
            return Err(ConfigError::new("workos_webhooks", "the secret is empty"));
        }
        let path = self
            .path
            .unwrap_or_else(|| format!("{base_path}/webhooks/workos"));
        let taken = ["login", "callback", "logout", "session"]
            .iter()
            .any(|route| path == format!("{base_path}/{route}"));
        if !path.starts_with('/') || !is_path_text(&path) || path.contains('*') || taken {
            return Err(ConfigError::new(
                "webhook_path",
                "must be a path of its own such as /auth/webhooks/workos",
            ));
        }
        if self.tolerance.is_zero() || self.max_body == 0 || self.max_body > 1024 * 1024 {
            return Err(ConfigError::new(
                "webhook_limits",
                "the tolerance must be above zero and the body bound between 1 byte and 1 MiB",
            ));
        }
        Ok(Some(Webhooks {
            secret,
            path,
            tolerance: self.tolerance,
            max_body: self.max_body,
        }))
    }
}

impl SsoConfigBuilder {
    /// Turns on the WorkOS webhook route (off by default) with the endpoint's secret, as the
    /// WorkOS dashboard shows it: `POST {base_path}/webhooks/workos` (see
    /// [`webhook_path`](Self::webhook_path)) checks the `WorkOS-Signature` header and ends
    /// every session of a connection deactivated or deleted, or of an organization deleted,
    /// through the store. Register that URL as a webhook endpoint in WorkOS.
    pub fn workos_webhooks(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.webhooks.secret = Some(WebhookSecret(Zeroizing::new(secret.into())));
        self
    }

    /// The webhook route's path. Default `{base_path}/webhooks/workos`.
    pub fn webhook_path(mut self, path: impl Into<String>) -> Self {
        self.webhooks.path = Some(path.into());
        self
    }

    /// How far a signature's timestamp may be from now, either way (default 3 minutes), and
    /// the largest body read (default 64 KiB, at most 1 MiB).
    pub fn webhook_limits(mut self, tolerance: Duration, max_body: usize) -> Self {
        self.webhooks.tolerance = tolerance;
        self.webhooks.max_body = max_body;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{setting_of, valid};

    #[test]
    fn the_route_is_off_by_default_and_checked_when_on() {
        assert!(valid().build().unwrap().webhooks.is_none());
        let config = valid().workos_webhooks("whsec_test").build().unwrap();
        let webhooks = config.webhooks.unwrap();
        assert_eq!(webhooks.path, "/auth/webhooks/workos");
        assert_eq!(format!("{webhooks:?}").matches("whsec_test").count(), 0);
        assert_eq!(setting_of(valid().workos_webhooks("")), "workos_webhooks");
        for path in ["hooks", "/auth/callback", "/a/*", "/a b"] {
            let builder = valid().workos_webhooks("s").webhook_path(path);
            assert_eq!(setting_of(builder), "webhook_path", "{path}");
        }
        let zero = valid()
            .workos_webhooks("s")
            .webhook_limits(Duration::ZERO, 10);
        assert_eq!(setting_of(zero), "webhook_limits");
        let huge = valid()
            .workos_webhooks("s")
            .webhook_limits(Duration::from_secs(1), 2 << 20);
        assert_eq!(setting_of(huge), "webhook_limits");
    }
}
