//! The WorkOS HTTP client: the code exchange, IdP logout, the Connections API and Admin Portal
//! links, on one shared `reqwest::Client` with connect and total timeouts, a cap on how much of
//! a response is read, and one mapping of WorkOS's answers to [`WorkOsError`].
//!
//! The layer uses it for sign-in and logout; an app uses the same client for its own admin
//! pages, from the layer ([`SsoLayer::workos`](crate::SsoLayer::workos)) or on its own
//! ([`WorkOsClient::new`], [`WorkOsClient::with_api_key`]).
//!
//! ```no_run
//! use tower_workos_sso::client::{ListConnections, WorkOsClient};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let workos = WorkOsClient::with_api_key("sk_test_example", "https://api.workos.com")?;
//! let mut connections = workos.connections(ListConnections::new().organization_id("org_01ACME"));
//! while let Some(connection) = connections.next().await {
//!     let connection = connection?;
//!     println!("{} {} {:?}", connection.id, connection.connection_type, connection.state);
//! }
//! # Ok(()) }
//! ```

mod connections;
mod error;
mod hints;
mod logout;
mod portal;
mod token;

use std::time::Duration;

use http::HeaderValue;

pub use connections::{
    Connection, ConnectionDomain, ConnectionList, ConnectionOptions, ConnectionState,
    ConnectionStream, ListConnections, ListMetadata, Order,
};
pub use error::WorkOsError;
pub(crate) use hints::{idp_error_hint, log_failure};
pub use logout::LogoutAuthorization;
pub use portal::{PortalIntent, PortalLink};
pub(crate) use token::Exchanged;

use crate::config::{ConfigError, SsoConfig, default_http_client, http_client, url};
use crate::secret::ApiKey;

/// The most bytes of a WorkOS answer the crate reads; a profile or a page of 100 connections
/// is well under it.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Talks to the WorkOS API with one API key. Cheap to clone (the HTTP client is shared).
///
/// Every call has the configuration's timeouts (`workos_timeouts`, or
/// [`with_timeouts`](Self::with_timeouts)), reads at most 256 KiB of
/// the answer, never follows redirects, and sends the API key only in a header or body, never
/// in a URL. Its `Debug` output shows no key.
#[derive(Clone)]
pub struct WorkOsClient {
    http: reqwest::Client,
    base: String,
    client_id: String,
    api_key: ApiKey,
    max_body: usize,
}

impl std::fmt::Debug for WorkOsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkOsClient")
            .field("base", &self.base)
            .field("client_id", &self.client_id)
            .field("api_key", &self.api_key)
            .finish()
    }
}

impl WorkOsClient {
    /// The client of this configuration: its API key, client id, API base URL and timeouts.
    pub fn new(config: &SsoConfig) -> Self {
        Self {
            http: config.http.clone(),
            base: config.api_base_url.clone(),
            client_id: config.client_id.clone(),
            api_key: config.api_key.clone(),
            max_body: MAX_RESPONSE_BYTES,
        }
    }

    /// A client for the Connections API and Admin Portal links alone, from an API key
    /// (`sk_...`) and the API base URL (`https://api.workos.com`, or `http://localhost...`),
    /// with the default timeouts (5 s to connect, 15 s in all; see
    /// [`with_timeouts`](Self::with_timeouts)).
    pub fn with_api_key(api_key: impl Into<String>, base_url: &str) -> Result<Self, ConfigError> {
        let api_key = ApiKey::new(api_key);
        if !api_key.expose().starts_with("sk_") {
            return Err(ConfigError::new(
                "api_key",
                "must be a WorkOS secret key starting with sk_",
            ));
        }
        let base = url::parse_url("api_base_url", base_url)?;
        if !base.path.is_empty() && base.path != "/" || base.has_query {
            return Err(ConfigError::new(
                "api_base_url",
                "must be scheme://host[:port] with no path",
            ));
        }
        Ok(Self {
            http: default_http_client()?,
            base: base.origin,
            client_id: String::new(),
            api_key,
            max_body: MAX_RESPONSE_BYTES,
        })
    }

    /// The same client with its own timeouts for every call: to connect, and for the whole
    /// request (defaults 5 s and 15 s; a client from a configuration has its
    /// `workos_timeouts`). Both must be above zero, else `ConfigError` for `workos_timeouts`.
    /// The client gets an HTTP connection pool of its own.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tower_workos_sso::client::WorkOsClient;
    ///
    /// # fn main() -> Result<(), tower_workos_sso::ConfigError> {
    /// let workos = WorkOsClient::with_api_key("sk_test_example", "https://api.workos.com")?
    ///     .with_timeouts(Duration::from_secs(2), Duration::from_secs(5))?;
    /// # let _ = workos;
    /// # Ok(()) }
    /// ```
    pub fn with_timeouts(
        mut self,
        connect: Duration,
        total: Duration,
    ) -> Result<Self, ConfigError> {
        self.http = http_client((connect, total))?;
        Ok(self)
    }

    /// The API base URL, `scheme://host[:port]`.
    pub fn api_base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST path` with a JSON `body` and the API key as a bearer token: the answer's bytes.
    async fn post_json(
        &self,
        call: &'static str,
        path: &str,
        body: String,
    ) -> Result<Vec<u8>, WorkOsError> {
        let bearer = self.bearer()?;
        let url = self.url(path);
        self.send(call, || {
            self.http
                .post(&url)
                .header(http::header::AUTHORIZATION, bearer.clone())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await
    }

    /// `Authorization: Bearer <API key>`, marked sensitive so no HTTP layer prints it.
    fn bearer(&self) -> Result<HeaderValue, WorkOsError> {
        let value = zeroize::Zeroizing::new(format!("Bearer {}", self.api_key.expose()));
        let mut header = HeaderValue::from_str(&value)
            .map_err(|_| WorkOsError::InvalidInput("the API key is not a valid header value"))?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// Sends a request built by `build` and reads a 2xx answer's body. A connection that never opened is
    /// tried once more (nothing reached WorkOS); anything else is never repeated.
    async fn send(
        &self,
        call: &'static str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, WorkOsError> {
        let started = std::time::Instant::now();
        let result = self.send_once(build).await;
        let outcome = result.as_ref().map_or_else(WorkOsError::code, |_| "ok");
        crate::telemetry::workos_call(call, outcome, started.elapsed());
        result
    }

    /// [`send`](Self::send) without the metrics.
    async fn send_once(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, WorkOsError> {
        let send = || {
            build()
                .header(http::header::ACCEPT, "application/json")
                .send()
        };
        let response = match send().await {
            Err(error) if error.is_connect() && !error.is_timeout() => send().await,
            result => result,
        }
        .map_err(classify)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = self.read_capped(response).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(WorkOsError::from_answer(status, &body, retry_after))
        }
    }

    /// Reads at most `max_body` bytes; a longer answer is refused, not truncated.
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>, WorkOsError> {
        const TOO_LARGE: WorkOsError = WorkOsError::BadResponse("the response is too large");
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body as u64)
        {
            return Err(TOO_LARGE);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(TOO_LARGE);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn classify(error: reqwest::Error) -> WorkOsError {
    if error.is_timeout() {
        WorkOsError::Timeout
    } else if error.is_connect() {
        WorkOsError::Unreachable
    } else {
        // A reset mid-answer, a broken body: treat like a bad gateway.
        WorkOsError::BadResponse("the connection to WorkOS failed mid-answer")
    }
}

/// A WorkOS object id (`conn_...`, `org_...`, `prof_...`) fit for a URL path or a query:
/// letters, digits, `_` and `-`, at most 128.
fn check_id(id: &str) -> Result<&str, WorkOsError> {
    if id.len() <= 128 && url::is_token_text(id) {
        Ok(id)
    } else {
        Err(WorkOsError::InvalidInput("not a valid WorkOS id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standalone_client_needs_a_secret_key_and_a_bare_base_url() {
        let client =
            WorkOsClient::with_api_key("sk_test_abc123", "https://api.workos.com/").unwrap();
        assert_eq!(client.api_base_url(), "https://api.workos.com");
        assert!(!format!("{client:?}").contains("abc123"));
        for (key, base) in [
            ("pk_test_abc", "https://api.workos.com"),
            ("sk_test_abc", "http://api.workos.com"),
            ("sk_test_abc", "https://api.workos.com/v1"),
        ] {
            let error = WorkOsClient::with_api_key(key, base).unwrap_err();
            assert!(!error.to_string().contains("abc"), "{error}");
        }
    }

    #[test]
    fn ids_for_paths_are_checked() {
        assert!(check_id("conn_01ABC").is_ok());
        for bad in ["", "conn/../x", "conn 1", "conn?x=1", &"c".repeat(129)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
