//! Shared session state that must hold across instances: revoked sessions.
//!
//! The layer keeps sessions in signed cookies and needs no store to work. A store adds
//! server-side revocation: after logout, the old token is refused even if someone kept a copy.
//! [`MemoryStore`] suits one instance; implement [`SessionStore`] over Redis or a database to
//! share revocations between instances.
//!
//! A custom store only has to answer two questions. One over a shared map, say:
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use std::time::SystemTime;
//! use tower_workos_sso::store::{BoxFuture, SessionStore, StoreError};
//!
//! #[derive(Clone, Default)]
//! struct SharedMapStore(Arc<Mutex<HashMap<String, SystemTime>>>);
//!
//! impl SessionStore for SharedMapStore {
//!     fn revoke(&self, session_id: &str, until: SystemTime) -> BoxFuture<'_, Result<(), StoreError>> {
//!         let id = session_id.to_owned();
//!         Box::pin(async move {
//!             let mut map = self.0.lock().map_err(|_| StoreError::new("lock poisoned"))?;
//!             map.insert(id, until);
//!             Ok(())
//!         })
//!     }
//!
//!     fn is_revoked(&self, session_id: &str) -> BoxFuture<'_, Result<bool, StoreError>> {
//!         let id = session_id.to_owned();
//!         Box::pin(async move {
//!             let map = self.0.lock().map_err(|_| StoreError::new("lock poisoned"))?;
//!             Ok(map.get(&id).is_some_and(|until| *until > SystemTime::now()))
//!         })
//!     }
//! }
//!
//! let config = tower_workos_sso::SsoConfig::builder().session_store(SharedMapStore::default());
//! # let _ = config;
//! ```

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

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;
    use std::time::Duration;

    #[test]
    fn the_store_error_keeps_its_cause() {
        let cause = std::io::Error::new(std::io::ErrorKind::TimedOut, "redis timed out");
        let error = StoreError::new(cause);
        assert_eq!(error.to_string(), "session store: redis timed out");
        assert_eq!(error.source().unwrap().to_string(), "redis timed out");
    }

    #[test]
    fn revoked_sessions_are_remembered() {
        let store = MemoryStore::new();
        let until = SystemTime::now() + Duration::from_secs(60);
        let ready = |f: BoxFuture<'_, _>| {
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            let mut f = f;
            match f.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(v) => v,
                std::task::Poll::Pending => panic!("memory store futures are ready at once"),
            }
        };
        ready(Box::pin(async {
            store.revoke("sid-1", until).await.map(|()| false)
        }))
        .unwrap();
        assert!(ready(store.is_revoked("sid-1")).unwrap());
        assert!(!ready(store.is_revoked("sid-2")).unwrap());
    }
}
