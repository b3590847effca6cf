//! SECURITY.md A1, A2, A3, A6: who may sign in. The admitted set refuses logins before any
//! redirect to WorkOS, a profile must be the one its flow asked for, the shortcuts and the
//! app's hook decide on the full profile, and what does not fit in the cookie is trimmed
//! visibly or refused. Over real HTTP, against the testkit fake.

mod app;
mod authorize;
mod binding;
mod config;
mod large;
mod login;
