//! A real app for the tests: axum on 127.0.0.1 with `SsoLayer`, the testkit fake WorkOS, and
//! a cookie-keeping client that follows redirects one hop at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::{get, post};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, Response, StatusCode, Url};
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{Profile, Session, SsoConfig, SsoConfigBuilder, SsoLayer};

pub const SECRET: &[u8] = b"integration-test-session-secret-0123456789";

pub struct App {
    pub base: String,
    pub workos: MockWorkOs,
    pub layer: SsoLayer,
    clock_offset: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The app's routes: a protected home, a JSON API, an optional-auth page (`/public`), one that
/// needs a profile under it, and a public health check.
fn routes() -> Router {
    Router::new()
        .route(
            "/",
            get(|p: Profile| async move { format!("home of {}", p.email) }),
        )
        .route(
            "/api/me",
            get(|p: Profile, s: Session| async move {
                axum::Json(serde_json::json!({
                    "email": p.email, "id": p.id, "organization_id": p.organization_id,
                    "connection_type": p.connection_type, "sid": s.id,
                    "source": format!("{:?}", s.source),
                }))
            }),
        )
        .route(
            "/api/echo",
            post(|p: Profile| async move { p.email.clone() }),
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
            "/public/strict",
            get(|p: Profile| async move { p.email.clone() }),
        )
        .route("/health", get(|| async { "ok" }))
}

/// Starts the fake WorkOS and the app (see [`start_with`]); `configure` adjusts the layer's configuration.
/// The default selector is Acme's organization, so `login_hint` alone signs alice in.
pub async fn start(configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder) -> App {
    let workos = MockWorkOs::start().await.expect("fake WorkOS starts");
    start_with(workos, |b| {
        configure(
            b.default_selector(tower_workos_sso::Selector::organization("org_01ACME").unwrap()),
        )
    })
    .await
}

/// Starts the app against `workos`, with no default selector.
pub async fn start_with(
    workos: MockWorkOs,
    configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder,
) -> App {
    start_with_base(workos, |_, builder| configure(builder)).await
}

/// Like [`start_with`], but `configure` also gets the app's base URL (`http://127.0.0.1:port`).
pub async fn start_with_base(
    workos: MockWorkOs,
    configure: impl FnOnce(&str, SsoConfigBuilder) -> SsoConfigBuilder,
) -> App {
    start_app(workos, routes(), configure).await
}

/// Like [`start_with_base`], with the app's own routes instead of the harness's.
pub async fn start_app(
    workos: MockWorkOs,
    routes: Router,
    configure: impl FnOnce(&str, SsoConfigBuilder) -> SsoConfigBuilder,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let clock_offset = Arc::new(AtomicU64::new(0));
    let offset = clock_offset.clone();
    let builder = base_config(&workos, &base)
        .optional_paths(["/public", "/public/*"])
        .public_paths(["/health", "/assets/*"])
        .clock(move || SystemTime::now() + Duration::from_secs(offset.load(Ordering::SeqCst)));
    let layer = SsoLayer::new(
        configure(&base, builder)
            .build()
            .expect("valid test config"),
    );
    let app = routes.layer(layer.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    App {
        base,
        workos,
        layer,
        clock_offset,
        server,
    }
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Moves the app's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock_offset.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

/// A browser: a cookie jar, no automatic redirects, and `Accept: text/html` by default.
pub struct Browser {
    pub client: Client,
    pub jar: Arc<Jar>,
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { client, jar }
    }

    pub async fn get(&self, url: &str) -> Response {
        self.client
            .get(url)
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap()
    }

    /// Follows redirects from `url` (across the app and the fake) and returns every hop's URL
    /// with the final response.
    pub async fn follow(&self, url: &str) -> (Vec<String>, Response) {
        let mut hops = vec![url.to_owned()];
        let mut response = self.get(url).await;
        for _ in 0..10 {
            if !response.status().is_redirection() {
                return (hops, response);
            }
            let next = location(&response);
            hops.push(next.clone());
            response = self.get(&next).await;
        }
        panic!("redirect loop: {hops:?}");
    }

    /// The value of the cookie `name` the jar would send to `url`.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let header = self.jar.cookies(&Url::parse(url).unwrap())?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    /// Signs in with `login_hint` and returns the final page.
    pub async fn sign_in(&self, app: &App, query: &str) -> (Vec<String>, Response) {
        self.follow(&app.url(&format!("/auth/login?{query}"))).await
    }
}

/// The absolute URL a redirect points to.
pub fn location(response: &Response) -> String {
    let location = response.headers()["location"].to_str().unwrap();
    response.url().join(location).unwrap().to_string()
}

/// The `Set-Cookie` lines of a response.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub const SESSION_COOKIE: &str = "sso_session";

/// A signed-in browser (alice, through the default organization) and its session token.
pub async fn signed_in(app: &App) -> (Browser, String) {
    let browser = Browser::new();
    let (_, page) = browser.sign_in(app, "login_hint=alice%40example.com").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
    let token = browser
        .cookie(&app.base, SESSION_COOKIE)
        .expect("session cookie");
    (browser, token)
}

/// A plain API client with no cookies.
pub fn api() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A GET from a plain API client (no cookies, no redirects) that asks for JSON.
pub async fn api_get_json(url: &str) -> Response {
    api()
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

/// The harness's configuration for another server at `base` (gRPC, plain hyper) against
/// `workos`: the same session secret and client id as [`start`]'s apps, so sessions issued by one
/// verify on the other, and Acme's organization as the default selector.
pub fn config_for(workos: &MockWorkOs, base: &str) -> SsoConfigBuilder {
    base_config(workos, base)
        .default_selector(tower_workos_sso::Selector::organization("org_01ACME").unwrap())
}

/// What every test server shares: the fake's credentials, the test secret, short timeouts.
fn base_config(workos: &MockWorkOs, base: &str) -> SsoConfigBuilder {
    SsoConfig::builder()
        .api_key(workos.api_key())
        .client_id(workos.client_id())
        .api_base_url(workos.base_url())
        .redirect_uri(format!("{base}/auth/callback"))
        .session_secret(SECRET.to_vec())
        .workos_timeouts(Duration::from_secs(2), Duration::from_secs(3))
}

/// A profile as WorkOS would return it for alice, for minting tokens directly.
pub fn alice() -> Profile {
    serde_json::from_value(serde_json::json!({
        "id": "prof_01ALICE", "email": "alice@example.com", "first_name": "Alice",
        "last_name": "Liddell", "organization_id": "org_01ACME",
        "connection_id": "conn_01ACMEOKTA", "connection_type": "OktaSAML",
    }))
    .expect("a valid profile")
}
