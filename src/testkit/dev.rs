//! The examples' start-up: the real WorkOS when credentials are set, else the fake.

use std::error::Error;

use super::MockWorkOs;
use crate::crypto;
use crate::{Selector, SsoConfig, SsoConfigBuilder};

/// A configuration ready for local development, and the fake WorkOS behind it if one was started.
///
/// With `WORKOS_API_KEY` and `WORKOS_CLIENT_ID` set, the configuration comes from the
/// environment ([`SsoConfig::builder_from_env`]) and talks to the real WorkOS; otherwise a
/// [`MockWorkOs`] is started and the configuration points at it, with Acme's organization as the
/// default selector (unless an `SSO_DEFAULT_*` variable names another, or `SSO_CHOOSER=1` asks
/// for none, so that `/auth/login` shows the sign-in chooser); like any default, it is the one
/// selector admitted unless the app admits more. Either way a missing
/// `WORKOS_REDIRECT_URI` defaults to `redirect_uri` and a missing `SSO_SESSION_SECRET` is replaced by a random one that lives as long as the process
/// (sessions end at restart): both are said in [`notes`](Self::notes).
#[derive(Debug)]
pub struct DevSetup {
    /// The configuration, to adjust and build.
    pub builder: SsoConfigBuilder,
    /// The fake WorkOS, when no credentials were set. Keep it alive as long as the server.
    pub fake: Option<MockWorkOs>,
    /// What was chosen for the developer, one line each, to print at start-up.
    pub notes: Vec<String>,
}

impl DevSetup {
    /// Reads the environment and starts the fake if needed (inside a Tokio runtime).
    pub async fn from_env_or_fake(redirect_uri: &str) -> Result<DevSetup, Box<dyn Error>> {
        let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
        let mut notes = Vec::new();
        let (mut builder, fake) = if set("WORKOS_API_KEY") && set("WORKOS_CLIENT_ID") {
            notes.push("Using the real WorkOS API (WORKOS_API_KEY is set).".to_owned());
            (SsoConfig::builder_from_env()?, None)
        } else {
            let fake = MockWorkOs::start().await?;
            notes.push(format!(
                "No WORKOS_API_KEY/WORKOS_CLIENT_ID set: using the built-in fake WorkOS at {}.",
                fake.base_url()
            ));
            let mut builder = SsoConfig::builder_from_env()?
                .api_key(fake.api_key())
                .client_id(fake.client_id())
                .api_base_url(fake.base_url());
            let chooser = std::env::var("SSO_CHOOSER").is_ok_and(|v| v.trim() == "1");
            if chooser {
                notes.push(
                    "SSO_CHOOSER=1: no default organization; /auth/login shows the sign-in chooser."
                        .to_owned(),
                );
            } else if ![
                "SSO_DEFAULT_ORGANIZATION",
                "SSO_DEFAULT_CONNECTION",
                "SSO_DEFAULT_PROVIDER",
            ]
            .iter()
            .any(|name| set(name))
            {
                builder = builder.default_selector(Selector::organization("org_01ACME")?);
            }
            (builder, Some(fake))
        };
        if !set("WORKOS_REDIRECT_URI") {
            builder = builder.redirect_uri(redirect_uri);
        }
        if !set("SSO_SESSION_SECRET") {
            builder = builder.session_secret(crypto::random_token(48).into_bytes());
            notes.push(
                "No SSO_SESSION_SECRET set: generated an ephemeral one (sessions end when the server stops)."
                    .to_owned(),
            );
        }
        Ok(DevSetup {
            builder,
            fake,
            notes,
        })
    }
}
