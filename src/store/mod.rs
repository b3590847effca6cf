//! Shared state that must hold across instances: revocations (of a session, or of every session
//! of a user, an organization or a connection) and login states used once.
//!
//! Sessions live in signed tokens, so verifying one needs no store: the store is what lets the
//! layer refuse a token that still verifies. The layer asks it about every request with a
//! verified session ([`SessionStore::is_revoked`]) and records a revocation at logout and
//! through [`SsoLayer::revoke`](crate::SsoLayer::revoke) and its shorthands. A store also marks
//! login states used ([`SessionStore::consume_login_state`]), so that a login's callback can
//! complete only once, even across instances.
//!
//! Without a store configured, each [`SsoLayer`](crate::SsoLayer) keeps a [`MemoryStore`] of its
//! own: revocations hold in that process. With several instances (or several layers built from
//! separate `SsoLayer::new` calls), configure one store they all share with
//! [`SsoConfigBuilder::session_store`](crate::SsoConfigBuilder::session_store), or a session
//! revoked on one instance keeps working on the others. Layers of one process can share an
//! `Arc<MemoryStore>`; instances on several machines need a networked store, such as
//! `RedisStore` (feature `redis`), which answers every request from a local view kept current
//! through Redis pub/sub.
//!
//! # What a revocation refuses
//!
//! - [`Revocation::Session`]: every token of that session id (`sid`), however it was issued: the
//!   browser's cookie, every renewed copy of it, and every token minted for it with
//!   [`SsoLayer::issue_session_token_for`](crate::SsoLayer::issue_session_token_for).
//! - [`Revocation::User`], [`Revocation::Organization`], [`Revocation::Connection`]: every token
//!   of that profile id (`sub`), organization or connection whose sign-in (`auth_time`) was at or
//!   before the revocation's moment `at`. Signing in again afterwards works. Tokens count time in
//!   whole seconds, so a sign-in in the very second of the revocation is refused too.
//!
//! [`SessionRef::is_refused_by`] holds this rule, so a store need not restate it.
//!
//! Each record comes with an `until`: the first moment no token it could refuse still verifies
//! (the session's absolute end plus the clock leeway, or for the other kinds `at` plus the
//! absolute lifetime plus the leeway). A store may forget a record from then on, and must not
//! forget it before. Revoking a key again keeps the later `at` and the later `until`.
//!
//! # Failures
//!
//! Every method may fail with a [`StoreError`], and the layer then fails closed: a request whose
//! session cannot be checked gets a 503 on a protected path (on an optional path it is served
//! as anonymous: an outage never blocks optional or public paths), a logout whose revocation
//! was not recorded says so, and [`SsoLayer::revoke`](crate::SsoLayer::revoke) returns the
//! error.
//!
//! # A custom store
//!
//! A store shared by several instances implements [`SessionStore`] over Redis or a database,
//! each record expiring at its `until`. Here is a complete one over a map shared by every layer
//! of one process; a networked store would keep the same records, and answer `is_revoked` from a
//! local copy kept current, so that no request waits on the network:
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use std::time::{Duration, SystemTime};
//! use tower_workos_sso::store::{BoxFuture, Revocation, SessionRef, SessionStore, StoreError};
//!
//! #[derive(Clone, Default)]
//! struct SharedMapStore {
//!     /// Each revocation with its moment and how long to keep it.
//!     revoked: Arc<Mutex<HashMap<Revocation, (SystemTime, SystemTime)>>>,
//!     /// Each login state used, and how long to remember it.
//!     used_states: Arc<Mutex<HashMap<String, SystemTime>>>,
//! }
//!
//! fn poisoned<T>(_: T) -> StoreError {
//!     StoreError::new("lock poisoned")
//! }
//!
//! impl SessionStore for SharedMapStore {
//!     fn revoke(
//!         &self,
//!         what: Revocation,
//!         at: SystemTime,
//!         until: SystemTime,
//!     ) -> BoxFuture<'_, Result<(), StoreError>> {
//!         Box::pin(async move {
//!             let mut revoked = self.revoked.lock().map_err(poisoned)?;
//!             // A real store also drops records once `until` has passed (Redis: EXPIREAT).
//!             let record = revoked.entry(what).or_insert((at, until));
//!             *record = (record.0.max(at), record.1.max(until));
//!             Ok(())
//!         })
//!     }
//!
//!     fn is_revoked(&self, session: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
//!         // Decided at once, so the future borrows nothing of `session`.
//!         let now = SystemTime::now();
//!         let answer = self.revoked.lock().map_err(poisoned).map(|revoked| {
//!             session.revocations().any(|key| {
//!                 revoked.get(&key).is_some_and(|&(at, until)| {
//!                     now < until && session.is_refused_by(&key, at)
//!                 })
//!             })
//!         });
//!         Box::pin(std::future::ready(answer))
//!     }
//!
//!     fn consume_login_state(
//!         &self,
//!         id: &str,
//!         until: SystemTime,
//!     ) -> BoxFuture<'_, Result<bool, StoreError>> {
//!         let id = id.to_owned();
//!         Box::pin(async move {
//!             let mut used = self.used_states.lock().map_err(poisoned)?;
//!             let now = SystemTime::now();
//!             if used.get(&id).is_some_and(|kept| now < *kept) {
//!                 return Ok(false);
//!             }
//!             used.insert(id, until);
//!             Ok(true)
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), StoreError> {
//! let store = SharedMapStore::default();
//! let config = tower_workos_sso::SsoConfig::builder().session_store(store.clone());
//! # let _ = config;
//!
//! let now = SystemTime::now();
//! let signed_in = now - Duration::from_secs(60);
//! let session = SessionRef::new("sid-1", "prof_01ALICE", signed_in).with_organization("org_01ACME");
//! assert!(!store.is_revoked(&session).await?);
//! let until = now + Duration::from_secs(8 * 3600);
//! store.revoke(Revocation::Organization("org_01ACME".into()), now, until).await?;
//! assert!(store.is_revoked(&session).await?);
//! // A sign-in after the revocation is not refused.
//! let later = SessionRef::new("sid-2", "prof_01ALICE", now + Duration::from_secs(1))
//!     .with_organization("org_01ACME");
//! assert!(!store.is_revoked(&later).await?);
//!
//! assert!(store.consume_login_state("flow-1", until).await?);
//! assert!(!store.consume_login_state("flow-1", until).await?);
//! # Ok(()) }
//! ```

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisStore, RedisStoreBuilder};

/// A boxed future, as the store's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A store's failure. The layer fails closed on it: the request is refused, never let through.
#[derive(Debug)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps the store's own error. Its text is logged: it must carry no secret.
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

/// What is revoked: one session, or every session of a user, an organization or a connection
/// signed in at or before the revocation (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Revocation {
    /// One session, by its id ([`Session::id`](crate::Session::id), the token's `sid`).
    Session(String),
    /// Every session of a user, by WorkOS profile id ([`Profile::id`](crate::ProfileFields::id), `sub`).
    User(String),
    /// Every session of an organization ([`Profile::organization_id`](crate::ProfileFields::organization_id)).
    Organization(String),
    /// Every session signed in through a connection ([`Profile::connection_id`](crate::ProfileFields::connection_id)).
    Connection(String),
}

impl Revocation {
    /// The revoked session, profile, organization or connection id.
    pub fn id(&self) -> &str {
        match self {
            Revocation::Session(id)
            | Revocation::User(id)
            | Revocation::Organization(id)
            | Revocation::Connection(id) => id,
        }
    }
}

/// What a store needs to know of a verified session to tell whether it is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionRef<'a> {
    /// The session id (`sid`).
    pub session_id: &'a str,
    /// The user's WorkOS profile id (`sub`).
    pub profile_id: &'a str,
    /// The user's organization, if the profile has one.
    pub organization_id: Option<&'a str>,
    /// The connection the user signed in through, if the profile names one.
    pub connection_id: Option<&'a str>,
    /// When the user signed in (`auth_time`), in whole seconds.
    pub authenticated_at: SystemTime,
}

impl<'a> SessionRef<'a> {
    /// A session without organization or connection.
    pub fn new(session_id: &'a str, profile_id: &'a str, authenticated_at: SystemTime) -> Self {
        Self {
            session_id,
            profile_id,
            organization_id: None,
            connection_id: None,
            authenticated_at,
        }
    }

    /// The session's organization.
    pub fn with_organization(mut self, organization_id: &'a str) -> Self {
        self.organization_id = Some(organization_id);
        self
    }

    /// The session's connection.
    pub fn with_connection(mut self, connection_id: &'a str) -> Self {
        self.connection_id = Some(connection_id);
        self
    }

    /// Whether a record of `what`, revoked at `at`, refuses this session: a session revocation
    /// for its id; a user, organization or connection revocation for its ids, when the session
    /// was signed in at or before `at`.
    pub fn is_refused_by(&self, what: &Revocation, at: SystemTime) -> bool {
        let signed_in_before = self.authenticated_at <= at;
        match what {
            Revocation::Session(id) => id == self.session_id,
            Revocation::User(id) => signed_in_before && id == self.profile_id,
            Revocation::Organization(id) => {
                signed_in_before && Some(id.as_str()) == self.organization_id
            }
            Revocation::Connection(id) => {
                signed_in_before && Some(id.as_str()) == self.connection_id
            }
        }
    }

    /// Every record key that could refuse this session, to look up one by one.
    pub fn revocations(&self) -> impl Iterator<Item = Revocation> + '_ {
        [
            Some(Revocation::Session(self.session_id.to_owned())),
            Some(Revocation::User(self.profile_id.to_owned())),
            self.organization_id
                .map(|id| Revocation::Organization(id.to_owned())),
            self.connection_id
                .map(|id| Revocation::Connection(id.to_owned())),
        ]
        .into_iter()
        .flatten()
    }
}

/// Where revocations and used login states live until no token or flow they concern can be
/// valid any more. Implement it to share them between instances; see the [module docs](self).
///
/// The layer calls [`is_revoked`](Self::is_revoked) on every request with a verified session,
/// so it should answer from memory (a local view kept current) rather than wait on the network.
pub trait SessionStore: Send + Sync + 'static {
    /// Records `what`, revoked at `at`; keep the record at least until `until`. Revoking a key
    /// already recorded keeps the later `at` and the later `until`.
    fn revoke(
        &self,
        what: Revocation,
        at: SystemTime,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Whether a record refuses `session` ([`SessionRef::is_refused_by`] says which do).
    fn is_revoked(&self, session: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Whether no record could refuse any session right now (a memory store that holds no
    /// revocation): the layer then asks nothing about the request's session. `false`, the
    /// default, means "ask". It must not answer `true` while a record could refuse one.
    fn refuses_none_now(&self) -> bool {
        false
    }

    /// [`is_revoked`](Self::is_revoked) answered at once, for a store that can tell without
    /// waiting (from memory, or a local view kept current): the request then needs no future
    /// and no allocation for the check. `None`, the default, means "ask `is_revoked`". When it
    /// answers, it must answer as `is_revoked` would.
    fn is_revoked_now(&self, session: &SessionRef<'_>) -> Option<Result<bool, StoreError>> {
        let _ = session;
        None
    }

    /// Marks the login state `id` used, remembering it until `until`: `true` the first time,
    /// `false` on every later call before `until`, so a login's callback completes once even
    /// across instances. `id` identifies the flow (a digest of its `state`), never the secret
    /// value itself.
    fn consume_login_state(
        &self,
        id: &str,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
}

/// One store shared by several layers of a process: `Arc<MemoryStore>`, say.
impl<S: SessionStore + ?Sized> SessionStore for std::sync::Arc<S> {
    fn revoke(
        &self,
        what: Revocation,
        at: SystemTime,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        (**self).revoke(what, at, until)
    }

    fn is_revoked(&self, session: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
        (**self).is_revoked(session)
    }

    fn refuses_none_now(&self) -> bool {
        (**self).refuses_none_now()
    }

    fn is_revoked_now(&self, session: &SessionRef<'_>) -> Option<Result<bool, StoreError>> {
        (**self).is_revoked_now(session)
    }

    fn consume_login_state(
        &self,
        id: &str,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        (**self).consume_login_state(id, until)
    }
}

/// The output of a store future that must be ready at once (the memory store's), for unit
/// tests.
#[cfg(test)]
pub(crate) fn ready_now<T>(mut future: BoxFuture<'_, T>) -> T {
    use std::task::{Context, Poll, Waker};
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the store's future was not ready at once"),
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
    fn a_revocation_refuses_only_what_it_names_and_only_sign_ins_up_to_its_moment() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let second = Duration::from_secs(1);
        let session = SessionRef::new("sid-1", "prof_1", t)
            .with_organization("org_1")
            .with_connection("conn_1");
        let user = Revocation::User("prof_1".into());
        let organization = Revocation::Organization("org_1".into());
        let connection = Revocation::Connection("conn_1".into());
        for what in [&user, &organization, &connection] {
            assert!(session.is_refused_by(what, t), "{what:?} at sign-in");
            assert!(session.is_refused_by(what, t + second), "{what:?} after");
            assert!(!session.is_refused_by(what, t - second), "{what:?} before");
        }
        // A session revocation holds whenever it was made.
        let own = Revocation::Session("sid-1".into());
        assert!(session.is_refused_by(&own, t - second));
        for other in [
            Revocation::Session("sid-2".into()),
            Revocation::Session("prof_1".into()),
            Revocation::User("prof_2".into()),
            Revocation::User("sid-1".into()),
            Revocation::Organization("org_2".into()),
            Revocation::Organization("conn_1".into()),
            Revocation::Connection("conn_2".into()),
            Revocation::Connection("org_1".into()),
        ] {
            assert!(!session.is_refused_by(&other, t + second), "{other:?}");
        }
        // Without an organization or connection, no such revocation matches.
        let bare = SessionRef::new("sid-1", "prof_1", t);
        assert!(!bare.is_refused_by(&organization, t));
        assert!(!bare.is_refused_by(&connection, t));
        assert_eq!(bare.revocations().count(), 2);
        let keys: Vec<_> = session.revocations().collect();
        assert_eq!(keys, [own, user, organization, connection]);
        assert_eq!(keys[3].id(), "conn_1");
    }
}
