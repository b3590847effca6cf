//! The access policy and the extractors: what each caller gets without a session.

use reqwest::StatusCode;
use tower_workos_sso::AccessPolicy;

use crate::support::harness::{self, Browser, api, api_get_json, location, signed_in};

#[tokio::test]
async fn each_kind_of_caller_gets_its_own_unauthenticated_answer() {
    let app = harness::start(|b| b).await;

    let browser = Browser::new().get(&app.url("/api/me?tab=1")).await;
    assert_eq!(browser.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&browser),
        app.url("/auth/login?return_to=%2Fapi%2Fme%3Ftab%3D1")
    );

    let json = api_get_json(&app.url("/api/me")).await;
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
async fn optional_paths_pass_and_profiles_are_filled_when_signed_in() {
    let app = harness::start(|b| b).await;
    let anonymous = Browser::new().get(&app.url("/public")).await;
    assert_eq!(anonymous.text().await.unwrap(), "public, anonymous");
    let (browser, _) = signed_in(&app).await;
    let known = browser.get(&app.url("/public")).await;
    assert_eq!(
        known.text().await.unwrap(),
        "public, signed in as alice@example.com"
    );
    // A handler that requires a profile on an optional path answers 401 itself.
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
        .route("/", get(|p: Profile| async move { p.email.clone() }))
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

/// Extractors know the layer ran without it writing into anonymous requests: through the
/// tower-http layers and the `Buffer` a stack may put between it and the handlers, an anonymous
/// `Option<Profile>` is `None` and a required `Profile` a 401, never the missing-layer 500.
#[tokio::test]
async fn extractors_see_the_layer_through_the_layers_between() {
    use std::time::Duration;

    use axum::routing::get;
    use tower::ServiceBuilder;
    use tower_http::timeout::TimeoutLayer;
    use tower_workos_sso::{Profile, SsoLayer};

    let workos = tower_workos_sso::testkit::MockWorkOs::start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = harness::config_for(&workos, &base)
        .optional_paths(["/public", "/public/*"])
        .build()
        .unwrap();
    let inner = ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            |_: tower::BoxError| async { StatusCode::SERVICE_UNAVAILABLE },
        ))
        .buffer(8)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(5),
        ));
    let app = axum::Router::new()
        .route(
            "/public",
            get(|p: Option<Profile>| async move { format!("{:?}", p.map(|p| p.email.clone())) }),
        )
        .route(
            "/public/strict",
            get(|p: Profile| async move { p.email.clone() }),
        )
        .layer(inner)
        .layer(SsoLayer::new(config));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let maybe = api().get(format!("{base}/public")).send().await.unwrap();
    assert_eq!(maybe.status(), StatusCode::OK);
    assert_eq!(maybe.text().await.unwrap(), "None");
    let strict = api()
        .get(format!("{base}/public/strict"))
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status(), StatusCode::UNAUTHORIZED);
    server.abort();
}
