//! SECURITY.md K1-K6: the cache of verified sessions skips the signature and the parse of a token
//! seen before, and nothing else. Each test presents a token until it is cached, then shows the
//! property still holds for the cached copy.

use std::time::Duration;

use aws_lc_rs::hmac;
use reqwest::StatusCode;

use crate::support::forge::{self, accepted, get_with_cookie, session_claims, session_token};
use crate::support::harness::{
    self, App, Browser, SESSION_COOKIE, alice, api, set_cookies, signed_in,
};

/// Presents `token` as the session cookie of a page request; the status it gets.
async fn page_with(app: &App, token: &str) -> StatusCode {
    let cookie = format!("{SESSION_COOKIE}={token}");
    get_with_cookie(&api(), &app.url("/"), &cookie)
        .await
        .status()
}

/// `GET /api/me` as a bearer client.
async fn api_with_bearer(app: &App, token: &str) -> reqwest::Response {
    api()
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

/// A token as the crate writes them (the same header bytes, so the crate's fast path takes it),
/// signed with the session key of `secret`.
fn token_signed_with(secret: &[u8], claims: &serde_json::Value) -> String {
    let key = forge::derived_key(secret, "session");
    let header = format!(
        r#"{{"typ":"JWT","alg":"HS256","kid":"{}"}}"#,
        forge::kid_of(&key)
    );
    let message = format!(
        "{}.{}",
        forge::b64(header.as_bytes()),
        forge::b64(claims.to_string().as_bytes())
    );
    let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), message.as_bytes());
    format!("{message}.{}", forge::b64(signature.as_ref()))
}

#[tokio::test]
async fn k1_a_cached_session_still_expires_when_idle_and_at_its_absolute_end() {
    let app = harness::start(|b| b).await;
    let (_, token) = signed_in(&app).await;
    for _ in 0..3 {
        assert_eq!(page_with(&app, &token).await, StatusCode::OK);
    }
    // Idle 30 minutes, leeway 30 seconds: one second past both.
    app.advance(Duration::from_secs(30 * 60 + 31));
    assert_eq!(page_with(&app, &token).await, StatusCode::SEE_OTHER);

    // A token still inside its idle window whose absolute lifetime (8 h) ends in a minute.
    let app = harness::start(|b| b).await;
    let now = forge::unix_now();
    let mut claims = session_claims(&app, now);
    claims["auth_time"] = (now - 8 * 3600 + 60).into();
    let token = session_token(&claims);
    for _ in 0..3 {
        assert_eq!(page_with(&app, &token).await, StatusCode::OK);
    }
    app.advance(Duration::from_secs(60 + 31));
    assert_eq!(page_with(&app, &token).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn k2_revoking_a_cached_session_user_organization_or_connection_refuses_it_at_once() {
    for kind in ["session", "user", "organization", "connection"] {
        let app = harness::start(|b| b).await;
        let (_, token) = signed_in(&app).await;
        let me: serde_json::Value = api_with_bearer(&app, &token).await.json().await.unwrap();
        for _ in 0..3 {
            assert_eq!(page_with(&app, &token).await, StatusCode::OK, "{kind}");
        }
        let revoked = match kind {
            "session" => app.layer.revoke_session(me["sid"].as_str().unwrap()).await,
            "user" => app.layer.revoke_user("prof_01ALICE").await,
            "organization" => app.layer.revoke_organization("org_01ACME").await,
            _ => app.layer.revoke_connection("conn_01ACMEOKTA").await,
        };
        revoked.unwrap();
        assert_eq!(
            page_with(&app, &token).await,
            StatusCode::SEE_OTHER,
            "{kind}"
        );
        let response = api_with_bearer(&app, &token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{kind}");
    }
}

#[tokio::test]
async fn k3_a_cached_token_of_a_retired_key_is_renewed_every_time_and_unknown_to_other_keys() {
    const OLD: &[u8] = b"the-previous-secret-still-listed-0123456789";
    let app = harness::start(|b| b.previous_session_secret(OLD.to_vec())).await;
    let old = token_signed_with(OLD, &session_claims(&app, forge::unix_now()));
    for round in 0..3 {
        let cookie = format!("{SESSION_COOKIE}={old}");
        let response = get_with_cookie(&api(), &app.url("/"), &cookie).await;
        assert_eq!(response.status(), StatusCode::OK);
        let renewed = forge::set_cookie_pair(&response, SESSION_COOKIE)
            .unwrap_or_else(|| panic!("round {round}: the retired key's token is re-issued"));
        let header = forge::unb64(renewed.1.split('.').next().unwrap());
        assert!(
            String::from_utf8(header)
                .unwrap()
                .contains(&forge::session_key().1)
        );
    }
    // A layer that never listed the old key refuses what the first one cached.
    let other = harness::start(|b| b).await;
    assert!(!accepted(&other, &api(), &old).await);
    // And a layer whose list drops a key refuses its tokens, however often they were seen.
    let current = token_signed_with(harness::SECRET, &session_claims(&other, forge::unix_now()));
    assert!(accepted(&other, &api(), &current).await);
    let rotated =
        harness::start(|b| b.session_secret(b"a-new-secret-after-rotation-0123456789".to_vec()))
            .await;
    assert!(!accepted(&rotated, &api(), &current).await);
}

#[tokio::test]
async fn k4_a_cached_minted_bearer_token_is_never_a_cookie_and_never_renewed() {
    let app = harness::start(|b| b).await;
    let token = app.layer.issue_session_token(&alice()).unwrap();
    let token = token.expose();
    for _ in 0..3 {
        assert_eq!(api_with_bearer(&app, token).await.status(), StatusCode::OK);
    }
    assert_eq!(page_with(&app, token).await, StatusCode::SEE_OTHER);
    // Past half the idle window a session cookie would be renewed; a minted token never is.
    app.advance(Duration::from_secs(16 * 60));
    let response = api_with_bearer(&app, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(page_with(&app, token).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn k5_a_cache_smaller_than_the_signed_in_users_refuses_no_one() {
    for capacity in [0, 1, 2] {
        let app = harness::start(move |b| b.session_cache_capacity(capacity)).await;
        let mut browsers: Vec<Browser> = Vec::new();
        for _ in 0..4 {
            browsers.push(signed_in(&app).await.0);
        }
        for round in 0..3 {
            for browser in &browsers {
                let page = browser.get(&app.url("/")).await;
                assert_eq!(
                    page.status(),
                    StatusCode::OK,
                    "capacity {capacity}, round {round}"
                );
            }
        }
    }
}

#[tokio::test]
async fn k6_a_cached_token_is_matched_by_its_whole_value() {
    let app = harness::start(|b| b).await;
    let (_, token) = signed_in(&app).await;
    for _ in 0..3 {
        assert_eq!(page_with(&app, &token).await, StatusCode::OK);
    }
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.rsplit_once('.').unwrap();
    // The same signature (the cache's slot) with another payload: one character changed, and
    // another session's payload.
    let flip = |c: char| if c == 'A' { 'B' } else { 'A' };
    let mut changed: Vec<char> = payload.chars().collect();
    changed[40] = flip(changed[40]);
    let changed: String = changed.into_iter().collect();
    let (_, other) = signed_in(&app).await;
    let other_payload = other.split('.').nth(1).unwrap();
    let near_misses = [
        format!("{header}.{changed}.{signature}"),
        format!("{header}.{other_payload}.{signature}"),
        format!("{token}A"),
        token[..token.len() - 1].to_owned(),
        format!(
            "{}{}",
            &token[..token.len() - 1],
            flip(token.chars().last().unwrap())
        ),
        format!("A{token}"),
    ];
    for near_miss in &near_misses {
        assert_eq!(
            page_with(&app, near_miss).await,
            StatusCode::SEE_OTHER,
            "{near_miss}"
        );
    }
    assert_eq!(page_with(&app, &token).await, StatusCode::OK);
}
