//! Integration tests: the real layer in an axum app over HTTP on 127.0.0.1, the testkit fake
//! standing in for WorkOS, and a cookie-keeping client.

mod failures;
mod grpc;
mod harness;
mod hyper_login;
mod login;
mod policy;
mod session;
