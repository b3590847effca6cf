//! The app's own pages: the chooser, the confirmation and the error pages of the SSO routes,
//! rendered by the app from the data the layer gives it; status and headers stay the layer's.

use reqwest::StatusCode;
use tower_workos_sso::pages::{Page, escape};
use tower_workos_sso::testkit::MockWorkOs;

use crate::support::harness::{self, Browser, set_cookies};

#[tokio::test]
async fn the_app_renders_the_chooser_the_confirmation_and_the_error_pages() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_with(workos, |b| {
        b.allowed_organizations(["org_01ACME", "org_01GLOBEX"])
            .allowed_providers(["GoogleOAuth"])
            .route_domains_through_workos()
            .pages(|page: &Page| match page {
                Page::Chooser(chooser) => Some(format!(
                    "<p>my chooser: {} to {} via {}; {}</p>",
                    chooser.providers[0].provider,
                    escape(&chooser.return_to),
                    chooser.action,
                    chooser.message.unwrap_or("-"),
                )),
                Page::Confirm(confirm) => Some(format!(
                    "<p>my confirmation of {:?}, posting to {}</p>",
                    confirm.selector,
                    escape(&confirm.action)
                )),
                Page::Error(error) if error.status == StatusCode::BAD_REQUEST => Some(format!(
                    "<p>my error: {} / {}</p>",
                    escape(&error.title),
                    escape(&error.message)
                )),
                _ => None,
            })
    })
    .await;
    let browser = Browser::new();

    let chooser = browser.get(&app.url("/auth/login?return_to=/x")).await;
    assert_eq!(chooser.status(), StatusCode::OK);
    assert_eq!(chooser.headers()["cache-control"], "no-store");
    assert_eq!(
        chooser.text().await.unwrap(),
        "<p>my chooser: GoogleOAuth to /x via /auth/login; -</p>"
    );
    let unknown = browser
        .get(&app.url("/auth/login?email=a%40nowhere.test"))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("not set up for this email domain")
    );

    let confirm = browser
        .client
        .get(app.url("/auth/login?organization=org_01GLOBEX"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), StatusCode::OK);
    assert!(set_cookies(&confirm).is_empty());
    assert_eq!(
        confirm.text().await.unwrap(),
        "<p>my confirmation of Selector(organization=org_01GLOBEX), posting to \
         /auth/login?organization=org_01GLOBEX&amp;return_to=%2F</p>"
    );

    let error = browser.get(&app.url("/auth/callback?code=x")).await;
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error.headers()["referrer-policy"], "no-referrer");
    let body = error.text().await.unwrap();
    assert!(body.starts_with("<p>my error: Sign-in failed / "), "{body}");

    // `None` keeps the layer's own page.
    let refused = browser
        .get(&app.url("/auth/login?organization=org_01OTHER"))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("<!doctype html>"));
}

#[tokio::test]
async fn a_guards_403_page_is_the_apps_too() {
    use axum::Router;
    use axum::routing::get;
    use tower_workos_sso::{Guard, Profile};

    let app = harness::start(|b| {
        b.pages(|page: &Page| match page {
            Page::Error(error) => Some(format!(
                "<p>my {}: {}</p>",
                error.status.as_u16(),
                escape(&error.title)
            )),
            _ => None,
        })
    })
    .await;
    let sso = app.layer.clone();
    let router = Router::new()
        .route("/admin", get(|p: Profile| async move { p.email.clone() }))
        .route_layer(sso.require(Guard::role("admin")))
        .layer(sso);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let browser = Browser::new();
    let (_, page) = browser.sign_in(&app, "login_hint=bob%40example.com").await;
    assert_eq!(page.status(), StatusCode::OK);
    let token = browser.cookie(&app.base, harness::SESSION_COOKIE).unwrap();
    let denied = harness::api()
        .get(format!("{base}/admin"))
        .header("accept", "text/html")
        .header("cookie", format!("{}={token}", harness::SESSION_COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(denied.headers()["cache-control"], "no-store");
    assert_eq!(denied.text().await.unwrap(), "<p>my 403: Access denied</p>");
    server.abort();
}
