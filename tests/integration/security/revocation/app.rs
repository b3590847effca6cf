//! The app the revocation tests drive: the harness's configuration against the fake WorkOS, on a
//! clock that moves only when a test moves it (so edges are tested to the second), with a
//! `/cli-token` route as `examples/tonic.rs` has it, and a record of every session the app saw
//! (so a test can mint a token for one later, as an app holding a `Session` may).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, Url};
use serde_json::Value;
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{Profile, Session, SessionSource, SsoConfigBuilder, SsoLayer};

use crate::support::harness::{self, Browser, SESSION_COOKIE, api, set_cookies};

type Seen = Arc<Mutex<HashMap<String, (Session, Profile)>>>;

/// The cookie jar of the app's one browser client, which each browser session replaces:
/// building a client loads the system's certificates, which on a loaded machine stalls the
/// test's runtime for long.
#[derive(Default)]
struct Jars(Mutex<Arc<Jar>>);

impl Jars {
    fn current(&self) -> Arc<Jar> {
        self.0.lock().unwrap().clone()
    }
}

impl CookieStore for Jars {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        self.current().set_cookies(headers, url);
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.current().cookies(url)
    }
}

pub struct App {
    pub base: String,
    pub layer: SsoLayer,
    /// The app's clock, in unix seconds.
    clock: Arc<AtomicU64>,
    seen: Seen,
    /// One client for every request: building one per request is slow.
    client: Client,
    /// One browser client, and its jar, for every browser session in turn.
    browser: Client,
    jars: Arc<Jars>,
    browsing: tokio::sync::Mutex<()>,
    workos: MockWorkOs,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the fake WorkOS and the app with Acme's organization as the default selector;
/// `configure` adjusts the layer's configuration.
pub async fn start(configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder) -> App {
    let workos = MockWorkOs::start().await.expect("fake WorkOS starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let start = UNIX_EPOCH.elapsed().unwrap().as_secs();
    let clock = Arc::new(AtomicU64::new(start));
    let reading = clock.clone();
    let builder = harness::config_for(&workos, &base)
        .optional_paths(["/public"])
        .clock(move || UNIX_EPOCH + Duration::from_secs(reading.load(Ordering::SeqCst)));
    let layer = SsoLayer::new(configure(builder).build().expect("valid test config"));
    let seen = Seen::default();
    let jars = Arc::new(Jars::default());
    let app = routes(layer.clone(), seen.clone()).layer(layer.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    App {
        base,
        layer,
        clock,
        seen,
        client: api(),
        browser: Client::builder()
            .cookie_provider(jars.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        jars,
        browsing: tokio::sync::Mutex::new(()),
        workos,
        server,
    }
}

fn routes(sso: SsoLayer, seen: Seen) -> Router {
    Router::new()
        .route(
            "/",
            get(|p: Profile| async move { format!("home of {}", p.email) }),
        )
        .route(
            "/api/me",
            get(move |p: Profile, s: Session| async move {
                let me = serde_json::json!({
                    "email": p.email, "sid": s.id, "source": format!("{:?}", s.source),
                });
                seen.lock().unwrap().insert(s.id.clone(), (s, p));
                axum::Json(me)
            }),
        )
        .route(
            "/public",
            get(|p: Option<Profile>| async move {
                match p {
                    Some(p) => format!("public, signed in as {}", p.email),
                    None => "public, anonymous".to_owned(),
                }
            }),
        )
        .route(
            "/cli-token",
            get(move |p: Profile, s: Session, h: HeaderMap| cli_token(sso, p, s, h)),
        )
}

/// `GET /cli-token` as `examples/tonic.rs` has it: only for a browser's own session.
async fn cli_token(sso: SsoLayer, profile: Profile, session: Session, _: HeaderMap) -> Response {
    if session.source != SessionSource::Cookie {
        return (StatusCode::FORBIDDEN, "sign in with a browser").into_response();
    }
    match sso.issue_session_token_for(&session, &profile) {
        Some(token) => (
            [(header::CACHE_CONTROL, "no-store")],
            token.expose().to_owned(),
        )
            .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The app's API client (no cookies, no redirects), to reuse.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The app's clock, in unix seconds.
    pub fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn advance(&self, by: Duration) {
        self.clock.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    /// Moves the app's clock to `unix` seconds (never back).
    pub fn advance_to(&self, unix: u64) {
        assert!(unix >= self.now(), "the clock only moves forward");
        self.clock.store(unix, Ordering::SeqCst);
    }

    /// Another layer configured as this app's (same fake, secret and clock), adjusted.
    pub fn other_layer(
        &self,
        adjust: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder,
    ) -> SsoLayer {
        let reading = self.clock.clone();
        let builder = harness::config_for(&self.workos, &self.base)
            .clock(move || UNIX_EPOCH + Duration::from_secs(reading.load(Ordering::SeqCst)));
        SsoLayer::new(adjust(builder).build().expect("valid test config"))
    }

    /// A token for the session `sid` minted now, as a handler holding its `Session` would mint
    /// one for a CLI client. The app must have seen the session on `/api/me`.
    pub fn mint_for(&self, sid: &str) -> String {
        let (session, profile) = self.seen.lock().unwrap()[sid].clone();
        self.layer
            .issue_session_token_for(&session, &profile)
            .expect("the session has not reached its absolute end")
            .expose()
            .to_owned()
    }

    /// A fresh browser (no cookies) follows redirects from `path` on this app, across the app
    /// and the fake: every hop's URL, the last response, and the browser's session cookie.
    pub async fn browse(&self, path: &str) -> (Vec<String>, reqwest::Response, Option<String>) {
        let _one_at_a_time = self.browsing.lock().await;
        let jar = Arc::new(Jar::default());
        *self.jars.0.lock().unwrap() = jar.clone();
        let browser = Browser {
            client: self.browser.clone(),
            jar,
        };
        let (hops, page) = browser.follow(&self.url(path)).await;
        let token = browser.cookie(&self.base, SESSION_COOKIE);
        (hops, page, token)
    }

    /// Signs a browser in with `query` (e.g. `login_hint=bob%40example.com`); its session
    /// token. The app records the session.
    pub async fn sign_in(&self, query: &str) -> String {
        let (hops, page, token) = self.browse(&format!("/auth/login?{query}")).await;
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "sign-in with {query}: {hops:?}"
        );
        let token = token.expect("a session cookie");
        assert_eq!(self.me(&token, Use::Cookie).await.0, StatusCode::OK);
        token
    }

    /// `GET /api/me` with `token` used as `how`: the status, and the new session cookie if the
    /// answer set one.
    pub async fn me(&self, token: &str, how: Use) -> (StatusCode, Option<String>) {
        let response = how.send(&self.client, &self.url("/api/me"), token).await;
        let status = response.status();
        (status, renewed_cookie(&response))
    }

    /// Whether `token` opens the app's API as `how`; a refused one never gets a cookie back but
    /// the one that clears it.
    pub async fn opens(&self, token: &str, how: Use) -> bool {
        let (status, cookie) = self.me(token, how).await;
        match status {
            StatusCode::OK => true,
            StatusCode::UNAUTHORIZED => {
                assert_eq!(cookie, None, "a refused token was renewed");
                false
            }
            other => panic!("unexpected {other}"),
        }
    }

    /// A CLI token from `/cli-token`, with `token` as the browser's session cookie.
    pub async fn cli_token(&self, token: &str) -> String {
        let response = Use::Cookie
            .send(&self.client, &self.url("/cli-token"), token)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(renewed_cookie(&response), None, "minting renews nothing");
        response.text().await.unwrap()
    }

    /// Logs out with `token` as `how`, from this site.
    pub async fn log_out(&self, token: &str, how: Use) -> reqwest::Response {
        let request = self
            .client
            .post(self.url("/auth/logout"))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin");
        how.with(request, token).send().await.unwrap()
    }
}

/// How a client presents a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Cookie,
    Bearer,
}

impl Use {
    pub const BOTH: [Use; 2] = [Use::Cookie, Use::Bearer];

    pub fn with(self, request: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
        match self {
            Use::Cookie => request.header("cookie", format!("{SESSION_COOKIE}={token}")),
            Use::Bearer => request.bearer_auth(token),
        }
    }

    pub async fn send(self, client: &Client, url: &str, token: &str) -> reqwest::Response {
        self.with(client.get(url), token).send().await.unwrap()
    }
}

/// The session cookie a response sets, if any (`Some("")` when it clears it).
pub fn renewed_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookies(response).iter().find_map(|line| {
        let pair = line.split(';').next()?;
        pair.strip_prefix(&format!("{SESSION_COOKIE}="))
            .map(str::to_owned)
    })
}

/// A token's claims, read without checking anything.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// A claim that is a number of seconds.
pub fn seconds(token: &str, claim: &str) -> u64 {
    claims(token)[claim].as_u64().expect("a time claim")
}
