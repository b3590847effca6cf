//! Revocation in the request flow: the store the layer uses (a [`MemoryStore`] of its own unless
//! one is configured), how long each revocation must last, and the check of a verified session.
//!
//! A revocation must hold until the last moment a token it refuses could still verify. For one
//! session that is its absolute end (`auth_time` plus the absolute lifetime) plus the clock
//! leeway, whatever the presented token's `exp`: a copy renewed later, or a token minted for a
//! CLI client, may run that long. For a user, organization or connection revoked at `at`, every
//! session it refuses signed in by `at`, so `at` plus the absolute lifetime plus the leeway.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::SsoConfig;
use crate::profile::Profile;
use crate::session::{Session, SessionClaims};
use crate::store::{BoxFuture, MemoryStore, Revocation, SessionRef, SessionStore, StoreError};
use crate::time::{Clock, from_unix_seconds, unix_seconds};

/// The layer's store and the lifetimes that say how long its records last.
pub(crate) struct Revocations {
    store: Arc<dyn SessionStore>,
    absolute: Duration,
    leeway: Duration,
    clock: Clock,
}

impl Revocations {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        let store = config.session_store.clone().unwrap_or_else(|| {
            Arc::new(MemoryStore::new().with_clock(config.clock.clone())) as Arc<dyn SessionStore>
        });
        Self {
            store,
            absolute: config.absolute_lifetime,
            leeway: config.clock_leeway,
            clock: config.clock.clone(),
        }
    }

    /// Now, in whole seconds as tokens count it: a session signed in during this second is
    /// refused by a revocation made in it.
    fn now(&self) -> SystemTime {
        from_unix_seconds(unix_seconds((self.clock)()))
    }

    /// The first moment after every token of a session signed in at `signed_in` has expired.
    fn end_of(&self, signed_in: SystemTime) -> SystemTime {
        // Tokens verify through the whole last second of their leeway.
        signed_in + self.absolute + self.leeway + Duration::from_secs(1)
    }

    /// Revokes `what` now, for as long as any session it refuses could verify.
    pub(crate) fn revoke(&self, what: Revocation) -> BoxFuture<'_, Result<(), StoreError>> {
        self.revoke_by(what, "call")
    }

    /// [`revoke`](Self::revoke), audited as asked for `by` (`call`, `webhook`).
    pub(crate) fn revoke_by(
        &self,
        what: Revocation,
        by: &'static str,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.revoke_as_of(what, None, by)
    }

    /// [`revoke_by`](Self::revoke_by) as of `at` (unix seconds; now if `None`, and never later
    /// than now): revoking the same thing as of the same moment again changes nothing.
    pub(crate) fn revoke_as_of(
        &self,
        what: Revocation,
        at: Option<u64>,
        by: &'static str,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        if what.id().is_empty() {
            return Box::pin(std::future::ready(Err(StoreError::new(
                "nothing to revoke: the id is empty",
            ))));
        }
        audit(&what, by);
        let now = self.now();
        let at = at.map_or(now, |at| from_unix_seconds(at).min(now));
        self.store.revoke(what, at, self.end_of(at))
    }

    /// Revokes the session of `claims` (at logout) until its absolute end plus the leeway.
    pub(crate) fn revoke_session_of(
        &self,
        claims: &SessionClaims,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let until = self.end_of(from_unix_seconds(claims.auth_time));
        let what = Revocation::Session(claims.sid.to_string());
        audit(&what, "logout");
        self.store.revoke(what, self.now(), until)
    }

    /// Marks a login flow used; `true` the first time. Remembered until the flow itself
    /// expires (plus the leeway), after which its cookie no longer verifies anyway.
    pub(crate) fn consume_login_state(
        &self,
        id: &str,
        expires_at: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let until = from_unix_seconds(expires_at) + self.leeway + Duration::from_secs(1);
        self.store.consume_login_state(id, until)
    }

    /// Marks the webhook event `id` seen; `true` the first time. Remembered (as a login state
    /// is, under its own prefix) until `until` unix seconds plus the leeway, after which its
    /// signature is too old to be taken again anyway.
    pub(crate) fn consume_event(
        &self,
        id: &str,
        until: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        self.consume_login_state(&format!("webhook-event:{id}"), until)
    }

    /// Whether the verified session `profile` carries is revoked. A profile without one came
    /// from no session: it counts as revoked.
    pub(crate) fn check(&self, profile: &Profile) -> BoxFuture<'_, Result<bool, StoreError>> {
        match profile.session() {
            Some(session) => self.store.is_revoked(&session_ref(profile, session)),
            None => Box::pin(std::future::ready(Ok(true))),
        }
    }

    /// [`check`](Self::check) answered at once, when the store can (the memory store can).
    pub(crate) fn check_now(&self, profile: &Profile) -> Option<Result<bool, StoreError>> {
        match profile.session() {
            // Most of the time nothing is revoked: nothing to ask about this session.
            Some(_) if self.store.refuses_none_now() => Some(Ok(false)),
            Some(session) => self.store.is_revoked_now(&session_ref(profile, session)),
            None => Some(Ok(true)),
        }
    }
}

/// What the store is asked about a verified session.
fn session_ref<'a>(profile: &'a Profile, session: &'a Session) -> SessionRef<'a> {
    let mut of = SessionRef::new(&session.id, &profile.id, session.authenticated_at);
    if let Some(organization) = profile.organization_id.as_deref().filter(|o| !o.is_empty()) {
        of = of.with_organization(organization);
    }
    if !profile.connection_id.is_empty() {
        of = of.with_connection(&profile.connection_id);
    }
    of
}

/// One audit event per revocation: what was revoked (ids only) and what asked for it.
fn audit(what: &Revocation, by: &'static str) {
    let scope = match what {
        Revocation::Session(_) => "session",
        Revocation::User(_) => "user",
        Revocation::Organization(_) => "organization",
        Revocation::Connection(_) => "connection",
    };
    crate::telemetry::revoked(scope, by);
    tracing::info!(
        target: "tower_workos_sso::audit",
        reason = "revoked",
        scope,
        id = what.id(),
        by,
        "sessions revoked"
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::session::{SessionSource, Sessions};

    const T0: u64 = 1_800_000_000;

    /// What the layer asked the store to record.
    #[derive(Default)]
    struct Recording(Mutex<Vec<(Revocation, SystemTime, SystemTime)>>);

    impl SessionStore for Recording {
        fn revoke(
            &self,
            what: Revocation,
            at: SystemTime,
            until: SystemTime,
        ) -> BoxFuture<'_, Result<(), StoreError>> {
            self.0.lock().unwrap().push((what, at, until));
            Box::pin(std::future::ready(Ok(())))
        }

        fn is_revoked(&self, _: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
            Box::pin(std::future::ready(Ok(false)))
        }

        fn consume_login_state(
            &self,
            _: &str,
            _: SystemTime,
        ) -> BoxFuture<'_, Result<bool, StoreError>> {
            Box::pin(std::future::ready(Ok(true)))
        }
    }

    use crate::store::ready_now as now;

    fn config(
        store: Option<Arc<Recording>>,
        leeway: u64,
        clock_ms: Arc<std::sync::atomic::AtomicU64>,
    ) -> SsoConfig {
        let builder = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![3u8; 32])
            .absolute_lifetime(Duration::from_secs(3600))
            .clock_leeway(Duration::from_secs(leeway))
            .clock(move || {
                let ms = clock_ms.load(std::sync::atomic::Ordering::SeqCst);
                SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
            });
        match store {
            Some(store) => builder.session_store(store),
            None => builder,
        }
        .build()
        .unwrap()
    }

    #[test]
    fn a_revocation_lasts_until_the_absolute_end_plus_the_leeway_not_the_tokens_exp() {
        let clock = Arc::new(std::sync::atomic::AtomicU64::new(T0 * 1000));
        for leeway in [0, 30, 300] {
            let recording = Arc::new(Recording::default());
            let config = config(Some(recording.clone()), leeway, clock.clone());
            let sessions = Sessions::new(&config);
            let revocations = Revocations::new(&config);
            let profile = Profile::new("prof_1", "a@example.test");
            let (_, claims) = sessions.issue(&profile, T0).unwrap();
            // Logout 20 minutes in, with a token that expires 10 minutes later.
            clock.store(
                (T0 + 1200) * 1000 + 750,
                std::sync::atomic::Ordering::SeqCst,
            );
            now(revocations.revoke_session_of(&claims)).unwrap();
            now(revocations.revoke(Revocation::User("prof_1".into()))).unwrap();
            let recorded = recording.0.lock().unwrap();
            let (what, at, until) = &recorded[0];
            assert_eq!(what, &Revocation::Session(claims.sid.to_string()));
            assert_eq!(*at, from_unix_seconds(T0 + 1200), "whole seconds");
            assert_eq!(*until, from_unix_seconds(T0 + 3600 + leeway + 1));
            let (what, at, until) = &recorded[1];
            assert_eq!(what, &Revocation::User("prof_1".into()));
            assert_eq!(*at, from_unix_seconds(T0 + 1200));
            assert_eq!(*until, from_unix_seconds(T0 + 1200 + 3600 + leeway + 1));
        }
    }

    #[test]
    fn without_a_store_the_layer_keeps_its_own_on_its_own_clock() {
        let clock = Arc::new(std::sync::atomic::AtomicU64::new(T0 * 1000));
        let config = config(None, 30, clock.clone());
        let revocations = Revocations::new(&config);
        let profile = Profile::new("prof_1", "a@example.test").with_organization("org_1");
        let session = Session {
            id: "sid-1".into(),
            authenticated_at: from_unix_seconds(T0),
            issued_at: from_unix_seconds(T0),
            expires_at: from_unix_seconds(T0 + 1800),
            source: SessionSource::Cookie,
            claims: crate::authorization::Claims::default(),
            trimmed: Vec::new(),
        };
        let profile = profile.with_session(session);
        assert!(!now(revocations.check(&profile)).unwrap());
        now(revocations.revoke(Revocation::Organization("org_1".into()))).unwrap();
        assert!(now(revocations.check(&profile)).unwrap());
        // The record lasts on the layer's clock: until T0 + 1 h + 30 s, then it goes.
        clock.store(
            (T0 + 3630) * 1000 + 999,
            std::sync::atomic::Ordering::SeqCst,
        );
        assert!(now(revocations.check(&profile)).unwrap());
        clock.store((T0 + 3631) * 1000, std::sync::atomic::Ordering::SeqCst);
        assert!(!now(revocations.check(&profile)).unwrap());
        // Empty ids revoke nothing, and say so.
        assert!(now(revocations.revoke(Revocation::User(String::new()))).is_err());
    }

    #[tokio::test]
    async fn the_layer_and_its_clones_share_one_store_and_another_layer_has_its_own() {
        use http::{Request, Response, StatusCode, header};
        use tower::{ServiceExt, service_fn};

        use crate::SsoLayer;

        let clock = Arc::new(std::sync::atomic::AtomicU64::new(T0 * 1000));
        let layer = SsoLayer::new(config(None, 30, clock.clone()));
        let profile = Profile::new("prof_1", "a@example.test");
        let minted = layer.issue_session_token(&profile).unwrap();
        let status = |layer: &SsoLayer| {
            let app = tower::ServiceBuilder::new()
                .layer(layer.clone())
                .service(service_fn(|_: Request<String>| async {
                    Ok::<_, std::convert::Infallible>(Response::new(String::new()))
                }));
            let request = Request::get("/api")
                .header(header::AUTHORIZATION, format!("Bearer {}", minted.expose()))
                .body(String::new())
                .unwrap();
            async move { app.oneshot(request).await.unwrap().status() }
        };
        assert_eq!(status(&layer).await, StatusCode::OK);
        layer.clone().revoke_user("prof_1").await.unwrap();
        assert_eq!(status(&layer).await, StatusCode::UNAUTHORIZED);
        // Another layer is another store: share one to revoke across layers and instances.
        let other = SsoLayer::new(config(None, 30, clock));
        assert_eq!(status(&other).await, StatusCode::OK);
    }

    #[test]
    fn the_revoke_futures_can_move_between_threads() {
        fn send<T: Send>(_: T) {}
        let clock = Arc::new(std::sync::atomic::AtomicU64::new(T0 * 1000));
        let layer = crate::SsoLayer::new(config(None, 30, clock));
        send(layer.revoke_user("prof_1"));
        send(layer.revoke_session("sid"));
        send(layer.revoke(Revocation::Connection("conn_1".into())));
    }
}
