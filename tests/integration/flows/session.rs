//! Sessions after sign-in: bearer use, idle expiry, sliding renewal, absolute lifetime, key
//! rotation and revocation.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::store::MemoryStore;

use crate::support::harness::{self, SESSION_COOKIE, api, location, set_cookies, signed_in};

async fn me_with_bearer(app: &harness::App, token: &str) -> reqwest::Response {
    api()
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_session_token_works_as_a_bearer_token() {
    let app = harness::start(|b| b).await;
    let (_, token) = signed_in(&app).await;
    let response = me_with_bearer(&app, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: serde_json::Value = response.json().await.unwrap();
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["source"], "Bearer");

    let minted = app
        .layer
        .issue_session_token(
            &serde_json::from_value(serde_json::json!({
                "id": "prof_01BOB", "email": "bob@example.com", "connection_id": "conn_01ACMEOKTA",
                "connection_type": "OktaSAML", "organization_id": "org_01ACME"
            }))
            .unwrap(),
        )
        .unwrap();
    let me: serde_json::Value = me_with_bearer(&app, minted.expose())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "bob@example.com");
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = harness::start(|b| b).await;
    let (browser, token) = signed_in(&app).await;
    app.advance(Duration::from_secs(29 * 60));
    assert_eq!(me_with_bearer(&app, &token).await.status(), StatusCode::OK);
    app.advance(Duration::from_secs(2 * 60));
    assert_eq!(
        me_with_bearer(&app, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let page = browser.get(&app.url("/")).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(location(&page).starts_with(&app.url("/auth/login?return_to=%2F")));
}

#[tokio::test]
async fn activity_slides_the_session_until_its_absolute_lifetime() {
    let app = harness::start(|b| b).await;
    let (browser, first) = signed_in(&app).await;

    // Early requests set no cookie: nothing changed.
    let quiet = browser.get(&app.url("/")).await;
    assert!(set_cookies(&quiet).is_empty());

    let mut renewals = 0;
    for _ in 0..(8 * 3 + 1) {
        app.advance(Duration::from_secs(20 * 60));
        let page = browser.get(&app.url("/")).await;
        if page.status() != StatusCode::OK {
            assert_eq!(page.status(), StatusCode::SEE_OTHER);
            let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
            assert_eq!(
                me_with_bearer(&app, &token).await.status(),
                StatusCode::UNAUTHORIZED
            );
            assert!(
                renewals >= 20,
                "renewed {renewals} times before the absolute end"
            );
            return;
        }
        // A renewal every 20 minutes of activity, until the absolute end caps the expiry.
        let cookies = set_cookies(&page);
        assert!(cookies.len() <= 1);
        if cookies.len() == 1 {
            assert_eq!(page.headers()["cache-control"], "no-store");
            renewals += 1;
        }
    }
    assert_ne!(browser.cookie(&app.base, SESSION_COOKIE).unwrap(), first);
    panic!("the session outlived its 8 hour absolute lifetime");
}

#[tokio::test]
async fn a_session_signed_with_a_retired_key_is_accepted_and_reissued() {
    let old =
        harness::start(|b| b.session_secret(b"the-old-secret-that-is-being-retired!!".to_vec()))
            .await;
    let (_, old_token) = signed_in(&old).await;

    let app = harness::start_with(
        tower_workos_sso::testkit::MockWorkOs::start()
            .await
            .unwrap(),
        |b| b.previous_session_secret(b"the-old-secret-that-is-being-retired!!".to_vec()),
    )
    .await;
    let browser = harness::Browser::new();
    browser.jar.add_cookie_str(
        &format!("{SESSION_COOKIE}={old_token}; Path=/"),
        &app.base.parse().unwrap(),
    );
    let page = browser.get(&app.url("/")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        set_cookies(&page).len(),
        1,
        "re-issued with the current key"
    );
    let renewed = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    assert_ne!(renewed, old_token);
    let quiet = browser.get(&app.url("/")).await;
    assert!(
        set_cookies(&quiet).is_empty(),
        "current-key sessions are left alone"
    );

    let stranger = harness::start(|b| b).await;
    assert_eq!(
        me_with_bearer(&stranger, &old_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = harness::start(|b| b).await;
    let (_, token) = signed_in(&app).await;
    let mut bytes = token.clone().into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let response = me_with_bearer(&app, &tampered).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn with_a_store_a_logged_out_session_stays_dead() {
    let app = harness::start(|b| b.session_store(MemoryStore::new())).await;
    let (browser, token) = signed_in(&app).await;
    assert_eq!(me_with_bearer(&app, &token).await.status(), StatusCode::OK);
    let logout = browser
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    // A copy of the token kept from before the logout no longer works.
    assert_eq!(
        me_with_bearer(&app, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let public = api()
        .get(app.url("/public"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
}
