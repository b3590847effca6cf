//! SECURITY.md W1-W6: WorkOS misbehaving, injected through the testkit fake. The app answers
//! with a page that fits, never hangs, never panics, sets no session and keeps serving.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tower_workos_sso::testkit::{Endpoint, Fault};

use crate::support::forge::{self, start_alice};
use crate::support::harness::{self, App, Browser, SESSION_COOKIE, set_cookies, signed_in};

/// Runs alice's login up to the callback and returns the callback's answer, checking what every
/// failed exchange must hold: no session, not cacheable, a way to sign in again.
async fn failed_callback(app: &App) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let browser = Browser::new();
    let login = start_alice(app, &browser).await;
    let response = browser.get(&login.callback).await;
    let status = response.status();
    assert!(
        !set_cookies(&response)
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}="))),
        "no session on a failed exchange"
    );
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    let body = response.text().await.unwrap();
    // A fresh login is offered, except where it cannot help (a profile too large to keep).
    assert!(
        body.contains("Sign in again") || body.contains("too large to keep"),
        "{body}"
    );
    assert!(!body.contains(&login.code) && !body.contains(&login.state));
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    (status, headers, body)
}

async fn serves_other_routes(app: &App) {
    let public = Browser::new().get(&app.url("/public")).await;
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
}

#[tokio::test]
async fn w1_workos_5xx_becomes_a_502_page_tried_once_with_nothing_cached() {
    let app = harness::start(|b| b).await;
    for status in [500, 502, 503, 504] {
        let before = app.workos.requests(Endpoint::Token);
        app.workos
            .set_fault(Endpoint::Token, Some(Fault::status(status)));
        let (answer, _, body) = failed_callback(&app).await;
        assert_eq!(answer, StatusCode::BAD_GATEWAY, "WorkOS {status}");
        assert!(
            !body.contains("MockWorkOs fault"),
            "WorkOS's text is not shown"
        );
        assert_eq!(app.workos.requests(Endpoint::Token), before + 1, "no retry");
        serves_other_routes(&app).await;
    }
    app.workos.set_fault(Endpoint::Token, None);
    let (_, page) = Browser::new()
        .sign_in(&app, "login_hint=alice%40example.com")
        .await;
    assert_eq!(page.status(), StatusCode::OK, "recovers once WorkOS does");
}

#[tokio::test]
async fn w1_an_unreachable_workos_becomes_a_503_page() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = harness::start(|b| b.api_base_url(&closed_url)).await;
    let (browser, response, started) = forge::callback_with_made_up_code(&app).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(response.text().await.unwrap().contains("Sign in again"));
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    serves_other_routes(&app).await;
}

#[tokio::test]
async fn w2_rate_limits_become_503_with_a_capped_retry_after() {
    let app = harness::start(|b| b).await;
    for (retry_after, expected) in [
        (Some("3600"), "60"),
        (Some("7"), "7"),
        (Some(" 12 "), "12"),
        (Some("0"), "1"),
        (Some("99999999999999999999999"), "5"),
        (Some("-5"), "5"),
        (Some("Wed, 21 Oct 2037 07:28:00 GMT"), "5"),
        (None, "5"),
    ] {
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
        let before = app.workos.requests(Endpoint::Token);
        let (status, headers, _) = failed_callback(&app).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{retry_after:?}");
        assert_eq!(headers["retry-after"], expected, "{retry_after:?}");
        assert_eq!(app.workos.requests(Endpoint::Token), before + 1);
    }
}

#[tokio::test]
async fn w3_slow_or_hanging_exchanges_time_out_with_504_while_the_app_keeps_serving() {
    let app = Arc::new(
        harness::start(|b| b.workos_timeouts(Duration::from_millis(500), Duration::from_secs(1)))
            .await,
    );
    let (signed, _) = signed_in(&app).await;

    app.workos
        .set_fault(Endpoint::Token, Some(Fault::Delay(Duration::from_secs(3))));
    let started = Instant::now();
    let (status, _, _) = failed_callback(&app).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );

    // Several exchanges hang at once; meanwhile every other kind of request is answered.
    let anonymous = Browser::new();
    let mut ready = Vec::new();
    for _ in 0..5 {
        let browser = Browser::new();
        let login = start_alice(&app, &browser).await;
        ready.push((browser.client.clone(), login.callback));
    }
    app.workos.set_fault(Endpoint::Token, Some(Fault::Hang));
    let before = app.workos.requests(Endpoint::Token);
    let hanging: Vec<_> = ready
        .into_iter()
        .map(|(client, callback)| {
            tokio::spawn(async move {
                let started = Instant::now();
                let response = client
                    .get(&callback)
                    .header("accept", "text/html")
                    .send()
                    .await
                    .unwrap();
                (response.status(), started.elapsed())
            })
        })
        .collect();
    let started = Instant::now();
    while app.workos.requests(Endpoint::Token) < before + 5 {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "exchanges never started"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let public = anonymous.get(&app.url("/public")).await;
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    assert_eq!(signed.get(&app.url("/")).await.status(), StatusCode::OK);
    let protected = anonymous.get(&app.url("/")).await;
    assert_eq!(protected.status(), StatusCode::SEE_OTHER);
    let login = anonymous.get(&app.url("/auth/login")).await;
    assert_eq!(login.status(), StatusCode::FOUND);
    assert!(
        hanging.iter().all(|task| !task.is_finished()),
        "the other requests were answered while the exchanges hung"
    );
    for task in hanging {
        let (status, took) = task.await.unwrap();
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
        assert!(took < Duration::from_millis(2500), "{took:?}");
    }
}

#[tokio::test]
async fn w3_a_connection_that_never_opens_times_out_with_504() {
    // A listener with a full accept queue: the kernel drops further connection attempts, so
    // connecting hangs until the connect timeout.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let connect = tokio::net::TcpStream::connect(addr);
        if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(50), connect).await {
            fillers.push(stream);
        }
    }
    let app = harness::start(|b| {
        b.api_base_url(format!("http://{addr}"))
            .workos_timeouts(Duration::from_millis(300), Duration::from_secs(10))
    })
    .await;
    let (_browser, response, started) = forge::callback_with_made_up_code(&app).await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the connect timeout, not the total one: {:?}",
        started.elapsed()
    );
    drop((listener, fillers));
}

#[tokio::test]
async fn w4_huge_or_malformed_token_responses_become_502_without_a_session() {
    let app = harness::start(|b| b).await;
    let ten_mib = 10 * 1024 * 1024;
    let nested = format!(
        r#"{{"profile":{}1{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: Vec<(&str, Fault)> = vec![
        ("10 MiB body", Fault::Body(vec![b' '; ten_mib])),
        (
            "10 MiB error body",
            Fault::Status {
                status: 400,
                headers: Vec::new(),
                body: "x".repeat(ten_mib),
            },
        ),
        ("not JSON", Fault::Body(b"{not json".to_vec())),
        ("empty", Fault::Body(Vec::new())),
        ("null", Fault::Body(b"null".to_vec())),
        ("an array", Fault::Body(b"[]".to_vec())),
        (
            "no profile",
            Fault::Body(br#"{"access_token":"a"}"#.to_vec()),
        ),
        ("null profile", Fault::Body(br#"{"profile":null}"#.to_vec())),
        (
            "profile a string",
            Fault::Body(br#"{"profile":"prof_1"}"#.to_vec()),
        ),
        (
            "profile without id",
            Fault::Body(br#"{"profile":{"email":"a@b.test"}}"#.to_vec()),
        ),
        (
            "profile id a number",
            Fault::Body(br#"{"profile":{"id":1,"email":"a@b.test"}}"#.to_vec()),
        ),
        ("invalid UTF-8", Fault::Body(vec![b'{', 0xff, 0xfe, b'}'])),
        ("deeply nested", Fault::Body(nested.into_bytes())),
        (
            "truncated",
            Fault::Body(br#"{"profile":{"id":"prof_01","email":"a@b.te"#.to_vec()),
        ),
        (
            "trailing garbage",
            Fault::Body(br#"{"profile":{"id":"prof_01","email":"a@b.test"}} x"#.to_vec()),
        ),
        (
            "an HTML error page",
            Fault::Status {
                status: 200,
                headers: vec![("content-type".into(), "text/html".into())],
                body: "<html>oops</html>".into(),
            },
        ),
        (
            "a profile too large for any cookie",
            Fault::Profile(json!({
                "id": "prof_01BIG", "email": "big@example.test", "name": "n".repeat(8000),
                "organization_id": "org_01ACME"
            })),
        ),
    ];
    for (what, fault) in cases {
        app.workos.set_fault(Endpoint::Token, Some(fault));
        let started = Instant::now();
        let (status, _, _) = failed_callback(&app).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{what}");
        assert!(started.elapsed() < Duration::from_secs(2), "{what}");
        serves_other_routes(&app).await;
    }
}

#[tokio::test]
async fn w5_a_profile_with_only_required_fields_or_unknown_values_still_signs_in() {
    // A profile must come from the connection its login asked for (A2), so both name it.
    let app = harness::start(|b| b.allowed_connections(["conn_01GOOGLE"])).await;
    let cases = [
        json!({ "id": "prof_01MIN", "email": "min@example.test", "connection_id": "conn_01GOOGLE" }),
        json!({
            "object": "profile", "id": "prof_01NEW", "email": "new@example.test",
            "connection_id": "conn_01GOOGLE", "connection_type": "SomeProviderInventedTomorrowSAML",
            "organization_id": null, "first_name": null, "last_name": null, "role": null,
            "roles": null, "groups": null, "custom_attributes": null, "idp_id": null,
            "a_field_added_later": {"nested": [1, 2, 3]},
            "raw_attributes": { "saml_assertion": "RAW-ASSERTION-MARKER" }
        }),
    ];
    for profile in cases {
        app.workos
            .set_fault(Endpoint::Token, Some(Fault::Profile(profile.clone())));
        let browser = Browser::new();
        let (hops, page) = browser
            .sign_in(
                &app,
                "connection=conn_01GOOGLE&login_hint=erin%40gmail.test&return_to=/api/me",
            )
            .await;
        assert_eq!(page.status(), StatusCode::OK, "{profile}: {hops:?}");
        let me: serde_json::Value = page.json().await.unwrap();
        assert_eq!(me["email"], profile["email"]);
        assert_eq!(me["id"], profile["id"]);
        assert_eq!(me["organization_id"], json!(null));
        assert_eq!(
            me["connection_type"],
            profile.get("connection_type").cloned().unwrap_or(json!(""))
        );
        // raw_attributes never reach the session.
        let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
        let claims = forge::payload(&token);
        assert!(claims["p"].is_object(), "the token's profile");
        assert!(claims["p"].get("raw_attributes").is_none());
        assert!(!claims.to_string().contains("RAW-ASSERTION-MARKER"));
    }
}

#[tokio::test]
async fn w6_invalid_grant_says_login_expired_offers_a_fresh_login_and_is_not_retried() {
    let app = harness::start(|b| b.allowed_connections(["conn_01GLOBEXENTRA"])).await;
    // A code that expired at WorkOS.
    app.workos.set_code_lifetime(Duration::ZERO);
    let browser = Browser::new();
    let login = forge::start_login(
        &app,
        &browser,
        "login_hint=carol%40globex.test&connection=conn_01GLOBEXENTRA&return_to=%2Fapi%2Fme",
    )
    .await;
    let response = browser.get(&login.callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = response.text().await.unwrap();
    assert!(body.contains("Login expired"), "{body}");
    assert!(
        body.contains("/auth/login?connection=conn_01GLOBEXENTRA&amp;return_to=%2Fapi%2Fme"),
        "the same login is offered again: {body}"
    );
    assert_eq!(app.workos.requests(Endpoint::Token), 1, "no retry");
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);

    // invalid_grant for any other reason (reused code) reads the same.
    app.workos.set_code_lifetime(Duration::from_secs(600));
    app.workos.set_fault(
        Endpoint::Token,
        Some(Fault::Status {
            status: 400,
            headers: Vec::new(),
            body:
                r#"{"error":"invalid_grant","error_description":"The code has already been used."}"#
                    .into(),
        }),
    );
    let (status, _, body) = failed_callback(&app).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Login expired") && !body.contains("already been used"));
    assert_eq!(app.workos.requests(Endpoint::Token), 2);
}

#[tokio::test]
async fn w6_other_token_errors_are_gateway_errors_not_an_expired_login() {
    let app = harness::start(|b| b).await;
    // Where a redirect from the token endpoint points: the exchange must never follow it.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let steal = format!("http://{}/steal", elsewhere.local_addr().unwrap());
    for (status, error) in [
        (400, "invalid_client"),
        (400, "unauthorized_client"),
        (400, "unsupported_grant_type"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (307, "redirected"),
    ] {
        app.workos.set_fault(
            Endpoint::Token,
            Some(Fault::Status {
                status,
                headers: vec![("location".into(), steal.clone())],
                body: json!({ "error": error }).to_string(),
            }),
        );
        let (answer, _, body) = failed_callback(&app).await;
        assert_eq!(answer, StatusCode::BAD_GATEWAY, "{status} {error}");
        assert!(!body.contains("Login expired"), "{error}");
    }
    let followed = tokio::time::timeout(Duration::from_millis(20), elsewhere.accept()).await;
    assert!(followed.is_err(), "a redirect from WorkOS was followed");
}
