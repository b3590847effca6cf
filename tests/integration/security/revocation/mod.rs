//! SECURITY.md V1-V3: revocation lasts. Logging out ends every token of the session until its
//! absolute end; revoking a user, an organization or a connection ends every session signed in
//! before; minted bearer tokens are never renewed and never pass as the session cookie.

mod app;
mod logout;
mod minted;
mod scopes;
#[cfg(feature = "redis")]
mod shared_store;
mod webhooks;
