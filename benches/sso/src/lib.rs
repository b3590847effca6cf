//! What the crate's benchmarks share: the app and its configuration, the requests a browser and
//! an API client send, the scenarios with what each must answer, the fake WorkOS on its own
//! thread for the callback, and a counting allocator.
//!
//! Every scenario runs the same request through the same axum `Router` (three routes: `/public`,
//! a public path, `/optional`, an optional one, and `/app`, protected) with and without the
//! layer, in process, with `tower::ServiceExt::oneshot`, and reads the whole response body. Each
//! router is [`prepared`] as `axum::serve` prepares it, so no layer is applied per request.
//! Before anything is timed or counted, [`Scenario::check`] sends one request to each target and
//! panics unless it answers what the scenario is about (status, `Set-Cookie`, body): a
//! benchmark of a token that no longer verifies would otherwise time the redirect instead.

pub mod alloc;
pub mod fake;

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Frame;
use http_body_util::BodyExt;
use tower::{Layer, Service, ServiceExt};
use tower_workos_sso::{Profile, SsoConfig, SsoConfigBuilder, SsoLayer};

/// The session secret of every benchmark layer (48 bytes, as `openssl rand -base64 48` gives).
pub const SECRET: &[u8] = b"benchmark-session-secret-0123456789abcdefghijklm";

/// The session cookie's name: the redirect URI is `https`, so the cookie has the `__Host-` prefix.
pub const SESSION_COOKIE: &str = "__Host-sso_session";

/// The email of the benchmark user; `/app` answers `hello <email>`.
pub const EMAIL: &str = "alice@example.com";

/// What `/app` answers for the benchmark user, with or without the layer.
pub const HELLO: &str = "hello alice@example.com";

/// What `/public` answers.
pub const PUBLIC: &str = "public page";

/// What `/optional` answers.
pub const OPTIONAL: &str = "optional page";

/// The configuration of the benchmark layers, with a clock that stands still at `now`; the
/// layers are built from [`fake::Fake::config`], which points this at the fake WorkOS that
/// signs their browsers in.
///
/// A fixed clock keeps what is measured the same however long a run lasts: with the real clock,
/// a session signed in at start-up would pass half its idle window after 15 minutes and every
/// response would then carry a renewed cookie.
pub fn config(now: SystemTime) -> SsoConfigBuilder {
    SsoConfig::builder()
        .api_key("sk_test_benchmark")
        .client_id("client_benchmark")
        .redirect_uri("https://app.example.test/auth/callback")
        .api_base_url("https://api.workos.test")
        .session_secret(SECRET.to_vec())
        .default_selector(tower_workos_sso::Selector::organization("org_01ACME").unwrap())
        .public_paths(["/public"])
        .optional_paths(["/optional"])
        .clock(move || now)
}

/// The profile of the fake WorkOS's alice@example.com (names, organization, connection, a
/// role, a group), for bearer tokens and the comparison's contenders.
pub fn profile() -> Profile {
    let mut profile = Profile::new("prof_01ALICE", EMAIL)
        .with_organization("org_01ACME")
        .with_connection("conn_01ACMEOKTA", "OktaSAML")
        .with_roles(["admin"])
        .with_groups(["Engineering"]);
    profile.first_name = Some("Alice".into());
    profile.last_name = Some("Liddell".into());
    profile.idp_id = "00u1alice".into();
    profile
}

/// A bearer token for [`profile`] minted by `layer` (at the layer's clock).
pub fn bearer_token(layer: &SsoLayer) -> String {
    layer
        .issue_session_token(&profile())
        .expect("the profile fits in a session")
        .expose()
        .to_owned()
}

/// The eight cookies a browser sends to the app besides its session: analytics, consent,
/// preferences, a CSRF token, a support widget. The session cookies of a scenario go after the
/// fourth, so the layer has to look past some to find its own.
const SITE_COOKIES: [&str; 8] = [
    "_ga=GA1.1.1184052177.1717171717",
    "_ga_7QX2K9PLMN=GS1.1.1717171717.12.1.1717172900.0.0.0",
    "cookie_consent=necessary%2Canalytics%2Cpreferences",
    "theme=dark",
    "lang=en-GB",
    "csrftoken=Vq3pX9kLm2Rt7Yw4Zb8Nc1Hd6Fg0Js5a",
    "_hjSessionUser_3847261=eyJpZCI6IjQ5ZWY1YzI4LTkxZDMtNTljNi1hYjE4LWQ0ZjU2ZTdhOGI5MCIsImNyZWF0ZWQiOjE3MTcxNzE3MTcwMDB9",
    "intercom-id-p4x8k2m1=7c9e6679-7425-40de-944b-e07fc1f90ae7",
];

/// The `Cookie` header: the eight site cookies with `extra` (name, value) pairs after the fourth.
pub fn cookie_header(extra: &[(&str, &str)]) -> HeaderValue {
    let mut pairs: Vec<String> = SITE_COOKIES.iter().map(|c| (*c).to_owned()).collect();
    for (i, (name, value)) in extra.iter().enumerate() {
        pairs.insert(4 + i, format!("{name}={value}"));
    }
    HeaderValue::from_str(&pairs.join("; ")).expect("cookies are header-safe")
}

/// The headers of a browser navigating to a page of the app (Chrome's), with these cookies.
pub fn browser_headers(cookies: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set("host", "app.example.test");
    set(
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    );
    set(
        "accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    );
    set("accept-language", "en-GB,en;q=0.9");
    set("accept-encoding", "gzip, deflate, br, zstd");
    set("upgrade-insecure-requests", "1");
    set("sec-fetch-site", "same-origin");
    set("sec-fetch-mode", "navigate");
    set("sec-fetch-dest", "document");
    headers.insert(header::COOKIE, cookie_header(cookies));
    headers
}

/// The headers of an API client with a bearer token: no cookies.
pub fn bearer_headers(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("app.example.test"));
    headers.insert("user-agent", HeaderValue::from_static("reports-cli/1.4.2"));
    headers.insert("accept", HeaderValue::from_static("application/json"));
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("a token is header-safe"),
    );
    headers
}

/// A request with an empty body.
pub fn request(method: Method, uri: &str, headers: &HeaderMap) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("a valid request");
    *request.headers_mut() = headers.clone();
    request
}

/// How `/app` gets the name it greets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Greeting {
    /// From the crate's `Profile` extractor (the app behind the layer).
    FromProfile,
    /// A constant with the same text (the bare app, which has no identity to read).
    Fixed,
}

/// The three routes of every scenario: `/public` (a public path, where the layer reads no
/// session), `/optional` (an optional one: the session is read, the handler ignores it) and
/// `/app` (protected).
pub fn routes(greeting: Greeting) -> Router {
    let router = Router::new()
        .route("/public", get(|| async { PUBLIC }))
        .route("/optional", get(|| async { OPTIONAL }));
    match greeting {
        Greeting::FromProfile => router.route("/app", get(hello_profile)),
        Greeting::Fixed => router.route("/app", get(hello_fixed)),
    }
}

/// `/app` behind the layer: reads the signed-in user through the crate's extractor.
pub async fn hello_profile(profile: Profile) -> String {
    format!("hello {}", profile.email)
}

/// `/app` without the layer: the same answer, built the same way, from a constant.
pub async fn hello_fixed() -> String {
    format!("hello {}", std::hint::black_box(EMAIL))
}

/// `router` made ready to serve, as `axum::serve` (and `Router::into_make_service`) make it
/// once per connection: each handler turned into its route, behind its layers, once. A router
/// called as it is built would do that again on every request (applying every layer anew),
/// which no server does; every app of the benchmarks is prepared this way.
pub fn prepared(router: Router) -> Router {
    router.with_state(())
}

/// The bare app: the two routes, no layer.
pub fn bare() -> Router {
    prepared(routes(Greeting::Fixed))
}

/// The two routes behind `layer`, mounted as the README says (`.layer`, not `.route_layer`).
pub fn with_sso(layer: SsoLayer) -> Router {
    prepared(routes(Greeting::FromProfile).layer(layer))
}

/// The two routes behind a layer that does nothing, mounted the same way as the SSO layer.
pub fn with_noop() -> Router {
    prepared(routes(Greeting::Fixed).layer(NoopLayer))
}

/// The two routes behind a layer that does nothing but give the response body a type of its
/// own, as a layer that answers in a body type of its own does: axum then boxes the body once
/// more. The SSO layer answers in the app's body type (`SsoBody`), so it pays no such box; this
/// target shows what that saves beside `noop_layer`.
pub fn with_noop_body() -> Router {
    prepared(
        routes(Greeting::Fixed).layer(tower::util::MapResponseLayer::new(
            wrap_body as fn(Response<Body>) -> Response<WrappedBody>,
        )),
    )
}

/// A body that forwards every frame and its size: another type, the same bytes (and the same
/// `Content-Length`, as the SSO layer's body keeps it).
pub struct WrappedBody(Body);

impl http_body::Body for WrappedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}

fn wrap_body(response: Response<Body>) -> Response<WrappedBody> {
    response.map(WrappedBody)
}

/// A Tower layer that forwards every request untouched: what mounting any layer costs.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopLayer;

impl<S> Layer<S> for NoopLayer {
    type Service = Noop<S>;

    fn layer(&self, inner: S) -> Noop<S> {
        Noop { inner }
    }
}

/// The service of [`NoopLayer`].
#[derive(Clone, Debug)]
pub struct Noop<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for Noop<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

/// Sends `request` through `app` and reads the whole body.
pub async fn send(app: Router, request: Request<Body>) -> Response<Bytes> {
    let response = app
        .oneshot(request)
        .await
        .unwrap_or_else(|e: Infallible| match e {});
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("an in-memory body").to_bytes();
    Response::from_parts(parts, bytes)
}

/// What a target must answer for its scenario to measure what it says.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub status: StatusCode,
    /// Whether the response sets a cookie (a renewal, a flow cookie, a session).
    pub set_cookie: bool,
    /// The body, when it is known.
    pub body: Option<&'static str>,
}

impl Expect {
    pub const fn ok(body: &'static str) -> Expect {
        Expect {
            status: StatusCode::OK,
            set_cookie: false,
            body: Some(body),
        }
    }

    pub const fn status(status: StatusCode, set_cookie: bool) -> Expect {
        Expect {
            status,
            set_cookie,
            body: None,
        }
    }

    /// Panics unless `response` is what is expected of `target` in `group`.
    pub fn assert(&self, group: &str, target: &str, response: &Response<Bytes>) {
        let what = format!("{group}/{target}");
        assert_eq!(response.status(), self.status, "{what}: status");
        let sets = response.headers().contains_key(header::SET_COOKIE);
        assert_eq!(sets, self.set_cookie, "{what}: Set-Cookie present");
        if let Some(body) = self.body {
            assert_eq!(response.body(), body.as_bytes(), "{what}: body");
        }
    }
}

/// One app a scenario's request goes through, under the id it has in the benchmark group.
pub struct Target {
    pub id: &'static str,
    pub app: Router,
    pub expect: Expect,
}

/// A benchmark group: one request, the same for every target (bare first).
pub struct Scenario {
    pub group: &'static str,
    pub about: &'static str,
    pub targets: Vec<Target>,
    /// Builds the scenario's request; called once per iteration, outside the timed part.
    pub request: Box<dyn Fn() -> Request<Body>>,
}

impl Scenario {
    /// Sends one request to each target and panics unless each answers as expected.
    pub async fn check(&self) {
        for target in &self.targets {
            let response = send(target.app.clone(), (self.request)()).await;
            target.expect.assert(self.group, target.id, &response);
        }
    }
}

/// Builds every in-process scenario but the callback (see [`fake::Callback`]). Call it from
/// outside any runtime: it signs a browser in through a fake WorkOS of its own, on a runtime of
/// its own, and stops the fake before it returns (the layers never call WorkOS again).
pub fn scenarios() -> Vec<Scenario> {
    let now = SystemTime::now();
    let fake = fake::Fake::start();
    let layer = SsoLayer::new(fake.config(now).build().expect("a valid configuration"));
    let bare = bare();
    let sso = with_sso(layer.clone());
    let noop = with_noop();
    let noop_body = with_noop_body();
    let session = fake.sign_in_blocking(&sso);
    let minted = bearer_token(&layer);
    let target = |id, app: &Router, expect| Target {
        id,
        app: app.clone(),
        expect,
    };

    // Renewal: the session signed in at `now`, presented to a layer whose clock is 16 minutes
    // later, past half the default 30-minute idle window, so every response renews it.
    let renewing = with_sso(SsoLayer::new(
        fake.config(now + Duration::from_secs(16 * 60))
            .build()
            .expect("a valid configuration"),
    ));
    drop(fake);

    let anonymous = browser_headers(&[]);
    let with_session = browser_headers(&[(SESSION_COOKIE, &session)]);
    let bearer = bearer_headers(&minted);
    let fixed = |method: Method, uri: &'static str, headers: &HeaderMap| {
        let headers = headers.clone();
        Box::new(move || request(method.clone(), uri, &headers)) as Box<dyn Fn() -> _>
    };
    let public = Expect::ok(PUBLIC);
    let optional = Expect::ok(OPTIONAL);
    let hello = Expect::ok(HELLO);
    // The bare app has no SSO routes: its fallback answers 404.
    let not_found = Expect::status(StatusCode::NOT_FOUND, false);

    let fresh_layer = layer.clone();
    vec![
        Scenario {
            group: "public_anonymous",
            about: "GET /public (a public path), browser headers, 8 cookies, no session",
            targets: vec![
                target("bare", &bare, public),
                target("noop_layer", &noop, public),
                target("noop_body_layer", &noop_body, public),
                target("sso", &sso, public),
            ],
            request: fixed(Method::GET, "/public", &anonymous),
        },
        Scenario {
            group: "public_with_session",
            about: "GET /public with a valid session cookie among the 8 (not read)",
            targets: vec![
                target("bare", &bare, public),
                target("noop_layer", &noop, public),
                target("noop_body_layer", &noop_body, public),
                target("sso", &sso, public),
            ],
            request: fixed(Method::GET, "/public", &with_session),
        },
        Scenario {
            group: "optional_anonymous",
            about: "GET /optional (an optional path), browser headers, 8 cookies, no session",
            targets: vec![
                target("bare", &bare, optional),
                target("noop_layer", &noop, optional),
                target("noop_body_layer", &noop_body, optional),
                target("sso", &sso, optional),
            ],
            request: fixed(Method::GET, "/optional", &anonymous),
        },
        Scenario {
            group: "optional_with_session",
            about: "GET /optional with a valid session cookie among the 8 (verified, unused)",
            targets: vec![
                target("bare", &bare, optional),
                target("noop_layer", &noop, optional),
                target("noop_body_layer", &noop_body, optional),
                target("sso", &sso, optional),
            ],
            request: fixed(Method::GET, "/optional", &with_session),
        },
        Scenario {
            group: "auth_cookie",
            about: "GET /app by session cookie; the handler takes `Profile`",
            targets: vec![target("bare", &bare, hello), target("sso", &sso, hello)],
            request: fixed(Method::GET, "/app", &with_session),
        },
        Scenario {
            group: "auth_bearer",
            about: "GET /app with Authorization: Bearer (a minted token), JSON client, no cookies",
            targets: vec![target("bare", &bare, hello), target("sso", &sso, hello)],
            request: fixed(Method::GET, "/app", &bearer),
        },
        Scenario {
            group: "auth_first_sight",
            about: "GET /app by bearer token never seen before (minted per iteration, untimed)",
            targets: vec![target("bare", &bare, hello), target("sso", &sso, hello)],
            request: Box::new(move || {
                let token = bearer_token(&fresh_layer);
                request(Method::GET, "/app", &bearer_headers(&token))
            }),
        },
        Scenario {
            group: "auth_renewal",
            about: "GET /app by cookie past half its idle window: verified, re-signed, Set-Cookie",
            targets: vec![
                target("bare", &bare, hello),
                target(
                    "sso",
                    &renewing,
                    Expect {
                        set_cookie: true,
                        ..hello
                    },
                ),
            ],
            request: fixed(Method::GET, "/app", &with_session),
        },
        Scenario {
            group: "browser_redirect",
            about: "GET /app from a browser without a session: 303 to the login",
            targets: vec![
                target("bare", &bare, hello),
                target("sso", &sso, Expect::status(StatusCode::SEE_OTHER, false)),
            ],
            request: fixed(Method::GET, "/app", &anonymous),
        },
        Scenario {
            group: "login_redirect",
            about: "GET /auth/login?return_to=/app: 302 to WorkOS with a new flow cookie",
            targets: vec![
                target("bare", &bare, not_found),
                target("sso", &sso, Expect::status(StatusCode::FOUND, true)),
            ],
            request: fixed(Method::GET, "/auth/login?return_to=%2Fapp", &anonymous),
        },
    ]
}

/// The first `name=value` of a `Set-Cookie` that does not clear a cookie, if any.
pub fn set_cookie_pair(headers: &HeaderMap) -> Option<(String, String)> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|line| !line.contains("Max-Age=0"))
        .find_map(|line| {
            let pair = line.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.to_owned(), value.to_owned()))
        })
}
