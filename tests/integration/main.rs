//! Integration tests: the real layer in an axum app over HTTP on 127.0.0.1, the testkit fake
//! standing in for WorkOS, and a cookie-keeping client.

mod admission;
mod concurrency;
mod failures;
mod forge;
mod grpc;
mod guards;
mod harness;
mod hyper_login;
mod login;
mod policy;
mod security_config;
mod security_flow;
mod security_redirect;
mod security_token;
mod security_workos;
mod session;
