//! SECURITY.md T3, T5, T8, T9: a session token over its life. Time limits to the second at the
//! leeway edges (T3), a retired key still accepted and its token re-issued with the current one
//! (T5), a new session id at every sign-in (T8), and logout, revocation with a store (T9).

use std::time::Duration;

use aws_lc_rs::hmac;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tower_workos_sso::store::MemoryStore;

use crate::support::forge::{
    self, Sign, accepted, assert_no_store_if_cookie, frozen_app, get_with_cookie, hs256_header,
    jwt, session_claims, session_key, session_token,
};
use crate::support::harness::{self, Browser, SESSION_COOKIE, api, set_cookies, signed_in};

#[tokio::test]
async fn t3_time_limits_hold_to_the_second_at_the_leeway_edges() {
    for leeway in [30, 0] {
        let (app, t0) = frozen_app(|b| b.clock_leeway(Duration::from_secs(leeway))).await;
        let client = api();
        let hour = 3600;
        let cases = [
            // (what, iat, exp, auth_time, accepted)
            (
                "expired, within leeway",
                t0 - 1000,
                t0 - leeway,
                t0 - 1000,
                true,
            ),
            (
                "expired, one second past leeway",
                t0 - 1000,
                t0 - leeway - 1,
                t0 - 1000,
                false,
            ),
            (
                "issued in the future, within leeway",
                t0 + leeway,
                t0 + 1000,
                t0 + leeway,
                true,
            ),
            (
                "issued one second too far ahead",
                t0 + leeway + 1,
                t0 + 1000,
                t0 + leeway + 1,
                false,
            ),
            (
                "absolute lifetime, at the edge",
                t0 - 60,
                t0 + 600,
                t0 - 8 * hour - leeway,
                true,
            ),
            (
                "absolute lifetime, one second past",
                t0 - 60,
                t0 + 600,
                t0 - 8 * hour - leeway - 1,
                false,
            ),
            (
                "signed in after it was issued",
                t0 - 60,
                t0 + 600,
                t0 - 59,
                false,
            ),
            (
                "expiry a century away, old sign-in",
                t0 - 60,
                t0 + 100 * 365 * 24 * hour,
                t0 - 9 * hour,
                false,
            ),
        ];
        for (what, iat, exp, auth_time, expected) in cases {
            let mut claims = session_claims(&app, t0);
            claims["iat"] = json!(iat);
            claims["exp"] = json!(exp);
            claims["auth_time"] = json!(auth_time);
            let token = session_token(&claims);
            assert_eq!(
                accepted(&app, &client, &token).await,
                expected,
                "leeway {leeway}: {what}"
            );
        }
    }
}

#[tokio::test]
async fn t5_a_token_of_a_retired_but_listed_key_is_accepted_and_reissued_with_the_current_key() {
    const OLD: &[u8] = b"the-previous-secret-still-listed-0123456789";
    const GONE: &[u8] = b"a-secret-that-was-removed-from-the-list-01";
    let app = harness::start(|b| b.previous_session_secret(OLD.to_vec())).await;
    let client = api();
    let claims = session_claims(&app, forge::unix_now());
    let signed_with = |secret: &[u8]| {
        let key = forge::derived_key(secret, "session");
        jwt(
            &hs256_header(&forge::kid_of(&key)),
            &claims,
            Sign::Hmac(hmac::HMAC_SHA256, &key),
        )
    };
    let old = signed_with(OLD);
    let response =
        get_with_cookie(&client, &app.url("/"), &format!("{SESSION_COOKIE}={old}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_no_store_if_cookie(&response, "re-issue");
    let reissued = forge::set_cookie_pair(&response, SESSION_COOKIE)
        .expect("re-issued")
        .1;
    let header: Value =
        serde_json::from_slice(&forge::unb64(reissued.split('.').next().unwrap())).unwrap();
    assert_eq!(
        header["kid"],
        json!(session_key().1),
        "signed with the current key"
    );
    assert_eq!(
        forge::payload(&reissued)["sid"],
        claims["sid"],
        "the same session"
    );
    assert!(accepted(&app, &client, &reissued).await);
    assert!(
        !accepted(&app, &client, &signed_with(GONE)).await,
        "unlisted key"
    );
}

#[tokio::test]
async fn t8_a_session_planted_before_login_is_replaced_with_a_new_sid() {
    let app = harness::start(|b| b).await;
    // The attacker's own, perfectly valid session, planted in the victim's browser.
    let (_, planted) = signed_in(&app).await;
    let planted_sid = forge::payload(&planted)["sid"].clone();
    let victim = Browser::new();
    victim.jar.add_cookie_str(
        &format!("{SESSION_COOKIE}={planted}; Path=/"),
        &app.base.parse().unwrap(),
    );
    let (_, page) = victim
        .sign_in(&app, "login_hint=bob%40example.com&return_to=/api/me")
        .await;
    let me: Value = page.json().await.unwrap();
    assert_eq!(me["email"], "bob@example.com");
    assert_ne!(me["sid"], planted_sid);
    let now = victim.cookie(&app.base, SESSION_COOKIE).unwrap();
    assert_ne!(now, planted);
    assert_ne!(forge::payload(&now)["sid"], planted_sid);
}

#[tokio::test]
async fn t9_logout_is_post_only_same_origin_only_and_revokes_with_a_store() {
    let app = harness::start(|b| b.session_store(MemoryStore::new())).await;
    let (browser, token) = signed_in(&app).await;
    let (_, other) = signed_in(&app).await;
    let client = api();
    let cookie = format!("{SESSION_COOKIE}={token}");
    let logout = app.url("/auth/logout");

    for method in ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let response = client
            .request(method.parse().unwrap(), &logout)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(response.headers()["allow"], "POST");
        assert!(set_cookies(&response).is_empty(), "{method}");
    }
    let port = app.base.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let cross_site: Vec<Vec<(&str, String)>> = vec![
        vec![("origin", "https://evil.test".into())],
        vec![("origin", "null".into())],
        vec![(
            "origin",
            format!("http://127.0.0.1:{}", port.wrapping_add(1)),
        )],
        vec![("origin", format!("https://127.0.0.1:{port}"))],
        vec![("origin", "http://localhost".into())],
        vec![("sec-fetch-site", "cross-site".into())],
        vec![("sec-fetch-site", "same-site".into())],
        vec![("sec-fetch-site", "none".into())],
        vec![
            ("sec-fetch-site", "cross-site".into()),
            ("origin", app.base.clone()),
        ],
        vec![
            ("origin", "https://evil.test".into()),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ],
    ];
    for headers in &cross_site {
        let mut request = client.post(&logout).header("cookie", &cookie);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(set_cookies(&response).is_empty(), "{headers:?}");
    }
    assert!(
        accepted(&app, &client, &token).await,
        "cross-site posts changed nothing"
    );

    let response = browser
        .client
        .post(&logout)
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/");
    assert_no_store_if_cookie(&response, "logout");
    assert!(
        set_cookies(&response)
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0"))
    );
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    // A copy of the token kept from before is dead, as cookie and as bearer.
    assert!(!accepted(&app, &client, &token).await);
    let public = get_with_cookie(&client, &app.url("/public"), &cookie).await;
    assert_no_store_if_cookie(&public, "revoked on a public path");
    assert!(set_cookies(&public).iter().any(|c| c.contains("Max-Age=0")));
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    // Other sessions live on; plain clients (no Origin, no Sec-Fetch-Site) may log out.
    assert!(accepted(&app, &client, &other).await);
    let response = client
        .post(&logout)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!accepted(&app, &client, &other).await);
}
