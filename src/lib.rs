//! Enterprise single sign-on through [WorkOS](https://workos.com) for any Tower server (Axum,
//! Tonic, Hyper), as one layer.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use tower_workos_sso::{Profile, SsoConfig, SsoLayer};
//!
//! async fn home(profile: Profile) -> String {
//!     format!("hello {}", profile.email)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sso = SsoLayer::new(SsoConfig::from_env()?);
//! let app: Router = Router::new().route("/", get(home)).layer(sso);
//! # Ok(()) }
//! ```
//!
//! # How a request flows
//!
//! [`SsoLayer`] wraps the app's service in an [`SsoService`]. For each request it first looks at
//! the path:
//!
//! 1. **The SSO routes** (under one base path, `/auth` by default) are answered by the layer
//!    itself and never reach the app:
//!    - `GET /auth/login` sends the browser to WorkOS with a fresh `state` and PKCE challenge,
//!      kept in a short-lived signed cookie for this one login;
//!    - `GET /auth/callback` checks the `state` against that cookie, exchanges the code for the
//!      user's [`Profile`], and sets the session cookie (a signed JWT);
//!    - `POST /auth/logout` (same-origin only) clears it, and revokes it in the
//!      [`store`] when one is configured.
//! 2. **Every other request** has its session read (the cookie, or `Authorization: Bearer` for
//!    API and gRPC clients) and verified. A verified session puts the [`Profile`] and the
//!    [`Session`] in the request's extensions, where handlers take them (with the `axum`
//!    feature, as extractors); whatever a client sent in their place is removed first.
//! 3. **Without a valid session**, a public path (see
//!    [`SsoConfigBuilder::public_paths`]) passes through anonymously. A protected one gets the
//!    answer that fits the caller, without reaching the app:
//!
//!    | caller | answer |
//!    |---|---|
//!    | a browser navigating (GET/HEAD wanting HTML) | `303` to the login, with `return_to` |
//!    | an API client (JSON, `Authorization`, XHR, any other method) | `401` with JSON and `WWW-Authenticate` |
//!    | a gRPC client (`content-type: application/grpc*`) | `200` with `grpc-status: 16` |
//! 4. **On the way out**, a session cookie past half its idle window (or signed with a retired
//!    key) is renewed with one `Set-Cookie`; every other response is the app's, untouched.
//!
//! The same flow, in process:
//!
//! ```
//! use http::{Request, Response, StatusCode, header};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//! use tower_workos_sso::{Profile, SsoConfig, SsoLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SsoConfig::builder()
//!     .api_key("sk_test_example")
//!     .client_id("client_example")
//!     .redirect_uri("https://app.example.com/auth/callback")
//!     .session_secret(*b"an example secret of at least 32 bytes")
//!     .build()?;
//! let app = ServiceBuilder::new()
//!     .layer(SsoLayer::new(config))
//!     .service(service_fn(|request: Request<String>| async move {
//!         let who = request.extensions().get::<Profile>().map(|p| p.email.clone());
//!         Ok::<_, std::convert::Infallible>(Response::new(who.unwrap_or_default()))
//!     }));
//!
//! // A browser without a session is sent to sign in, and comes back here afterwards.
//! let browser = Request::get("/reports?week=1")
//!     .header(header::ACCEPT, "text/html")
//!     .body(String::new())?;
//! let response = app.clone().oneshot(browser).await?;
//! assert_eq!(response.status(), StatusCode::SEE_OTHER);
//! assert_eq!(
//!     response.headers()[header::LOCATION],
//!     "/auth/login?return_to=%2Freports%3Fweek%3D1"
//! );
//!
//! // An API client gets a 401 instead.
//! let api = Request::get("/reports").body(String::new())?;
//! assert_eq!(app.oneshot(api).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(()) }
//! ```
//!
//! Without the `axum` feature, read the profile from the extensions:
//! `request.extensions().get::<Profile>()`.
//!
//! Crypto: one backend, aws-lc-rs (what reqwest's rustls uses), for JWT signatures, PKCE
//! hashes and randomness.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules in layers, lowest first: each uses only modules listed before it (the
// `layering` test below holds the list and checks every `crate::` path against it).
pub mod body;
mod cookie;
mod crypto;
mod profile;
mod response;
mod secret;
mod selector;
pub mod store;
mod time;
mod token;

mod authorization;
mod client;
mod config;
mod core;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;
mod flow;
pub mod future;
pub mod guard;
mod layer;
mod policy;
mod routes;
mod service;
mod session;
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

pub use authorization::{Claims, Decision, OAuthTokens, SignIn};
pub use config::{AccessPolicy, ConfigError, IdpInitiatedLogin, SsoConfig, SsoConfigBuilder};
pub use guard::Guard;
pub use layer::SsoLayer;
pub use profile::{Profile, Role};
pub use secret::{OAuthAccessToken, OAuthRefreshToken, Token};
pub use selector::{InvalidSelector, Selector};
pub use service::SsoService;
pub use session::{Session, SessionSource};

#[cfg(test)]
mod layering;
