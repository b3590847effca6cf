//! Integration tests: the real layer in an axum app over HTTP on 127.0.0.1, the testkit fake
//! standing in for WorkOS, and a cookie-keeping client. One binary, grouped by topic:
//!
//! - `flows`: what users and clients see: logins, sessions, the access policy, error callbacks,
//!   many logins at once.
//! - `frameworks`: the layer on other servers: Tonic gRPC (and gRPC-web), plain Hyper.
//! - `security`: the properties of SECURITY.md, a file per topic, each test named after its row.
//! - `sso_api`: IdP logout, the Connections API, Admin Portal links, step-up re-authentication,
//!   authorization parameters.
//! - `support`: the test app and browser (`harness`), the attacker's tools (`forge`), and what a
//!   refused callback looks like (`callback`).

mod flows;
mod frameworks;
mod security;
mod sso_api;
mod support;
