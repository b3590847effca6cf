//! U2-U3: step-up re-authentication. A browser whose sign-in is older than the guard allows is
//! sent back through WorkOS with `prompt=login` for its own organization and returns to the
//! page; renewing a session never counts as signing in; API and gRPC callers get 401 / 16
//! with a reason; the restart obeys the admitted set and never loops.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get};
use reqwest::StatusCode;
use tower_workos_sso::testkit::{Endpoint, MockWorkOs};
use tower_workos_sso::{Guard, Profile, Selector, Session, SsoLayer};

use super::app::{self, Custom};
use crate::support::harness::{Browser, SESSION_COOKIE, api, location};

const FIVE_MINUTES: Duration = Duration::from_secs(300);

fn routes(sso: &SsoLayer) -> Router {
    Router::new()
        .route(
            "/sensitive",
            any(|p: Profile, s: Session| async move {
                let at = s
                    .authenticated_at
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap();
                format!("sensitive for {} signed in at {}", p.email, at.as_secs())
            }),
        )
        .route_layer(sso.require(Guard::signed_in_within(FIVE_MINUTES)))
        .route(
            "/",
            any(|p: Profile| async move { format!("home of {}", p.email) }),
        )
        .route(
            "/account",
            get(|p: Profile| async move { format!("account of {}", p.email) }),
        )
}

async fn start(
    configure: impl FnOnce(tower_workos_sso::SsoConfigBuilder) -> tower_workos_sso::SsoConfigBuilder,
) -> Custom {
    let workos = MockWorkOs::start().await.unwrap();
    app::start(workos, configure, routes).await
}

async fn signed_in(app: &Custom, email: &str) -> Browser {
    let browser = Browser::new();
    let (_, page) = browser
        .follow(&app.url(&format!(
            "/auth/login?login_hint={}",
            email.replace('@', "%40")
        )))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    browser
}

fn query(url: &str) -> HashMap<String, String> {
    let (_, query) = url.split_once('?').unwrap();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn u2_a_stale_sign_in_goes_back_through_workos_with_prompt_login_and_returns_to_the_page() {
    let app = start(|b| b).await;
    let browser = signed_in(&app, "alice@example.com").await;
    let fresh = browser.get(&app.url("/sensitive?x=1")).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let first = fresh.text().await.unwrap();

    app.advance(FIVE_MINUTES + Duration::from_secs(1));
    let stale = browser.get(&app.url("/sensitive?x=1")).await;
    assert_eq!(stale.status(), StatusCode::FOUND, "straight to WorkOS");
    let authorize = location(&stale);
    assert!(authorize.starts_with(&format!(
        "{}/sso/authorize?client_id=",
        app.workos.base_url()
    )));
    let params = query(&authorize);
    assert_eq!(params["prompt"], "login");
    assert_eq!(
        params["organization"], "org_01ACME",
        "the session's own organization"
    );
    assert_eq!(params["login_hint"], "alice@example.com");

    // The fresh sign-in comes back to the same page, which now lets it through: no loop.
    let (hops, page) = browser.follow(&authorize).await;
    assert!(hops.last().unwrap().ends_with("/sensitive?x=1"), "{hops:?}");
    assert!(hops.len() <= 3, "{hops:?}");
    assert_eq!(page.status(), StatusCode::OK);
    let second = page.text().await.unwrap();
    assert!(second.starts_with("sensitive for alice@example.com"));
    assert_ne!(first, second, "a new authenticated_at");
    assert_eq!(
        browser.get(&app.url("/sensitive?x=1")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn u2_renewing_a_session_does_not_count_as_signing_in() {
    let app = start(|b| b.idle_timeout(Duration::from_secs(240))).await;
    let browser = signed_in(&app, "alice@example.com").await;
    let before = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    app.advance(Duration::from_secs(180));
    assert_eq!(browser.get(&app.url("/")).await.status(), StatusCode::OK);
    let renewed = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    assert_ne!(before, renewed, "the session was renewed");
    app.advance(Duration::from_secs(180));
    let stale = browser.get(&app.url("/sensitive")).await;
    assert_eq!(stale.status(), StatusCode::FOUND);
    assert_eq!(query(&location(&stale))["prompt"], "login");
}

#[tokio::test]
async fn u2_api_and_grpc_callers_with_a_stale_sign_in_get_401_with_a_reason() {
    let app = start(|b| b).await;
    let browser = signed_in(&app, "alice@example.com").await;
    let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    let call = |content_type: &'static str| {
        api()
            .post(app.url("/sensitive"))
            .bearer_auth(&token)
            .header("accept", "application/json")
            .header("content-type", content_type)
            .send()
    };
    assert_eq!(
        call("application/json").await.unwrap().status(),
        StatusCode::OK
    );
    app.advance(FIVE_MINUTES + Duration::from_secs(1));

    let refused = call("application/json").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_user_authentication""#),
        "{challenge}"
    );
    assert!(challenge.contains("max_age=300"), "{challenge}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "reauthentication_required");
    assert_eq!(body["max_age"], 300);

    let grpc = call("application/grpc").await.unwrap();
    assert_eq!(grpc.status(), StatusCode::OK);
    assert_eq!(grpc.headers()["grpc-status"], "16");
    let message = grpc.headers()["grpc-message"].to_str().unwrap();
    assert!(
        message.starts_with("reauthentication required"),
        "{message}"
    );
    assert_eq!(
        app.workos.requests(Endpoint::Authorize),
        1,
        "only the first sign-in"
    );
}

#[tokio::test]
async fn u3_the_restart_obeys_the_admitted_set() {
    // Carol signs in through Globex on an app that admits it...
    let workos = MockWorkOs::start().await.unwrap();
    let globex = app::start(
        workos,
        |b| b.allowed_organizations(["org_01GLOBEX"]),
        routes,
    )
    .await;
    let mut carol = Browser::new();
    let (_, page) = carol
        .follow(&globex.url("/auth/login?organization=org_01GLOBEX&login_hint=carol%40globex.test"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let token = carol.cookie(&globex.base, SESSION_COOKIE).unwrap();

    // ...then meets the step-up on an app (same secret) that admits only Acme: no flow, a 403.
    let acme_workos = MockWorkOs::start().await.unwrap();
    let acme = app::start(
        acme_workos,
        |b| b.default_selector(Selector::organization("org_01ACME").unwrap()),
        routes,
    )
    .await;
    acme.advance(FIVE_MINUTES + Duration::from_secs(1));
    carol = Browser::new();
    let stale = carol
        .client
        .get(acme.url("/sensitive"))
        .header("accept", "text/html")
        .header("cookie", format!("{SESSION_COOKIE}={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert!(stale.headers().get("location").is_none());
    assert!(
        stale
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().contains("_flow_"))
    );
    assert_eq!(acme.workos.requests(Endpoint::Authorize), 0);
}

/// A form on `/account?tab=security` posting to the guarded `/sensitive`, as a browser sends it.
async fn post_form(
    app: &Custom,
    browser: &Browser,
    headers: &[(&str, &str)],
    referer: Option<String>,
) -> reqwest::Response {
    let mut request = browser
        .client
        .post(app.url("/sensitive"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("confirm=yes");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(referer) = referer {
        request = request.header("referer", referer);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn u2_a_stale_browser_form_post_restarts_the_sign_in_and_returns_to_the_form_s_page() {
    let app = start(|b| b).await;
    let browser = signed_in(&app, "alice@example.com").await;
    let navigate = [
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-dest", "document"),
    ];
    let form_page = app.url("/account?tab=security");
    let fresh = post_form(&app, &browser, &navigate, Some(form_page.clone())).await;
    assert_eq!(fresh.status(), StatusCode::OK);

    app.advance(FIVE_MINUTES + Duration::from_secs(1));
    let stale = post_form(&app, &browser, &navigate, Some(form_page.clone())).await;
    assert_eq!(
        stale.status(),
        StatusCode::SEE_OTHER,
        "a 303, so the browser GETs WorkOS"
    );
    assert_eq!(stale.headers()["cache-control"], "no-store");
    let authorize = location(&stale);
    assert!(authorize.starts_with(&format!(
        "{}/sso/authorize?client_id=",
        app.workos.base_url()
    )));
    let params = query(&authorize);
    assert_eq!(params["prompt"], "login");
    assert_eq!(params["organization"], "org_01ACME");
    assert_eq!(params["login_hint"], "alice@example.com");
    // Back on the page the form was on, signed in afresh: the form posts again and passes.
    let (hops, page) = browser.follow(&authorize).await;
    assert_eq!(hops.last().unwrap(), &form_page, "{hops:?}");
    assert_eq!(page.text().await.unwrap(), "account of alice@example.com");
    let again = post_form(&app, &browser, &navigate, Some(form_page)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .starts_with("sensitive for alice@example.com")
    );
}

#[tokio::test]
async fn u2_a_stale_form_post_returns_only_to_a_same_origin_page_and_api_posts_keep_their_401() {
    let app = start(|b| b).await;
    let browser = signed_in(&app, "alice@example.com").await;
    app.advance(FIVE_MINUTES + Duration::from_secs(1));

    // An older browser (no Sec-Fetch-*), or a Referer that is not a safe page of this app: the
    // restart still happens, and lands on the default page.
    let elsewhere = [
        None,
        Some("https://evil.test/account".to_owned()),
        Some(format!("{}.evil.test/account", app.base)),
        Some(app.url("/auth/logout")),
        Some(app.url("//evil.test/x")),
    ];
    for referer in elsewhere {
        let stale = post_form(&app, &browser, &[], referer.clone()).await;
        assert_eq!(stale.status(), StatusCode::SEE_OTHER, "{referer:?}");
        let authorize = location(&stale);
        assert_eq!(query(&authorize)["prompt"], "login");
        let (hops, _) = browser.follow(&authorize).await;
        assert_eq!(hops.last().unwrap(), &app.url("/"), "{referer:?}: {hops:?}");
        app.advance(FIVE_MINUTES + Duration::from_secs(1));
    }

    // Scripts and API clients posting keep the 401 with its reason; nothing is started.
    let before = app.workos.requests(Endpoint::Authorize);
    for headers in [
        &[
            ("sec-fetch-mode", "cors"),
            ("sec-fetch-site", "same-origin"),
        ][..],
        &[("x-requested-with", "XMLHttpRequest")][..],
    ] {
        let refused = post_form(&app, &browser, headers, Some(app.url("/account"))).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "reauthentication_required");
    }
    let json = browser
        .client
        .post(app.url("/sensitive"))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.workos.requests(Endpoint::Authorize), before);
}
