//! The access policy and the extractors: what each caller gets without a session.

use reqwest::StatusCode;
use tower_workos_sso::AccessPolicy;

use crate::harness::{self, Browser, api, location, signed_in};

#[tokio::test]
async fn each_kind_of_caller_gets_its_own_unauthenticated_answer() {
    let app = harness::start(|b| b).await;

    let browser = Browser::new().get(&app.url("/api/me?tab=1")).await;
    assert_eq!(browser.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&browser),
        app.url("/auth/login?return_to=%2Fapi%2Fme%3Ftab%3D1")
    );

    let json = api()
        .get(app.url("/api/me"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::UNAUTHORIZED);
    assert!(
        json.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["error"], "unauthenticated");

    let post = api()
        .post(app.url("/api/echo"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        post.status(),
        StatusCode::UNAUTHORIZED,
        "non-GET is never redirected"
    );

    let grpc = api()
        .post(app.url("/greeter.Greeter/SayHello"))
        .header("content-type", "application/grpc")
        .send()
        .await
        .unwrap();
    assert_eq!(grpc.status(), StatusCode::OK);
    assert_eq!(grpc.headers()["grpc-status"], "16");
    assert!(grpc.headers().contains_key("grpc-message"));
    assert!(grpc.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn public_paths_pass_and_optional_profiles_are_filled_when_signed_in() {
    let app = harness::start(|b| b).await;
    let anonymous = Browser::new().get(&app.url("/public")).await;
    assert_eq!(anonymous.text().await.unwrap(), "public, anonymous");
    let (browser, _) = signed_in(&app).await;
    let known = browser.get(&app.url("/public")).await;
    assert_eq!(
        known.text().await.unwrap(),
        "public, signed in as alice@example.com"
    );
    // A handler that requires a profile on a public path answers 401 itself.
    let strict = api().get(app.url("/public/strict")).send().await.unwrap();
    assert_eq!(strict.status(), StatusCode::UNAUTHORIZED);
    // Paths that only look public after normalisation stay protected.
    for sneaky in [
        "/public/../api/me",
        "/public/%2e%2e/api/me",
        "/public%2f..%2fapi/me",
    ] {
        let response = api().get(app.url(sneaky)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{sneaky}");
    }
}

#[tokio::test]
async fn with_the_optional_policy_handlers_decide() {
    let app = harness::start(|b| b.access_policy(AccessPolicy::Optional)).await;
    let home = Browser::new().get(&app.url("/")).await;
    assert_eq!(
        home.status(),
        StatusCode::UNAUTHORIZED,
        "the Profile extractor rejects, no redirect"
    );
    let body: serde_json::Value = home.json().await.unwrap();
    assert_eq!(body["error"], "unauthenticated");
    let (_, page) = Browser::new()
        .sign_in(&app, "login_hint=alice%40example.com")
        .await;
    assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
}

#[tokio::test]
async fn a_missing_layer_is_a_500_that_names_the_fix() {
    use axum::routing::get;
    use tower_workos_sso::Profile;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/", get(|p: Profile| async move { p.email }))
        .route(
            "/maybe",
            get(|p: Option<Profile>| async move { format!("{p:?}") }),
        );
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in ["/", "/maybe"] {
        let response = api().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("is `SsoLayer` installed with `.layer()`")
        );
    }
    server.abort();
}

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
    // A public path itself passes (404 from the router: it has no such page), so a sneaky path
    // wrongly taken as public would answer 404, not 401.
    assert_eq!(raw_get_status(&app, "/public/no-such-page").await, 404);
    for sneaky in [
        "/public/..;/api/me",
        "/public/..;jsessionid=1/api/me",
        "/public;x=1/../api/me",
        "/public/%2e%2e;/api/me",
        "/public/%252e%252e/api/me",
        "/public/%25252e%25252e/api/me",
        "/public/%c0%ae%c0%ae/api/me",
        "/public/%e0%80%ae%e0%80%ae/api/me",
        "/public/%C0%AE./api/me",
        "/public/%u002e%u002e/api/me",
        "/public/..%5capi/me",
        "/public/..%5Capi%5Cme",
        "/public/%2e%2e%2fapi%2fme",
        "/public/x%00.css",
        "/public/%3b/api/me",
    ] {
        assert_eq!(raw_get_status(&app, sneaky).await, 401, "{sneaky}");
    }
    // A raw backslash: refused by the server or the layer, never served as public.
    let status = raw_get_status(&app, "/public\\..\\api/me").await;
    assert!(matches!(status, 400 | 401), "raw backslash: {status}");
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
