//! The layer as users and clients meet it: logins, sessions, the access policy, error
//! callbacks, and many logins through one app at once.

mod access_policy;
mod chooser;
mod concurrent_logins;
mod error_callbacks;
mod login;
mod pages;
mod session;
mod session_endpoint;
mod tenants;
