//! Route guards (SECURITY.md A5): a signed-in caller who fails one gets 403 in the form that
//! fits them, never a login redirect.

use axum::Router;
use axum::routing::{get, post};
use reqwest::StatusCode;
use tower_workos_sso::{Guard, Profile};

use crate::support::harness::{self, Browser, SESSION_COOKIE, api};

/// A second server behind the same layer as `app`, with guarded routes.
async fn guarded(app: &harness::App) -> (String, tokio::task::JoinHandle<()>) {
    let sso = app.layer.clone();
    let router = Router::new()
        .route("/admin", get(|p: Profile| async move { p.email.clone() }))
        .route_layer(sso.require(Guard::role("admin")))
        .route(
            "/engineering",
            get(|p: Profile| async move { p.email.clone() })
                .route_layer(sso.require(Guard::group("Engineering"))),
        )
        .route(
            "/globex",
            post(|p: Profile| async move { p.email.clone() })
                .route_layer(sso.require(Guard::organization("org_01GLOBEX"))),
        )
        .route(
            "/acme-admins",
            get(|p: Profile| async move { p.email.clone() }).route_layer(
                sso.require(
                    Guard::organization("org_01ACME")
                        .and(Guard::predicate("example.com mail", |p| {
                            p.email.ends_with("@example.com")
                        }))
                        .and(Guard::role("admin")),
                ),
            ),
        )
        .layer(sso);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, server)
}

async fn session_of(app: &harness::App, email: &str) -> String {
    let browser = Browser::new();
    let (_, page) = browser
        .sign_in(app, &format!("login_hint={}", email.replace('@', "%40")))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{email} signs in");
    browser.cookie(&app.base, SESSION_COOKIE).unwrap()
}

#[tokio::test]
async fn a5_signed_in_callers_failing_a_guard_get_403_never_a_login_redirect() {
    let app = harness::start(|b| b).await;
    let (base, server) = guarded(&app).await;
    let alice = session_of(&app, "alice@example.com").await; // admin, Engineering
    let bob = session_of(&app, "bob@example.com").await; // member

    let as_browser = |path: &str, token: &str| {
        api()
            .get(format!("{base}{path}"))
            .header("accept", "text/html")
            .header("cookie", format!("{SESSION_COOKIE}={token}"))
            .send()
    };
    for (path, token, allowed) in [
        ("/admin", &alice, true),
        ("/admin", &bob, false),
        ("/engineering", &alice, true),
        ("/engineering", &bob, false),
        ("/acme-admins", &alice, true),
        ("/acme-admins", &bob, false),
    ] {
        let response = as_browser(path, token).await.unwrap();
        if allowed {
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.text().await.unwrap(), "alice@example.com");
        } else {
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
            assert!(response.headers().get("location").is_none(), "{path}");
            let body = response.text().await.unwrap();
            assert!(body.contains("<h1>Access denied</h1>"), "{path}: {body}");
        }
    }

    // The same refusal for an API client (JSON) and a gRPC client (PERMISSION_DENIED).
    let json = api()
        .post(format!("{base}/globex"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["error"], "forbidden");
    let grpc = api()
        .post(format!("{base}/globex"))
        .bearer_auth(&bob)
        .header("content-type", "application/grpc")
        .send()
        .await
        .unwrap();
    assert_eq!(grpc.status(), StatusCode::OK);
    assert_eq!(grpc.headers()["grpc-status"], "7");

    // Without a session a guarded route gives the usual sign-in answer.
    let anonymous = api()
        .get(format!("{base}/admin"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert!(
        anonymous.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/auth/login?return_to=%2Fadmin")
    );
    server.abort();
}
