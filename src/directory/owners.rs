//! Which admitted organization an SSO connection signs in for (`GET /connections/{id}`), so an
//! `idp_initiated_sso_disabled` callback for a connection of an admitted organization can be
//! restarted without listing every connection. Behind the same bounded, expiring cache, cap on
//! look-ups at once and deadline as the domain look-ups.

use std::time::{Duration, Instant};

use super::cache::LookupCache;
use crate::client::{ConnectionState, WorkOsClient, WorkOsError, log_failure};
use crate::config::SsoConfig;
use crate::domains::DomainLookupError;
use crate::limit::Slots;
use crate::selector::Selector;

/// Connection ids to the organization each belongs to, asked of WorkOS and remembered.
pub(crate) struct ConnectionOwners {
    cache: LookupCache,
    lookups: Slots,
    timeout: Duration,
}

impl ConnectionOwners {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        let bounds = config.tenancy.cache;
        Self {
            cache: LookupCache::new(bounds),
            lookups: Slots::new(bounds.max_concurrent),
            timeout: bounds.timeout,
        }
    }

    /// The organization of the active connection `id`; `None` when WorkOS knows no such
    /// connection, or it is not active, or it belongs to no organization (an OAuth provider).
    pub(crate) async fn organization_of(
        &self,
        client: &WorkOsClient,
        id: &str,
    ) -> Result<Option<Selector>, DomainLookupError> {
        self.cache
            .get(id, Instant::now, || self.fetch(client, id))
            .await
    }

    async fn fetch(
        &self,
        client: &WorkOsClient,
        id: &str,
    ) -> Result<Option<Selector>, DomainLookupError> {
        let Some(_slot) = self.lookups.try_take() else {
            tracing::warn!("too many connection look-ups at once; restart answered busy");
            return Err(DomainLookupError::Busy);
        };
        let connection = match tokio::time::timeout(self.timeout, client.get_connection(id)).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(WorkOsError::NotFound)) => return Ok(None),
            Ok(Err(WorkOsError::Timeout)) | Err(_) => {
                tracing::warn!("WorkOS connection look-up timed out");
                return Err(DomainLookupError::Timeout);
            }
            Ok(Err(error)) => {
                log_failure("connection look-up", &error);
                return Err(DomainLookupError::Unavailable);
            }
        };
        // The answer must be about the connection asked for, and able to sign users in.
        if connection.id != id || connection.state != ConnectionState::Active {
            return Ok(None);
        }
        Ok(connection
            .organization_id
            .and_then(|org| Selector::organization(org).ok()))
    }
}
