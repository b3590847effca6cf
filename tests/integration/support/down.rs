//! A session store that is down: every call fails, as a store whose server is unreachable does.

use std::time::SystemTime;

use tower_workos_sso::store::{BoxFuture, Revocation, SessionRef, SessionStore, StoreError};

/// A store that is down: every call fails.
pub struct Down;

/// The error every call of [`Down`] answers.
fn refused<T: Send + 'static>() -> BoxFuture<'static, Result<T, StoreError>> {
    Box::pin(std::future::ready(Err(StoreError::new(
        "connection refused",
    ))))
}

impl SessionStore for Down {
    fn revoke(
        &self,
        _: Revocation,
        _: SystemTime,
        _: SystemTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        refused()
    }

    fn is_revoked(&self, _: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
        refused()
    }

    fn consume_login_state(
        &self,
        _: &str,
        _: SystemTime,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        refused()
    }
}
