//! An in-process fake of the WorkOS SSO API, for tests and the examples.
//!
//! [`MockWorkOs`] is a real HTTP server on `127.0.0.1` that speaks the parts of the WorkOS API this
//! crate uses: `GET /sso/authorize` (with a clickable test sign-in page), `POST /sso/token`,
//! `GET /sso/profile`, IdP logout (`POST /sso/logout/authorize`, `GET /sso/logout`, for
//! `GenericOIDC` connections as WorkOS), the Connections API (`GET /connections` with filters,
//! `domain` among them, and cursor pages, `GET`/`DELETE /connections/{id}`), `GET
//! /organizations` (filter `domains`, what domain routing may ask) and `POST
//! /portal/generate_link`; all but the Logout Redirect want `Authorization: Bearer <API key>`.
//! It knows a few seeded organizations, connections (with their domains) and users ([`Seed`]),
//! checks client credentials, single-use codes, code lifetimes and PKCE as WorkOS does, and can be
//! told to misbehave per endpoint ([`Fault`]) to test error handling. It records each authorize
//! request's query as it arrived ([`MockWorkOs::authorize_requests`]) and the organization of
//! each portal link request ([`MockWorkOs::portal_requests`]). It also delivers signed
//! webhook events to an app ([`MockWorkOs::send_webhook`], [`WebhookEvent`]).
//!
//! Point the crate at it with [`MockWorkOs::base_url`], [`MockWorkOs::client_id`] and
//! [`MockWorkOs::api_key`]. Anyone can sign in as anyone: never use it outside development.
//!
//! ```
//! use tower_workos_sso::testkit::{Endpoint, MockWorkOs};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     let workos = MockWorkOs::start().await?;
//!     // An IdP-initiated login for a seeded user, as if Alice clicked a tile in Okta.
//!     let code = workos
//!         .issue_code("alice@example.com", "http://localhost:3000/auth/callback", None)
//!         .expect("alice is seeded");
//!     let body = serde_json::json!({
//!         "client_id": workos.client_id(),
//!         "client_secret": workos.api_key(),
//!         "grant_type": "authorization_code",
//!         "code": code,
//!     });
//!     let response = reqwest::Client::new()
//!         .post(format!("{}/sso/token", workos.base_url()))
//!         .header("content-type", "application/json")
//!         .body(body.to_string())
//!         .send()
//!         .await?;
//!     assert_eq!(response.status(), 200);
//!     assert_eq!(workos.requests(Endpoint::Token), 1);
//!     Ok(())
//! })
//! # }
//! ```

mod api;
mod authorize;
mod connections;
mod dev;
mod directory;
mod fault;
mod logout;
mod page;
mod portal;
mod recorded;
mod reply;
mod request;
mod routes;
mod seed;
mod state;
#[cfg(test)]
mod tests;
mod token;
mod webhooks;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use std::{fmt, io};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub use dev::DevSetup;
pub use recorded::{AuthorizeRequest, PortalRequest};
pub use seed::{Seed, SeedConnection, SeedUser};
use state::Shared;
pub use webhooks::WebhookEvent;

/// A fake WorkOS API server running on `127.0.0.1` on a free port.
///
/// Dropping it stops the server and closes every open connection. It is `Send + Sync`: share it
/// between tasks behind an `Arc` or by reference.
pub struct MockWorkOs {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl MockWorkOs {
    /// Starts a fake with the [default seed](Seed::default) on the current Tokio runtime.
    pub async fn start() -> io::Result<MockWorkOs> {
        Self::start_with(Seed::default()).await
    }

    /// Starts a fake with the given seed on the current Tokio runtime.
    ///
    /// The port is bound before this returns, so requests can be sent right away.
    pub async fn start_with(seed: Seed) -> io::Result<MockWorkOs> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(seed));
        let server = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(MockWorkOs {
            addr,
            shared,
            server,
        })
    }

    /// The base URL of the fake API, such as `http://127.0.0.1:41234` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The client id the fake expects (from the seed).
    pub fn client_id(&self) -> &str {
        &self.shared.seed.client_id
    }

    /// The API key the fake expects as `client_secret` (from the seed; a fake `sk_test_...` value).
    pub fn api_key(&self) -> &str {
        &self.shared.seed.api_key
    }

    /// Makes `endpoint` misbehave with `fault` from now on, until cleared with `None`.
    ///
    /// The fault for [`Endpoint::Authorize`] also applies to the approve step of the sign-in page.
    pub fn set_fault(&self, endpoint: Endpoint, fault: Option<Fault>) {
        self.shared.set_fault(endpoint, fault);
    }

    /// How many requests reached `endpoint` so far, counting those answered by a fault.
    ///
    /// Clicks on the sign-in page (the approve step) count as [`Endpoint::Authorize`] requests.
    pub fn requests(&self, endpoint: Endpoint) -> usize {
        self.shared.requests(endpoint)
    }

    /// Issues a code directly for a seeded email, as an IdP-initiated login would (no state involved).
    ///
    /// `code_challenge` binds it to a PKCE verifier (S256) like an SP-initiated flow would.
    /// Returns `None` if the email (compared case-insensitively) is unknown. The WorkOS token
    /// endpoint does not check the redirect URI, so neither does the fake; it is taken so that
    /// call sites read like the real flow.
    pub fn issue_code(
        &self,
        email: &str,
        redirect_uri: &str,
        code_challenge: Option<&str>,
    ) -> Option<String> {
        let _ = redirect_uri;
        let seed = &self.shared.seed;
        let everywhere: Vec<usize> = (0..seed.connections.len()).collect();
        let user = seed.find_by_email(&everywhere, email)?;
        self.shared
            .issue_code(user, code_challenge.map(str::to_owned))
    }

    /// Every `GET /sso/authorize` the fake received, oldest first (the last 1 000), each with
    /// its query as sent and decoded: how `provider_scopes`, `provider_query_params`, `nonce`
    /// and `prompt` reached WorkOS. Requests answered by a fault count too; the sign-in page's
    /// approve step does not.
    pub fn authorize_requests(&self) -> Vec<AuthorizeRequest> {
        state::lock(&self.shared.api.authorize_requests)
            .iter()
            .cloned()
            .collect()
    }

    /// Every well-formed `POST /portal/generate_link` the fake received, oldest first (the
    /// last 1 000): which organization, intent and return URL each asked for. Requests answered
    /// by a fault never reach the handler and are not recorded.
    pub fn portal_requests(&self) -> Vec<PortalRequest> {
        state::lock(&self.shared.api.portal_requests)
            .iter()
            .cloned()
            .collect()
    }

    /// The profile ids whose IdP session ended through the Logout Redirect, oldest first.
    pub fn idp_logouts(&self) -> Vec<String> {
        state::lock(&self.shared.api.logged_out).clone()
    }

    /// Where the Logout Redirect sends the browser once the IdP session ended (the "Logout
    /// redirect" of the WorkOS dashboard). Default: none, a small page says it is done.
    pub fn set_logout_redirect(&self, url: Option<&str>) {
        *state::lock(&self.shared.api.logout_redirect) = url.map(str::to_owned);
    }

    /// Makes issued codes expire after this long (default 10 minutes, as WorkOS).
    ///
    /// The lifetime is checked when a code is exchanged, so it also applies to codes already
    /// issued: `Duration::ZERO` makes every outstanding code expired.
    pub fn set_code_lifetime(&self, lifetime: Duration) {
        self.shared.store().codes.set_lifetime(lifetime);
    }
}

impl fmt::Debug for MockWorkOs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockWorkOs")
            .field("base_url", &self.base_url())
            .field("client_id", &self.client_id())
            .finish_non_exhaustive()
    }
}

impl Drop for MockWorkOs {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.server.abort();
    }
}

/// An endpoint of the fake, for [`MockWorkOs::set_fault`] and [`MockWorkOs::requests`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /sso/authorize` and the approve step of its sign-in page.
    Authorize,
    /// `POST /sso/token`, the code exchange.
    Token,
    /// `GET /sso/profile`.
    Profile,
    /// `POST /sso/logout/authorize`.
    LogoutAuthorize,
    /// `GET /sso/logout`, the Logout Redirect.
    Logout,
    /// `GET /connections` (filters `domain`, `organization_id`, `connection_type`), `GET` and
    /// `DELETE /connections/{id}`.
    Connections,
    /// `POST /portal/generate_link`.
    Portal,
    /// `GET /organizations`, the list (filter `domains`).
    Organizations,
}

/// A way for an endpoint to misbehave, set with [`MockWorkOs::set_fault`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status, extra headers and body instead of the real answer.
    ///
    /// The content type is `application/json` unless `headers` sets one. A status that is not a
    /// valid final status (outside 200..=999) is served as 500; invalid headers are skipped.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Extra response headers, as (name, value) pairs.
        headers: Vec<(String, String)>,
        /// The response body.
        body: String,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Accept the request and never answer (the connection stays open until the mock is dropped).
    Hang,
    /// Answer 200 with these raw bytes as the body (malformed JSON, a huge body...), content type
    /// `application/json`.
    Body(Vec<u8>),
    /// Answer a normally-validated token request with 200 and this JSON value as the `profile`
    /// field (tests of lenient parsing: missing optional fields, unknown `connection_type`).
    ///
    /// Only meaningful for [`Endpoint::Token`]; ignored elsewhere. `GET /sso/profile` keeps
    /// returning the seeded profile.
    Profile(serde_json::Value),
}

impl Fault {
    /// A [`Fault::Status`] with this status, no extra headers and a WorkOS-style JSON error body
    /// (`{"error":"server_error","error_description":...}`).
    pub fn status(status: u16) -> Fault {
        let body = serde_json::json!({
            "error": "server_error",
            "error_description": format!("MockWorkOs fault: status {status}"),
        });
        Fault::Status {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }
}

/// Accepts connections until aborted; each connection is served by a task in a JoinSet so that
/// dropping the loop closes them all.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                Err(error) => tracing::debug!(%error, "MockWorkOs: accept failed"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serves HTTP/1.1 requests on one connection.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let service = service_fn(move |request| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, std::convert::Infallible>(routes::handle(&shared, request).await) }
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    if let Err(error) = connection.await {
        tracing::debug!(%error, "MockWorkOs: connection ended with an error");
    }
}
