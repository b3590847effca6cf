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
//!      kept in a short-lived signed cookie for this one login, if it names an organization,
//!      connection or provider the app admits (else a 403 page);
//!    - `GET /auth/callback` checks the `state` against that cookie, exchanges the code for the
//!      user's [`Profile`], checks that the profile is the one the login asked for, lets the
//!      app decide (see [Who may sign in](#who-may-sign-in)), and sets the session cookie (a
//!      signed JWT);
//!    - `POST /auth/logout` (same-origin only) clears it, and revokes the session in the
//!      [`store`], so no copy of it works again;
//!    - `GET /auth/session` answers who is signed in, as JSON (for single-page frontends);
//!    - `POST /auth/webhooks/workos`, only when turned on
//!      ([`SsoConfigBuilder::workos_webhooks`]), takes WorkOS's signed events and ends the
//!      sessions of a deleted or deactivated connection or a deleted organization.
//!
//!    With nothing to sign in with (no selector, no [`tenant`], no default),
//!    `/auth/login` shows the sign-in chooser, which routes an email by its domain
//!    ([`domains`]); the chooser, confirmation and error pages can be the app's ([`pages`]).
//! 2. **A public path** (see [`SsoConfigBuilder::public_paths`]: health checks, assets) passes
//!    through with no session read and nothing added; the extractors answer `500` there.
//! 3. **Every other request** has its session read (the cookie, or `Authorization: Bearer` for
//!    API and gRPC clients), verified, and checked against the revocations in the [`store`]
//!    (the layer's own in-memory one unless one is configured; see
//!    [`SsoLayer::revoke`]). A verified session puts the [`Profile`] in the request's
//!    extensions, carrying its [`Session`] ([`Profile::session`]), where handlers take them
//!    (with the `axum` feature, as extractors); whatever a client sent in its place is
//!    removed first. Requests without a session never reach the store.
//! 4. **Without a valid session**, an optional path (see
//!    [`SsoConfigBuilder::optional_paths`]) passes through anonymously. A protected one gets
//!    the answer that fits the caller, without reaching the app:
//!
//!    | caller | answer |
//!    |---|---|
//!    | a browser navigating (GET/HEAD wanting HTML) | `303` to the login, with `return_to` |
//!    | an API client (JSON, `Authorization`, XHR, any other method) | `401` with JSON and `WWW-Authenticate` |
//!    | a gRPC client (`content-type: application/grpc*`) | `200` with `grpc-status: 16` |
//! 5. **On the way out**, a session cookie past half its idle window (or signed with a retired
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
//!         let who = request.extensions().get::<Profile>().map(|p| p.email.to_string());
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
//! # Who may sign in
//!
//! Explicit, and closed by default:
//!
//! 1. **The admitted set.** A login may name only the default selector and what
//!    [`allowed_organizations`](SsoConfigBuilder::allowed_organizations),
//!    [`allowed_connections`](SsoConfigBuilder::allowed_connections) and
//!    [`allowed_providers`](SsoConfigBuilder::allowed_providers) list
//!    ([`allow_any_organization`](SsoConfigBuilder::allow_any_organization) for multi-tenant
//!    apps; `SSO_ALLOWED_*` in the environment). Anything else is refused with a 403 page
//!    before any redirect to WorkOS.
//! 2. **The profile is the flow's.** At the callback, a profile whose `organization_id`,
//!    `connection_id` or `connection_type` is not what the login asked for, or that comes from
//!    nothing admitted, gets no session (a generic 403 page).
//! 3. **The app decides.** The shortcuts ([`allowed_email_domains`](SsoConfigBuilder::allowed_email_domains),
//!    [`allowed_connection_types`](SsoConfigBuilder::allowed_connection_types),
//!    [`allowed_groups`](SsoConfigBuilder::allowed_groups),
//!    [`allowed_roles`](SsoConfigBuilder::allowed_roles)) and then the
//!    [`authorize`](SsoConfigBuilder::authorize) hook see the full [`SignIn`] (every group,
//!    `raw_attributes`, the provider's [`OAuthTokens`]) and answer a [`Decision`]: allow, with
//!    [`Claims`] for the session, or deny with a reason shown on a 403 page.
//! 4. **The session fits.** Custom attributes, then groups, are dropped when the session would
//!    not fit in a cookie (unless the hook chose what to keep), and [`Session::trimmed`] says
//!    so; a session that still does not fit is refused (502).
//!
//! Every refused sign-in is one `tracing` event under the target `tower_workos_sso::audit`
//! (INFO, or WARN where it hints at an attack or a fault), with `reason` one of
//! `not_admitted`, `flow_mismatch`, `denied`, `hook_failed`, `too_large`; `rule` (which
//! shortcut, `hook`, or how the hook failed); and `organization_id`, `connection_id`,
//! `provider`, `profile_id`, `asked` where known. Never an email, token, code or cookie.
//!
//! Crypto: one backend, aws-lc-rs (what reqwest's rustls uses), for JWT signatures, PKCE
//! hashes and randomness.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules form layers, each using only layers below it: `src/layering.rs` holds their order
// and checks every `crate::` path against it (leaves first here, then the rest).
pub mod body;
mod claims;
mod cookie;
mod crypto;
pub mod domains;
pub mod pages;
mod profile;
mod response;
mod secret;
mod selector;
pub mod store;
mod telemetry;
pub mod tenant;
mod time;
mod token;

mod admission;
mod authorization;
pub mod client;
mod config;
mod core;
mod directory;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;
#[cfg(feature = "axum")]
mod extract_tenant;
mod flow;
pub mod future;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzz_bridge;
pub mod guard;
mod layer;
mod limit;
mod path;
mod policy;
mod revocation;
mod routes;
mod service;
mod session;
mod session_info;
mod shared_str;
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;
mod webhook;

pub use authorization::{Claims, Decision, OAuthTokens, SignIn};
pub use config::{
    AccessPolicy, AuthorizationParams, ConfigError, IdpInitiatedLogin, Prompt, SsoConfig,
    SsoConfigBuilder,
};
pub use guard::Guard;
pub use layer::SsoLayer;
pub use profile::{Profile, ProfileFields, Role};
pub use secret::{OAuthAccessToken, OAuthRefreshToken, Token};
pub use selector::{InvalidSelector, Selector};
pub use service::SsoService;
pub use session::{Session, SessionSource};
pub use shared_str::SharedStr;
pub use tenant::{Tenant, TenantResolver};

#[cfg(test)]
mod layering;
