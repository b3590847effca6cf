//! An app whose handler shows what the session holds besides the profile: the hook's claims
//! and which profile fields were trimmed. The shared harness's routes do not.

use axum::Router;
use axum::routing::get;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{Claims, Profile, Session, SsoConfigBuilder, SsoLayer};

use crate::support::harness::{self, Browser, SESSION_COOKIE, set_cookies};

pub struct ClaimsApp {
    pub base: String,
    pub workos: MockWorkOs,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ClaimsApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `/me`: the profile's email and groups, the session's `trimmed`, and the claims both from the
/// `Claims` extractor and from `Session::claims`. `/public` needs no session.
fn routes() -> Router {
    Router::new()
        .route(
            "/me",
            get(
                |profile: Profile, session: Session, claims: Claims| async move {
                    axum::Json(json!({
                        "email": profile.email,
                        "groups": profile.groups,
                        "custom_attributes": profile.custom_attributes,
                        "trimmed": session.trimmed,
                        "is_trimmed": session.is_trimmed(),
                        "claims": claims,
                        "session_claims": session.claims,
                    }))
                },
            ),
        )
        .route("/public", get(|| async { "public" }))
}

/// Starts the app against `workos` with the harness's configuration (Acme's organization as
/// the default selector), adjusted by `configure`.
pub async fn start(
    workos: MockWorkOs,
    configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder,
) -> ClaimsApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let builder = harness::config_for(&workos, &base).optional_paths(["/public"]);
    let layer = SsoLayer::new(configure(builder).build().expect("valid test config"));
    let app = routes().layer(layer);
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    ClaimsApp {
        base,
        workos,
        server,
    }
}

impl ClaimsApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in with `query` (a selector and `login_hint`) in a fresh browser, landing on
    /// `/me`; returns the browser and the last response.
    pub async fn sign_in(&self, query: &str) -> (Browser, Response) {
        let browser = Browser::new();
        let url = self.url(&format!("/auth/login?{query}&return_to=%2Fme"));
        let (_, response) = browser.follow(&url).await;
        (browser, response)
    }

    /// Signs in and returns what `/me` shows.
    pub async fn me(&self, query: &str) -> Value {
        let (_, response) = self.sign_in(query).await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        response.json().await.unwrap()
    }
}

/// A refused sign-in: the status, no session cookie set or kept, not cacheable, no redirect;
/// returns the page.
pub async fn refused(
    app_base: &str,
    browser: &Browser,
    response: Response,
    status: StatusCode,
) -> String {
    assert_eq!(response.status(), status, "{}", response.url());
    assert!(
        !set_cookies(&response)
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}="))),
        "a refused sign-in sets no session"
    );
    assert!(response.headers().get("location").is_none());
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(browser.cookie(app_base, SESSION_COOKIE), None);
    response.text().await.unwrap()
}
