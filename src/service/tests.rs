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
        .optional_paths(["/public/*"])
        .public_paths(["/assets/*"])
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
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
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
    // On an optional path (the session read) and a public one (not read) alike.
    for (path, calls) in [("/public/page", 1), ("/assets/app.css", 2)] {
        let mut spoofed = get(path).body(String::new()).unwrap();
        spoofed
            .extensions_mut()
            .insert(Profile::new("prof_evil", "mallory@evil.test"));
        let response = send(&mut app, spoofed).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(seen.calls.load(Ordering::SeqCst), calls, "{path}");
        assert_eq!(*seen.email.lock().unwrap(), None, "{path}");
    }
    // With a valid session, the verified profile replaces the one that came before.
    let cookie = format!(
        "__Host-sso_session={}",
        browser_token(&SsoLayer::new(builder().build().unwrap()))
    );
    let mut spoofed = get("/reports")
        .header(header::COOKIE, cookie)
        .body(String::new())
        .unwrap();
    spoofed
        .extensions_mut()
        .insert(Profile::new("prof_evil", "mallory@evil.test"));
    let response = send(&mut app, spoofed).await;
    assert_eq!(response.status(), StatusCode::OK);
    let email = seen.email.lock().unwrap().clone();
    assert_eq!(email.as_deref(), Some("alice@example.test"));
}

/// A browser session issued at `T0`, and a layer whose clock is 16 minutes later: past half
/// the idle window, so a request that reads the session renews its cookie.
fn a_session_due_for_renewal() -> (String, SsoLayer) {
    let token = browser_token(&SsoLayer::new(builder().build().unwrap()));
    let later = builder()
        .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 16 * 60))
        .build()
        .unwrap();
    (token, SsoLayer::new(later))
}

#[tokio::test]
async fn a_public_path_passes_a_session_through_unread_and_untouched() {
    // Late enough that the optional path renews the cookie: the public one leaves it be.
    let (token, later) = a_session_due_for_renewal();
    let seen = Arc::new(Seen::default());
    let mut app = app(later, seen.clone());
    for (path, read) in [("/assets/app.css", false), ("/public/page", true)] {
        let request = get(path)
            .header(header::COOKIE, format!("__Host-sso_session={token}"))
            .body(String::new())
            .unwrap();
        let response = send(&mut app, request).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let email = seen.email.lock().unwrap().clone();
        assert_eq!(email.is_some(), read, "{path}");
        for name in [header::SET_COOKIE, header::VARY, header::CACHE_CONTROL] {
            let added = response.headers().contains_key(&name);
            assert_eq!(added, read, "{path}: {name}");
        }
    }
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
    let (token, later) = a_session_due_for_renewal();
    let seen = Arc::new(Seen::default());
    let mut app = app(later, seen.clone());
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
