//! `POST /portal/generate_link`: a short-lived Admin Portal link with which a customer's IT
//! admin sets up their organization's own SSO connection.

use std::fmt;

use serde::Deserialize;

use super::{WorkOsClient, WorkOsError, check_id};
use crate::config::url::parse_url;

/// What the Admin Portal session is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortalIntent {
    /// Set up or change the organization's SSO connection (`sso`).
    Sso,
}

impl PortalIntent {
    fn as_str(self) -> &'static str {
        match self {
            PortalIntent::Sso => "sso",
        }
    }
}

/// An Admin Portal link. Whoever holds it can configure the organization's SSO until it
/// expires (minutes), so `Debug` does not show it.
#[derive(Clone, Deserialize)]
pub struct PortalLink {
    link: String,
}

impl PortalLink {
    /// The URL to send the organization's IT admin to. Do not log it.
    pub fn url(&self) -> &str {
        &self.link
    }
}

impl fmt::Debug for PortalLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PortalLink(<redacted>)")
    }
}

impl WorkOsClient {
    /// Generates an Admin Portal link for `organization` (`org_...`). `return_url` is where the
    /// portal's "back" link goes: an absolute `https` URL (`http` on localhost).
    ///
    /// ```no_run
    /// use tower_workos_sso::client::{PortalIntent, WorkOsClient};
    ///
    /// # async fn run(workos: WorkOsClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let link = workos
    ///     .generate_portal_link("org_01ACME", PortalIntent::Sso, Some("https://app.example.com/admin"))
    ///     .await?;
    /// let _redirect_to = link.url();
    /// # Ok(()) }
    /// ```
    pub async fn generate_portal_link(
        &self,
        organization: &str,
        intent: PortalIntent,
        return_url: Option<&str>,
    ) -> Result<PortalLink, WorkOsError> {
        let mut body = serde_json::json!({
            "organization": check_id(organization)?,
            "intent": intent.as_str(),
        });
        if let Some(url) = return_url {
            parse_url("return_url", url)
                .map_err(|_| WorkOsError::InvalidInput("return_url is not an https URL"))?;
            body["return_url"] = url.into();
        }
        let body = body.to_string();
        let answer = self
            .post_json("portal_link", "/portal/generate_link", body)
            .await?;
        serde_json::from_slice(&answer)
            .map_err(|_| WorkOsError::BadResponse("the portal answer is not the expected JSON"))
    }
}
