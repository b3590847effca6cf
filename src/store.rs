//! Shared session state that must hold across instances: revoked sessions.
//!
//! The layer keeps sessions in signed cookies and needs no store to work. A store adds
//! server-side revocation: after logout, the old token is refused even if someone kept a copy.
//! [`MemoryStore`] suits one instance; implement [`SessionStore`] over Redis or a database to
//! share revocations between instances.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::SystemTime;

/// A boxed future, as the store's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A store's failure. The layer fails closed on it: the request is refused, never let through.
#[derive(Debug)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps the store's own error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Where revoked session ids live until their tokens would have expired anyway.
pub trait SessionStore: Send + Sync + 'static {
    /// Records that the session `session_id` is over; keep the record until `until`.
    fn revoke(&self, session_id: &str, until: SystemTime) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Whether `session_id` was revoked.
    fn is_revoked(&self, session_id: &str) -> BoxFuture<'_, Result<bool, StoreError>>;
}

/// An in-memory [`SessionStore`] for a single instance. Records are dropped once expired.
#[derive(Debug, Default)]
pub struct MemoryStore {
    revoked: Mutex<HashMap<String, SystemTime>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SessionStore for MemoryStore {
    fn revoke(&self, session_id: &str, until: SystemTime) -> BoxFuture<'_, Result<(), StoreError>> {
        let result = self
            .revoked
            .lock()
            .map(|mut revoked| {
                let now = SystemTime::now();
                revoked.retain(|_, until| *until > now);
                revoked.insert(session_id.to_owned(), until);
            })
            .map_err(|_| StoreError::new("memory store lock poisoned"));
        Box::pin(std::future::ready(result))
    }

    fn is_revoked(&self, session_id: &str) -> BoxFuture<'_, Result<bool, StoreError>> {
        let result = self
            .revoked
            .lock()
            .map(|revoked| revoked.contains_key(session_id))
            .map_err(|_| StoreError::new("memory store lock poisoned"));
        Box::pin(std::future::ready(result))
    }
}
