//! The callback's failure paths: bad or replayed state, `?error=` callbacks, IdP-initiated
//! codes, and WorkOS faults.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::IdpInitiatedLogin;
use tower_workos_sso::testkit::{Endpoint, Fault};

use crate::harness::{self, Browser, SESSION_COOKIE, location, set_cookies};

/// Starts a login in `browser` and returns the callback URL WorkOS would send it to.
async fn callback_url(app: &harness::App, browser: &Browser) -> String {
    let to_workos = browser
        .get(&app.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    let back = browser.get(&location(&to_workos)).await;
    assert_eq!(back.status(), StatusCode::FOUND);
    location(&back)
}

fn assert_no_session(browser: &Browser, app: &harness::App) {
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
}

#[tokio::test]
async fn callbacks_without_a_matching_flow_are_refused_without_calling_workos() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let real = callback_url(&app, &browser).await;
    let code = reqwest::Url::parse(&real)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    for query in [
        format!("code={code}"),
        format!("code={code}&state=forged"),
        format!("code={code}&state="),
        "state=whatever".to_owned(),
        String::new(),
    ] {
        let response = browser
            .get(&app.url(&format!("/auth/callback?{query}")))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert!(response.text().await.unwrap().contains("Sign in again"));
    }
    // The same state from another browser does not match its (absent) flow cookie.
    let other = Browser::new();
    assert_eq!(other.get(&real).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    assert_no_session(&browser, &app);
}

#[tokio::test]
async fn a_completed_callback_cannot_be_replayed() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let callback = callback_url(&app, &browser).await;
    let done = browser.get(&callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookies(&done)
            .iter()
            .any(|c| c.starts_with("sso_session_flow_") && c.contains("Max-Age=0"))
    );
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.workos.requests(Endpoint::Token), 1);
}

#[tokio::test]
async fn error_callbacks_show_a_fixed_escaped_page_and_no_session() {
    let app = harness::start(|b| b).await;
    for (error, status) in [
        ("access_denied", StatusCode::FORBIDDEN),
        ("connection_invalid", StatusCode::BAD_REQUEST),
        ("server_error", StatusCode::BAD_GATEWAY),
        ("a_code_invented_tomorrow", StatusCode::BAD_REQUEST),
        (
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let browser = Browser::new();
        let url = app.url(&format!(
            "/auth/callback?error={error}&error_description=%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E%20Call%20555-0100"
        ));
        let response = browser.get(&url).await;
        assert_eq!(response.status(), status, "{error}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("<script>"), "{body}");
        assert!(
            !body.contains("555-0100"),
            "error_description is never shown"
        );
        assert_no_session(&browser, &app);
    }
}

#[tokio::test]
async fn idp_initiated_sso_disabled_restarts_an_sp_initiated_login_for_that_connection() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let response = browser
        .get(&app.url(
            "/auth/callback?error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA",
        ))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let target = location(&response);
    assert!(target.starts_with(&format!("{}/sso/authorize?", app.workos.base_url())));
    assert!(target.contains("connection=conn_01GLOBEXENTRA"));
    for bad in [
        "conn_01%22%3E%3Cscript%3E",
        "org_01ACME",
        "https%3A%2F%2Fevil.test",
        "",
    ] {
        let response = browser
            .get(&app.url(&format!(
                "/auth/callback?error=idp_initiated_sso_disabled&connection_id={bad}"
            )))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn unsolicited_codes_are_rejected_by_default_and_restart_when_configured() {
    let app = harness::start(|b| b).await;
    let code = app
        .workos
        .issue_code("alice@example.com", &app.url("/auth/callback"), None)
        .unwrap();
    let browser = Browser::new();
    let response = browser
        .get(&app.url(&format!("/auth/callback?code={code}")))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.workos.requests(Endpoint::Token), 0);

    let restarting =
        harness::start(|b| b.idp_initiated_login(IdpInitiatedLogin::RestartWithDefaultSelector))
            .await;
    let code = restarting
        .workos
        .issue_code("alice@example.com", &restarting.url("/auth/callback"), None)
        .unwrap();
    let response = browser
        .get(&restarting.url(&format!("/auth/callback?code={code}")))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(location(&response).contains("organization=org_01ACME"));
    assert_eq!(
        restarting.workos.requests(Endpoint::Token),
        0,
        "the unsolicited code is never exchanged"
    );
}

#[tokio::test]
async fn workos_faults_become_gateway_errors_and_the_app_keeps_serving() {
    let app =
        harness::start(|b| b.workos_timeouts(Duration::from_secs(1), Duration::from_secs(1))).await;
    let cases = [
        (Fault::status(500), StatusCode::BAD_GATEWAY),
        (Fault::status(503), StatusCode::BAD_GATEWAY),
        (Fault::Body(b"{not json".to_vec()), StatusCode::BAD_GATEWAY),
        (
            Fault::Body(vec![b' '; 1024 * 1024]),
            StatusCode::BAD_GATEWAY,
        ),
        (
            Fault::Delay(Duration::from_secs(5)),
            StatusCode::GATEWAY_TIMEOUT,
        ),
        (Fault::Hang, StatusCode::GATEWAY_TIMEOUT),
    ];
    for (fault, expected) in cases {
        let label = format!("{fault:?}");
        app.workos.set_fault(Endpoint::Token, Some(fault));
        let browser = Browser::new();
        let callback = callback_url(&app, &browser).await;
        let response = browser.get(&callback).await;
        assert_eq!(response.status(), expected, "{label}");
        assert!(response.text().await.unwrap().contains("Sign in again"));
        assert_no_session(&browser, &app);
        assert_eq!(
            browser.get(&app.url("/public")).await.status(),
            StatusCode::OK
        );
    }
    app.workos.set_fault(Endpoint::Token, None);
    let (_, page) = Browser::new()
        .sign_in(&app, "login_hint=alice%40example.com")
        .await;
    assert_eq!(page.status(), StatusCode::OK, "recovers once WorkOS does");
}

#[tokio::test]
async fn rate_limits_become_503_with_a_capped_retry_after() {
    let app = harness::start(|b| b).await;
    for (retry_after, expected) in [(Some("3600"), "60"), (Some("7"), "7"), (None, "5")] {
        let headers = retry_after
            .map(|v| vec![("retry-after".to_owned(), v.to_owned())])
            .unwrap_or_default();
        app.workos.set_fault(
            Endpoint::Token,
            Some(Fault::Status {
                status: 429,
                headers,
                body: r#"{"message":"Too many requests"}"#.to_owned(),
            }),
        );
        let browser = Browser::new();
        let callback = callback_url(&app, &browser).await;
        let response = browser.get(&callback).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], expected);
    }
}

#[tokio::test]
async fn an_expired_code_asks_for_a_fresh_login() {
    let app = harness::start(|b| b).await;
    app.workos.set_code_lifetime(Duration::ZERO);
    let browser = Browser::new();
    let callback = callback_url(&app, &browser).await;
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap();
    assert!(body.contains("Login expired") && body.contains("/auth/login?organization=org_01ACME"));
    assert_eq!(app.workos.requests(Endpoint::Token), 1, "no retry");
    assert_no_session(&browser, &app);
}

#[tokio::test]
async fn an_expired_flow_cookie_says_login_expired() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let callback = callback_url(&app, &browser).await;
    app.advance(Duration::from_secs(11 * 60));
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("Login expired"));
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
}
