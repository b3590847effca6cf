//! Public paths and caches (SECURITY.md X4, X5, X6): paths a server could normalise into another
//! are never public or optional, public paths never read a session, and pages made for one user
//! are never served to another by a cache.

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tower_workos_sso::{Guard, Profile};

use crate::support::harness::{self, Browser, SESSION_COOKIE, api, signed_in};

/// Sends `GET path` as written, byte for byte (an HTTP client library would normalise it), and
/// returns the status code.
async fn raw_get_status(app: &harness::App, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).unwrap_or_default();
    status
        .parse()
        .unwrap_or_else(|_| panic!("no status for {path}: {answer}"))
}

#[tokio::test]
async fn x4_paths_a_server_could_normalise_into_another_are_never_public() {
    let app = harness::start(|b| b).await;
    // Under an optional prefix (`/public/*`) and a public one (`/assets/*`) alike.
    for prefix in ["/public", "/assets"] {
        // A listed path itself passes (404 from the router: it has no such page), so a sneaky
        // path wrongly taken as listed would answer 404, not 401.
        let page = format!("{prefix}/no-such-page");
        assert_eq!(raw_get_status(&app, &page).await, 404, "{page}");
        for sneaky in [
            "/..;/api/me",
            "/..;jsessionid=1/api/me",
            ";x=1/../api/me",
            "/%2e%2e;/api/me",
            "/%252e%252e/api/me",
            "/%25252e%25252e/api/me",
            "/%c0%ae%c0%ae/api/me",
            "/%e0%80%ae%e0%80%ae/api/me",
            "/%C0%AE./api/me",
            "/%u002e%u002e/api/me",
            "/..%5capi/me",
            "/..%5Capi%5Cme",
            "/%2e%2e%2fapi%2fme",
            "/x%00.css",
            "/%3b/api/me",
        ] {
            let sneaky = format!("{prefix}{sneaky}");
            assert_eq!(raw_get_status(&app, &sneaky).await, 401, "{sneaky}");
        }
        // A raw backslash: refused by the server or the layer, never served as listed.
        let backslash = format!("{prefix}\\..\\api/me");
        let status = raw_get_status(&app, &backslash).await;
        assert!(matches!(status, 400 | 401), "raw backslash: {status}");
    }
}

/// A second server behind `app`'s layer, whose public paths (`/health`, `/assets/*`) have
/// handlers that ask for the session anyway.
async fn asks_on_public_paths(app: &harness::App) -> (String, tokio::task::JoinHandle<()>) {
    let sso = app.layer.clone();
    let router =
        Router::new()
            .route(
                "/health",
                get(|request: axum::extract::Request| async move {
                    let profile = request.extensions().get::<Profile>().is_some();
                    format!("ok, profile in the extensions: {profile}")
                }),
            )
            .route(
                "/assets/{*file}",
                get(|p: Option<Profile>| async move { p.is_some().to_string() }),
            )
            .route(
                "/assets/strict",
                get(|p: Profile| async move { p.email.clone() }),
            )
            .route(
                "/assets/admin",
                get(|| async { "admins only" }).route_layer(sso.require(Guard::role("admin"))),
            )
            .route(
                "/public",
                get(|p: Option<Profile>| async move {
                    p.map(|p| p.email.to_string()).unwrap_or_default()
                }),
            )
            .layer(sso);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, server)
}

#[tokio::test]
async fn x6_public_paths_never_read_a_session_and_say_so_to_whoever_asks_for_one() {
    let app = harness::start(|b| b).await;
    let (base, server) = asks_on_public_paths(&app).await;
    let (_, token) = signed_in(&app).await;
    let get = |path: &str, cookie: Option<&str>| {
        let mut request = api()
            .get(format!("{base}{path}"))
            .header("accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.header("cookie", format!("{SESSION_COOKIE}={cookie}"));
        }
        request.send()
    };
    // A valid session, a forged one and none: the app gets the same request, the response
    // leaves the layer as the app made it (no cookie renewed or cleared, no cache headers).
    for cookie in [Some(token.as_str()), Some("forged.token.value"), None] {
        let health = get("/health", cookie).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK, "{cookie:?}");
        for name in ["set-cookie", "vary", "cache-control"] {
            assert!(health.headers().get(name).is_none(), "{cookie:?}: {name}");
        }
        let text = health.text().await.unwrap();
        assert_eq!(text, "ok, profile in the extensions: false", "{cookie:?}");
        // Extractors and guards that need the session say it is not read here: never "not
        // signed in", which would send a signed-in user round a login loop.
        for path in ["/assets/app.css", "/assets/strict", "/assets/admin"] {
            let answer = get(path, cookie).await.unwrap();
            assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            let body: serde_json::Value = answer.json().await.unwrap();
            assert_eq!(body["error"], "session_not_read", "{path} {cookie:?}");
        }
    }
    // The same session on an optional path is read.
    let public = get("/public", Some(&token)).await.unwrap();
    assert_eq!(public.text().await.unwrap(), "alice@example.com");
    server.abort();
}

#[tokio::test]
async fn x5_responses_for_a_session_are_private_to_caches_and_vary_on_the_cookie() {
    let app = harness::start(|b| b).await;
    let anonymous = Browser::new().get(&app.url("/public")).await;
    assert!(anonymous.headers().get("cache-control").is_none());
    assert!(anonymous.headers().get("vary").is_none());

    let (browser, _) = signed_in(&app).await;
    for path in ["/", "/public", "/api/me"] {
        let response = browser.get(&app.url(path)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cache = response.headers()["cache-control"].to_str().unwrap();
        assert!(cache == "private" || cache == "no-store", "{path}: {cache}");
        let vary: Vec<_> = response
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect();
        assert!(
            vary.iter()
                .any(|v| v.split(',').any(|n| n.trim() == "cookie")),
            "{path}: {vary:?}"
        );
    }
}
