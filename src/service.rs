//! `SsoService`: routes the SSO paths to the crate, and every other request through the
//! session check and the access policy to the inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tower::Service;

use crate::body::ResponseBody;
use crate::cookie::Unchecked;
use crate::core::{Core, InsideLayer};
use crate::future::{Deferred, Outgoing, ResponseFuture};
use crate::profile::Profile;
use crate::response::{self, Reason};
use crate::routes::{self, login::sign_in_required};
use crate::session::{CachedSession, Presented, SessionSource};
use crate::store::StoreError;
use crate::telemetry::{self, SessionRefusal};

/// The service [`SsoLayer`](crate::SsoLayer) wraps around an inner service.
#[derive(Clone)]
pub struct SsoService<S> {
    inner: S,
    core: Arc<Core>,
}

impl<S> SsoService<S> {
    pub(crate) fn new(inner: S, core: Arc<Core>) -> Self {
        Self { inner, core }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for SsoService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SsoService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The inner service may look at the request in `call` (see `InsideLayer`).
        let _inside = InsideLayer::enter();
        match self.core.route(request.uri().path()) {
            Some(route) => ResponseFuture::answer(routes::answer(&self.core, route, request)),
            None => self.authenticate(request),
        }
    }
}

impl<S> SsoService<S> {
    /// Verifies the session, applies the access policy, and calls the inner service with the
    /// profile in the extensions.
    fn authenticate<ReqBody, ResBody>(
        &mut self,
        mut request: Request<ReqBody>,
    ) -> ResponseFuture<S::Future>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        ReqBody: Send + 'static,
    {
        let core = &self.core;
        // The clock is read only when there is a session to check.
        let (verified, now) = match core.sessions.presented_unchecked(request.headers()) {
            Presented::None => (Err(Reason::Missing), 0),
            Presented::Ambiguous => {
                telemetry::session_refused(SessionRefusal::Invalid);
                (Err(Reason::Invalid), 0)
            }
            Presented::Cookie(token) => verify(core, token, SessionSource::Cookie),
            Presented::Bearer(token) => verify(core, token.into(), SessionSource::Bearer),
        };
        // Tenants (src/tenant/): nothing runs, nothing allocates, without a resolver.
        let verified = match &core.tenants {
            Some(tenants) => {
                tenants.scope(&mut request, verified, |(cached, _)| &cached.claims.profile)
            }
            None => verified,
        };

        // Identity only ever comes from a session verified here, never from what came before.
        // (A `Session` comes only with a verified `Profile`: no code outside the crate can make
        // one, so only the profile needs removing.)
        request.extensions_mut().remove::<Profile>();

        let (cached, source) = match verified {
            Ok(verified) => verified,
            Err(reason) => {
                // A tenant spelled ambiguously is refused even on a public path.
                if reason == Reason::AmbiguousTenant
                    || core.policy.is_protected(request.uri().path())
                {
                    return ResponseFuture::ready(sign_in_required(core, &request, reason));
                }
                return ResponseFuture::inner(self.inner.call(request), Outgoing::anonymous());
            }
        };

        let set_cookie = match source {
            SessionSource::Cookie => core
                .sessions
                .renew(&cached.claims, cached.current_key, now)
                .map(|(token, exp)| core.sessions.cookie(&token, exp, now)),
            SessionSource::Bearer => None,
        };
        // One extension: the profile, carrying its session (built once per cached token).
        let profile = cached.profile(source).clone();
        drop(cached);

        // Every verified session is checked against the revocations before the app sees it:
        // at once when the store can answer from memory, else in a future of its own.
        if let Some(revoked) = core.revocations.check_now(&profile) {
            request.extensions_mut().insert(profile);
            // The usual answer, called here rather than through `admit`'s `Deferred`, which
            // would move the inner future twice more.
            if let Ok(false) = revoked {
                telemetry::session_verified(source == SessionSource::Bearer);
                let outgoing = Outgoing::personal(set_cookie);
                return ResponseFuture::inner(self.inner.call(request), outgoing);
            }
            return match admit(core, &mut self.inner, request, source, set_cookie, revoked) {
                Deferred::Call { future, outgoing } => ResponseFuture::inner(future, outgoing),
                Deferred::Respond(response) => ResponseFuture::ready(response),
            };
        }
        // The instance that was polled ready is the one that gets called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let core = core.clone();
        ResponseFuture::deferred(async move {
            let revoked = core.revocations.check(&profile).await;
            request.extensions_mut().insert(profile);
            admit(&core, &mut inner, request, source, set_cookie, revoked)
        })
    }
}

/// The session `token` presented as `source`, verified (or found in the cache of verified
/// tokens), or why there is none; with the time it was checked at.
fn verify(
    core: &Core,
    token: Unchecked<'_>,
    source: SessionSource,
) -> (Result<(Arc<CachedSession>, SessionSource), Reason>, u64) {
    let now = core.now();
    let verified = match core.sessions.authenticate(token, source, now) {
        Ok(Some(cached)) => Ok((cached, source)),
        // A cookie that is not UTF-8 is none, as the cookie reading skips it.
        Ok(None) => Err(Reason::Missing),
        Err(error) => {
            telemetry::session_refused(SessionRefusal::Invalid);
            tracing::debug!(?error, "session token refused");
            Err(Reason::Invalid)
        }
    };
    (verified, now)
}

/// What the revocation check's answer means for a request whose verified session is in its
/// extensions: call the app with it, call the app without it (a public path), or answer.
fn admit<S, ReqBody, ResBody>(
    core: &Core,
    inner: &mut S,
    mut request: Request<ReqBody>,
    source: SessionSource,
    set_cookie: Option<http::HeaderValue>,
    revoked: Result<bool, StoreError>,
) -> Deferred<S::Future>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    match &revoked {
        Ok(false) => telemetry::session_verified(source == SessionSource::Bearer),
        Ok(true) => telemetry::session_refused(SessionRefusal::Revoked),
        Err(_) => telemetry::session_refused(SessionRefusal::StoreUnavailable),
    }
    match revoked {
        Ok(false) => Deferred::Call {
            future: inner.call(request),
            outgoing: Outgoing::personal(set_cookie),
        },
        // A store outage never blocks a public path: served as to an anonymous caller, the
        // cookie left as it is (the session may well be valid).
        Err(error) if !core.policy.is_protected(request.uri().path()) => {
            tracing::warn!(%error, "session store unavailable; public path served anonymously");
            request.extensions_mut().remove::<Profile>();
            Deferred::Call {
                future: inner.call(request),
                outgoing: Outgoing::anonymous(),
            }
        }
        Ok(true) if !core.policy.is_protected(request.uri().path()) => {
            request.extensions_mut().remove::<Profile>();
            // A revoked cookie is cleared; a bearer client's cookies are not ours to touch.
            let set_cookie =
                (source == SessionSource::Cookie).then(|| core.sessions.clear_cookie());
            Deferred::Call {
                future: inner.call(request),
                outgoing: Outgoing {
                    set_cookie,
                    personal: false,
                },
            }
        }
        Ok(true) => Deferred::Respond(sign_in_required(core, &request, Reason::Invalid)),
        Err(error) => {
            tracing::error!(%error, "session store unavailable; refusing the request");
            Deferred::Respond(response::json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "session_store_unavailable",
                "sessions cannot be checked right now",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    //! The request flow in process: the layer over a service function, driven with
    //! `ServiceExt::ready().call()`, no TCP.

    use std::convert::Infallible;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, SystemTime};

    use http::{HeaderValue, Request, Response, StatusCode, header};
    use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

    use crate::store::MemoryStore;
    use crate::{Profile, SessionSource, SsoConfig, SsoConfigBuilder, SsoLayer};

    const T0: u64 = 1_800_000_000;

    fn builder() -> SsoConfigBuilder {
        SsoConfig::builder()
            .api_key("sk_test_unit")
            .client_id("client_unit")
            .redirect_uri("https://app.test/auth/callback")
            .api_base_url("https://api.workos.test")
            .session_secret(vec![4u8; 32])
            .default_selector(crate::Selector::organization("org_1").unwrap())
            .public_paths(["/public/*"])
            .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(T0))
    }

    /// What the inner service saw, and how often it was called.
    #[derive(Default)]
    struct Seen {
        calls: AtomicUsize,
        email: std::sync::Mutex<Option<String>>,
        source: std::sync::Mutex<Option<SessionSource>>,
    }

    fn app(
        layer: SsoLayer,
        seen: Arc<Seen>,
    ) -> impl Service<
        Request<String>,
        Response = Response<crate::body::ResponseBody<String>>,
        Error = Infallible,
    > + Clone {
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(move |request: Request<String>| {
                let seen = seen.clone();
                async move {
                    seen.calls.fetch_add(1, Ordering::SeqCst);
                    let extensions = request.extensions();
                    *seen.email.lock().unwrap() =
                        extensions.get::<Profile>().map(|p| p.email.to_string());
                    *seen.source.lock().unwrap() = extensions
                        .get::<Profile>()
                        .and_then(Profile::session)
                        .map(|s| s.source);
                    Ok::<_, Infallible>(Response::new("inner".to_owned()))
                }
            }))
    }

    /// One request through `app`, polled ready first as a server would.
    async fn send<S>(app: &mut S, request: Request<String>) -> S::Response
    where
        S: Service<Request<String>, Error = Infallible>,
    {
        app.ready().await.unwrap().call(request).await.unwrap()
    }

    fn get(path: &str) -> http::request::Builder {
        Request::get(path).header(header::ACCEPT, "text/html")
    }

    fn token(layer: &SsoLayer) -> String {
        let profile = Profile::new("prof_1", "alice@example.test").with_organization("org_1");
        layer
            .issue_session_token(&profile)
            .unwrap()
            .expose()
            .to_owned()
    }

    /// A browser session token, as the callback issues it.
    fn browser_token(layer: &SsoLayer) -> String {
        let profile = Profile::new("prof_1", "alice@example.test").with_organization("org_1");
        let sessions = crate::session::Sessions::new(layer.config());
        let (token, _) = sessions.issue(&profile, T0).unwrap();
        token.expose().to_owned()
    }

    #[tokio::test]
    async fn sso_routes_are_answered_without_calling_the_app() {
        let seen = Arc::new(Seen::default());
        let mut app = app(SsoLayer::new(builder().build().unwrap()), seen.clone());
        let login = get("/auth/login").body(String::new()).unwrap();
        let response = send(&mut app, login).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with("https://api.workos.test/sso/authorize?"));
        for (method, path) in [("PUT", "/auth/login"), ("GET", "/auth/logout")] {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .body(String::new())
                .unwrap();
            let response = send(&mut app, request).await;
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        }
        let callback = get("/auth/callback?code=c&state=s")
            .body(String::new())
            .unwrap();
        let response = send(&mut app, callback).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(seen.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn protected_paths_without_a_session_never_reach_the_app() {
        let seen = Arc::new(Seen::default());
        let mut app = app(SsoLayer::new(builder().build().unwrap()), seen.clone());
        let browser = get("/reports?week=1").body(String::new()).unwrap();
        let response = send(&mut app, browser).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()[header::LOCATION],
            "/auth/login?return_to=%2Freports%3Fweek%3D1"
        );
        let api = Request::get("/reports")
            .header(header::AUTHORIZATION, "Bearer not-a-token")
            .body(String::new())
            .unwrap();
        let response = send(&mut app, api).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let grpc = Request::post("/pkg.Service/Call")
            .header(header::CONTENT_TYPE, "application/grpc")
            .body(String::new())
            .unwrap();
        let response = send(&mut app, grpc).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], "16");
        assert_eq!(seen.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn identity_comes_only_from_a_verified_session() {
        let seen = Arc::new(Seen::default());
        let mut app = app(SsoLayer::new(builder().build().unwrap()), seen.clone());
        let mut spoofed = get("/public/page").body(String::new()).unwrap();
        spoofed
            .extensions_mut()
            .insert(Profile::new("prof_evil", "mallory@evil.test"));
        let response = send(&mut app, spoofed).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
        assert_eq!(*seen.email.lock().unwrap(), None);
    }

    #[tokio::test]
    async fn a_bearer_token_reaches_the_app_as_profile_and_session() {
        let layer = SsoLayer::new(builder().build().unwrap());
        let token = token(&layer);
        let seen = Arc::new(Seen::default());
        let mut app = app(layer, seen.clone());
        let request = Request::get("/api/me")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(String::new())
            .unwrap();
        let response = send(&mut app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get(header::SET_COOKIE).is_none());
        assert_eq!(
            seen.email.lock().unwrap().as_deref(),
            Some("alice@example.test")
        );
        assert_eq!(*seen.source.lock().unwrap(), Some(SessionSource::Bearer));
    }

    #[tokio::test]
    async fn a_cookie_past_half_its_idle_window_is_renewed_on_the_way_out() {
        let issued = SsoLayer::new(builder().build().unwrap());
        let token = browser_token(&issued);
        let later = builder()
            .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 16 * 60))
            .build()
            .unwrap();
        let seen = Arc::new(Seen::default());
        let mut app = app(SsoLayer::new(later), seen.clone());
        let cookie = HeaderValue::from_str(&format!("__Host-sso_session={token}")).unwrap();
        let request = get("/").header(header::COOKIE, cookie).body(String::new());
        let response = send(&mut app, request.unwrap()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let renewed = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(renewed.starts_with("__Host-sso_session="), "{renewed}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(*seen.source.lock().unwrap(), Some(SessionSource::Cookie));
    }

    /// A service that must be polled ready before each call, as `tower::buffer` or a
    /// concurrency limit would be: the layer must call the instance it polled.
    #[derive(Default)]
    struct NeedsReady {
        ready: bool,
    }

    /// Readiness is per instance: a clone must be polled ready itself.
    impl Clone for NeedsReady {
        fn clone(&self) -> Self {
            Self::default()
        }
    }

    impl Service<Request<String>> for NeedsReady {
        type Response = Response<String>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<String>, Infallible>>;

        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            self.ready = true;
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<String>) -> Self::Future {
            assert!(self.ready, "called an instance that was never polled ready");
            self.ready = false;
            std::future::ready(Ok(Response::new("ok".to_owned())))
        }
    }

    #[tokio::test]
    async fn with_a_store_the_instance_polled_ready_is_the_one_called() {
        let layer = SsoLayer::new(builder().session_store(MemoryStore::new()).build().unwrap());
        let token = token(&layer);
        let mut app = ServiceBuilder::new()
            .layer(layer)
            .service(NeedsReady::default());
        for _ in 0..3 {
            let request = Request::get("/api")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(String::new())
                .unwrap();
            let response = send(&mut app, request).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    }

    /// A store that counts the checks it is asked for, and refuses every session.
    #[derive(Clone, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl crate::store::SessionStore for Counting {
        fn revoke(
            &self,
            _: crate::store::Revocation,
            _: SystemTime,
            _: SystemTime,
        ) -> crate::store::BoxFuture<'_, Result<(), crate::store::StoreError>> {
            Box::pin(std::future::ready(Ok(())))
        }

        fn is_revoked(
            &self,
            _: &crate::store::SessionRef<'_>,
        ) -> crate::store::BoxFuture<'_, Result<bool, crate::store::StoreError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::ready(Ok(true)))
        }

        fn consume_login_state(
            &self,
            _: &str,
            _: SystemTime,
        ) -> crate::store::BoxFuture<'_, Result<bool, crate::store::StoreError>> {
            Box::pin(std::future::ready(Ok(true)))
        }
    }

    #[tokio::test]
    async fn requests_without_a_session_pass_through_unboxed_and_never_ask_the_store() {
        let checks = Counting::default();
        let layer = SsoLayer::new(builder().session_store(checks.clone()).build().unwrap());
        let token = token(&layer);
        let seen = Arc::new(Seen::default());
        let mut app = tower::Layer::layer(
            &layer,
            service_fn(move |_: Request<String>| {
                let seen = seen.clone();
                async move {
                    seen.calls.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Infallible>(Response::new(String::new()))
                }
            }),
        );
        for request in [
            get("/public/page").body(String::new()).unwrap(),
            get("/public/page")
                .header(header::COOKIE, "__Host-sso_session=garbage")
                .body(String::new())
                .unwrap(),
        ] {
            let future = app.ready().await.unwrap().call(request);
            assert!(future.is_pass_through());
            assert_eq!(future.await.unwrap().status(), StatusCode::OK);
        }
        assert_eq!(checks.0.load(Ordering::SeqCst), 0);
        // A verified session is checked, and this store refuses it.
        let request = Request::get("/public/page")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(String::new())
            .unwrap();
        let future = app.ready().await.unwrap().call(request);
        assert!(!future.is_pass_through());
        let response = future.await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get(header::SET_COOKIE).is_none());
        assert_eq!(checks.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_minted_token_is_no_session_cookie() {
        let layer = SsoLayer::new(builder().build().unwrap());
        let minted = token(&layer);
        let seen = Arc::new(Seen::default());
        let mut app = app(layer, seen.clone());
        let cookie = format!("__Host-sso_session={minted}");
        let request = get("/reports").header(header::COOKIE, &cookie);
        let response = send(&mut app, request.body(String::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let request = get("/public/page").header(header::COOKIE, &cookie);
        let response = send(&mut app, request.body(String::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get(header::SET_COOKIE).is_none());
        assert_eq!(*seen.email.lock().unwrap(), None);
    }
}
