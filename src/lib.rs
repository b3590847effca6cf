//! Enterprise single sign-on through [WorkOS](https://workos.com) for any Tower server (Axum,
//! Tonic, Hyper), as one layer.
//!
//! [`SsoLayer`] answers the login, callback and logout routes itself (authorization URL with
//! `state` and PKCE, code exchange, a signed JWT session cookie) and, on every other request,
//! verifies the session and puts the signed-in user's [`Profile`] in the request extensions.
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
//! Without the `axum` feature, read the profile from the extensions:
//! `request.extensions().get::<Profile>()`.
//!
//! Crypto: one backend, aws-lc-rs (what reqwest's rustls uses), for JWT signatures, PKCE
//! hashes and randomness.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod body;
mod callback;
mod client;
mod config;
mod cookie;
mod crypto;
#[cfg(feature = "axum")]
mod extract;
mod flow;
mod future;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzz_bridge;
mod layer;
mod logout;
mod profile;
mod response;
mod secret;
mod service;
mod session;
mod store;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use body::{BoxError, ResponseBody};
pub use config::{
    AccessPolicy, Clock, ConfigError, DEFAULT_API_BASE_URL, IdpInitiatedLogin, SsoConfig,
    SsoConfigBuilder,
};
#[cfg(feature = "axum")]
pub use extract::SsoRejection;
pub use flow::{InvalidSelector, Selector};
pub use future::ResponseFuture;
pub use layer::SsoLayer;
pub use profile::{Profile, Role};
pub use secret::{ApiKey, SessionSecret, Token};
pub use service::SsoService;
pub use session::{Session, SessionSource};
pub use store::{BoxFuture, MemoryStore, SessionStore, StoreError};
