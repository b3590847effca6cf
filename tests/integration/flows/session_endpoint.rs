//! `GET /auth/session`: who is signed in, as JSON, for single-page frontends; 401 without a
//! session; never cached; never a token value.

use reqwest::StatusCode;
use tower_workos_sso::Decision;

use crate::support::harness::{self, SESSION_COOKIE, api, signed_in};

#[tokio::test]
async fn the_session_route_answers_the_profile_expiry_and_claims_without_any_token() {
    let app = harness::start(|b| {
        b.authorize(|_| async { Decision::allow().with_claim("plan", "enterprise") })
    })
    .await;
    let (browser, token) = signed_in(&app).await;
    let answer = browser
        .client
        .get(app.url("/auth/session"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    assert_eq!(answer.headers()["vary"], "Cookie, Authorization");
    assert_eq!(answer.headers()["content-type"], "application/json");
    assert!(
        answer.headers().get("set-cookie").is_none(),
        "asking is not activity"
    );
    let text = answer.text().await.unwrap();
    assert!(
        !text.contains(&token),
        "the session token never reaches page scripts"
    );
    assert!(!text.contains("saml_assertion_id"), "no raw attributes");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["profile"]["email"], "alice@example.com");
    assert_eq!(body["profile"]["organization_id"], "org_01ACME");
    assert_eq!(body["claims"]["plan"], "enterprise");
    let expires = body["expires_at"].as_u64().unwrap();
    let now = crate::support::forge::unix_now();
    assert!(
        expires > now && expires <= now + 31 * 60,
        "{expires} vs {now}"
    );
    // A bearer client asks the same way.
    let bearer = api()
        .get(app.url("/auth/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_valid_session_the_session_route_answers_401() {
    let app = harness::start(|b| b).await;
    for cookie in [None, Some("garbage"), Some("a.b.c")] {
        let mut request = api()
            .get(app.url("/auth/session"))
            .header("accept", "text/html");
        if let Some(value) = cookie {
            request = request.header("cookie", format!("{SESSION_COOKIE}={value}"));
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{cookie:?}");
        assert_eq!(answer.headers()["cache-control"], "no-store");
        assert_eq!(answer.headers()["vary"], "Cookie, Authorization");
        assert!(answer.headers().contains_key("www-authenticate"));
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body["error"], "unauthenticated",
            "never a redirect, even for a browser"
        );
    }
    let posted = api().post(app.url("/auth/session")).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_logged_out_session_is_no_session_on_the_session_route() {
    let app = harness::start(|b| b).await;
    let (_, token) = signed_in(&app).await;
    let ask = || {
        api()
            .get(app.url("/auth/session"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(ask().await.unwrap().status(), StatusCode::OK);
    let logout = api()
        .post(app.url("/auth/logout"))
        .header("cookie", format!("{SESSION_COOKIE}={token}"))
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_redirection() || logout.status().is_success());
    assert_eq!(ask().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}
