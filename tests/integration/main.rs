//! Integration tests: the real layer in an axum app over HTTP on 127.0.0.1, the testkit fake
//! standing in for WorkOS, and a cookie-keeping client. One binary, grouped by topic:
//!
//! - `flows`: what users and clients see: logins, sessions, the access policy, error callbacks,
//!   many logins at once.
//! - `frameworks`: the layer on other servers: Tonic gRPC (and gRPC-web), plain Hyper.
//! - `security`: one module per part of SECURITY.md, each test named after its row.
//! - `support`: the test app and browser (`harness`) and the attacker's tools (`forge`).

mod flows;
mod frameworks;
mod security;
mod support;
