//! Login CSRF (SECURITY.md A4) and the one-restart rule (X3): a login another site starts never
//! completes silently when it names a non-default selector or would replace a live session.

use reqwest::StatusCode;
use tower_workos_sso::IdpInitiatedLogin;
use tower_workos_sso::testkit::Endpoint;

use crate::support::forge::query_param;
use crate::support::harness::{
    self, App, Browser, SESSION_COOKIE, location, set_cookies, signed_in,
};

/// An app that admits what these tests sign in through besides the default organization.
async fn start() -> App {
    harness::start(|b| {
        b.allowed_organizations(["org_01GLOBEX"])
            .allowed_connections(["conn_01GLOBEXENTRA"])
            .allowed_providers(["GoogleOAuth"])
    })
    .await
}

/// `GET url` from `browser` with extra request headers (a browser's `Sec-Fetch-*`, `Origin`,
/// `Referer`).
async fn get_with(browser: &Browser, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = browser
        .client
        .get(url)
        .header("accept", "text/html,application/xhtml+xml");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The ways a browser says another site started a navigation.
const CROSS_SITE: &[&[(&str, &str)]] = &[
    &[
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "navigate"),
    ],
    &[("sec-fetch-site", "same-site")],
    &[("referer", "https://attacker.example/phish")],
    &[("referer", "http://127.0.0.1.attacker.example/")],
    &[("origin", "https://attacker.example")],
];

/// A confirmation page: 200, names `id`, posts back to the login, sets no cookie, no redirect.
async fn assert_confirmation(response: reqwest::Response, id: &str, what: &str) -> String {
    assert_eq!(response.status(), StatusCode::OK, "{what}");
    assert!(response.headers().get("location").is_none(), "{what}");
    // No flow and no session is set (a used flow cookie may be cleared).
    for line in set_cookies(&response) {
        assert!(line.contains("Max-Age=0"), "{what}: sets {line}");
    }
    assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    let body = response.text().await.unwrap();
    assert!(body.contains("Confirm sign-in"), "{what}: {body}");
    assert!(body.contains(id), "{what}: names {id}");
    assert!(
        body.contains(r#"<form method="post" action="/auth/login?"#),
        "{what}"
    );
    body
}

/// The confirmation form's action, unescaped.
fn form_action(app: &App, body: &str) -> String {
    let start = body.find(r#"action=""#).unwrap() + r#"action=""#.len();
    let end = start + body[start..].find('"').unwrap();
    app.url(&body[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn a4_a_cross_site_login_for_another_selector_stops_at_a_confirmation() {
    let app = start().await;
    for headers in CROSS_SITE {
        for (query, id) in [
            ("organization=org_01GLOBEX", "org_01GLOBEX"),
            ("connection=conn_01GLOBEXENTRA", "conn_01GLOBEXENTRA"),
            ("provider=GoogleOAuth&return_to=/api/me", "GoogleOAuth"),
        ] {
            let browser = Browser::new();
            let url = app.url(&format!("/auth/login?{query}"));
            let response = get_with(&browser, &url, headers).await;
            assert_confirmation(response, id, &format!("{query} {headers:?}")).await;
        }
    }
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);

    // The same links from this site, typed in, or from a client that says nothing, go on.
    for headers in [
        &[("sec-fetch-site", "same-origin")][..],
        &[("sec-fetch-site", "none")],
        &[("referer", &*app.url("/"))],
        &[],
    ] {
        let response = get_with(
            &Browser::new(),
            &app.url("/auth/login?organization=org_01GLOBEX"),
            headers,
        )
        .await;
        assert_eq!(response.status(), StatusCode::FOUND, "{headers:?}");
        assert!(location(&response).starts_with(&app.workos.base_url()));
    }
}

#[tokio::test]
async fn a4_the_confirmation_goes_on_only_as_a_same_origin_post() {
    let app = start().await;
    let browser = Browser::new();
    let page = get_with(
        &browser,
        &app.url("/auth/login?organization=org_01GLOBEX&login_hint=carol%40globex.test&return_to=/api/me"),
        CROSS_SITE[0],
    )
    .await;
    let body = assert_confirmation(page, "org_01GLOBEX", "start").await;
    let action = form_action(&app, &body);
    assert_eq!(
        query_param(&action, "organization").as_deref(),
        Some("org_01GLOBEX")
    );
    assert_eq!(
        query_param(&action, "return_to").as_deref(),
        Some("/api/me")
    );

    let post = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = browser.client.post(&action);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    // A forged confirmation: another site's form, or a client proving nothing.
    for headers in [
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://attacker.example"),
        ][..],
        &[("origin", "https://attacker.example")],
        &[("origin", "null")],
        &[],
    ] {
        let refused = post(headers).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(set_cookies(&refused).is_empty());
    }
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);

    // The real one, from the page itself.
    let origin: &'static str = Box::leak(app.base.clone().into_boxed_str());
    let accepted = browser
        .client
        .post(&action)
        .header("origin", origin)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::FOUND);
    let (_, page) = browser.follow(&location(&accepted)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("carol@globex.test"));
}

#[tokio::test]
async fn a4_a_cross_site_login_never_silently_replaces_a_live_session() {
    let app = start().await;
    let (browser, alice) = signed_in(&app).await;

    // Even the default organization needs a confirmation while someone is signed in.
    let page = get_with(
        &browser,
        &app.url("/auth/login?login_hint=bob%40example.com"),
        CROSS_SITE[0],
    )
    .await;
    let body = assert_confirmation(page, "org_01ACME", "live session").await;
    assert!(body.contains("alice@example.com"), "says who is signed in");
    assert_eq!(
        browser.cookie(&app.base, SESSION_COOKIE),
        Some(alice.clone())
    );

    // A cross-site login started before alice signed in (another tab) cannot replace her
    // session at its callback either: it stops at the confirmation, alice stays signed in.
    let other = Browser::new();
    let started = get_with(
        &other,
        &app.url("/auth/login?login_hint=bob%40example.com"),
        CROSS_SITE[0],
    )
    .await;
    assert_eq!(started.status(), StatusCode::FOUND, "nobody signed in yet");
    let (_, page) = other.sign_in(&app, "login_hint=alice%40example.com").await;
    assert_eq!(page.status(), StatusCode::OK);
    let alice_there = other.cookie(&app.base, SESSION_COOKIE).unwrap();
    let (hops, page) = other.follow(&location(&started)).await;
    assert!(
        hops.iter().any(|h| h.contains("/auth/callback?")),
        "{hops:?}"
    );
    assert_confirmation(page, "org_01ACME", "at the callback").await;
    assert_eq!(other.cookie(&app.base, SESSION_COOKIE), Some(alice_there));
    let me = other.get(&app.url("/api/me")).await;
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["email"], "alice@example.com");

    // The same login started on this site replaces the session, as the user asked.
    let (_, page) = other.sign_in(&app, "login_hint=bob%40example.com").await;
    assert_eq!(page.text().await.unwrap(), "home of bob@example.com");
}

#[tokio::test]
async fn a4_an_idp_restart_from_another_site_is_confirmed_first() {
    let app = start().await;
    let response = get_with(
        &Browser::new(),
        &app.url(
            "/auth/callback?error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA",
        ),
        CROSS_SITE[0],
    )
    .await;
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert_confirmation(response, "conn_01GLOBEXENTRA", "restart").await;
}

#[tokio::test]
async fn x3_a_client_without_cookies_is_restarted_at_most_once() {
    let app =
        harness::start(|b| b.idp_initiated_login(IdpInitiatedLogin::RestartWithDefaultSelector))
            .await;
    let code = app
        .workos
        .issue_code("alice@example.com", &app.url("/auth/callback"), None)
        .unwrap();
    // A client that keeps no cookies: each hop is a fresh client.
    let mut url = app.url(&format!("/auth/callback?code={code}"));
    let mut restarts = 0;
    for _ in 0..6 {
        let response = get_with(&Browser::new(), &url, &[]).await;
        if !response.status().is_redirection() {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            break;
        }
        let next = location(&response);
        if next.starts_with(&format!("{}/sso/authorize", app.workos.base_url())) {
            restarts += 1;
            // Sign in at the fake so it answers with a code for the restarted flow.
            url = format!("{next}&login_hint=alice%40example.com");
        } else {
            url = next;
        }
    }
    assert_eq!(restarts, 1, "restarted exactly once, then a page");
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
}
