//! V3: tokens minted for API, CLI and gRPC clients (`issue_session_token`,
//! `issue_session_token_for`) work only as `Authorization: Bearer`: they are never renewed, and
//! sent as the browser's session cookie they count as no session at all.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::Profile;

use super::app::{self, App, Use, claims, renewed_cookie, seconds};
use crate::support::harness::{self, SESSION_COOKIE, alice};

fn service_account() -> Profile {
    Profile::new("prof_01CIBOT", "ci@example.com")
        .with_organization("org_01ACME")
        .with_groups(["deployers"])
}

/// Every kind of minted token for `app`: for a new session of a service account and of alice,
/// and CLI tokens of a signed-in browser's session (from `/cli-token`, and minted directly).
async fn minted(app: &App) -> Vec<(&'static str, String)> {
    let browser = app.sign_in("login_hint=alice%40example.com").await;
    let sid = claims(&browser)["sid"].as_str().unwrap().to_owned();
    let issue = |profile: &Profile| {
        app.layer
            .issue_session_token(profile)
            .unwrap()
            .expose()
            .to_owned()
    };
    vec![
        ("service account", issue(&service_account())),
        ("new session of alice", issue(&alice())),
        ("/cli-token", app.cli_token(&browser).await),
        ("issue_session_token_for", app.mint_for(&sid)),
    ]
}

/// A request with `token` as the session cookie, as a browser navigating would send it.
async fn navigate(app: &App, path: &str, token: &str) -> reqwest::Response {
    harness::api()
        .get(app.url(path))
        .header("accept", "text/html")
        .header("cookie", format!("{SESSION_COOKIE}={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn v3_a_minted_token_sent_as_the_session_cookie_is_no_session() {
    let app = app::start(|b| b).await;
    let tokens = minted(&app).await;
    for later in [false, true] {
        if later {
            // Past half the idle window it still is no session, and is not renewed into one.
            app.advance(Duration::from_secs(16 * 60));
        }
        for (what, token) in &tokens {
            let what = format!("{what}{}", if later { ", later" } else { "" });
            assert_eq!(claims(token)["typ"], "bearer", "{what}");
            // A protected page sends the browser to sign in; the API says 401.
            let page = navigate(&app, "/", token).await;
            assert_eq!(page.status(), StatusCode::SEE_OTHER, "{what}");
            assert!(harness::location(&page).contains("/auth/login"), "{what}");
            assert_eq!(renewed_cookie(&page), None, "{what}");
            assert!(!app.opens(token, Use::Cookie).await, "{what}");
            // A public page sees an anonymous visitor.
            let public = navigate(&app, "/public", token).await;
            assert_eq!(renewed_cookie(&public), None, "{what}");
            assert_eq!(public.text().await.unwrap(), "public, anonymous", "{what}");
            // Nor can it be traded for a CLI token of the session, as cookie or bearer token.
            for how in Use::BOTH {
                let response = how
                    .send(&harness::api(), &app.url("/cli-token"), token)
                    .await;
                let status = response.status();
                assert!(
                    matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
                    "{what} as {how:?}: {status}"
                );
            }
            // As a bearer token it works.
            assert!(app.opens(token, Use::Bearer).await, "{what}");
        }
    }
}

#[tokio::test]
async fn v3_minted_tokens_work_as_bearer_and_are_never_renewed() {
    let idle = 20 * 60;
    let leeway = 10;
    let app = app::start(|b| {
        b.idle_timeout(Duration::from_secs(idle))
            .clock_leeway(Duration::from_secs(leeway))
    })
    .await;
    let mut browser = app.sign_in("login_hint=alice%40example.com").await;
    let tokens = minted(&app).await;
    let minted_at = app.now();
    for (what, token) in &tokens {
        assert_eq!(seconds(token, "exp"), minted_at + idle, "{what}");
    }
    // Used throughout their idle window, past its half and up to its last second, they are
    // accepted and never get a cookie (a renewal would be a new token for the browser).
    for at in [0, 1, idle / 2, idle / 2 + 1, idle - 1, idle + leeway] {
        app.advance_to(minted_at + at);
        for (what, token) in &tokens {
            let (status, cookie) = app.me(token, Use::Bearer).await;
            assert_eq!(status, StatusCode::OK, "{what} at +{at}s");
            assert_eq!(cookie, None, "{what} at +{at}s: renewed");
            let public = Use::Bearer
                .send(&harness::api(), &app.url("/public"), token)
                .await;
            assert_eq!(renewed_cookie(&public), None, "{what} at +{at}s on /public");
        }
        // The browser's session is renewed as usual meanwhile.
        let (status, renewed) = app.me(&browser, Use::Cookie).await;
        assert_eq!(status, StatusCode::OK, "the browser at +{at}s");
        if let Some(renewed) = renewed {
            assert_eq!(claims(&renewed)["typ"], "session");
            browser = renewed;
        }
    }
    // One second later every minted token has expired: none was ever extended.
    app.advance(Duration::from_secs(1));
    for (what, token) in &tokens {
        assert!(
            !app.opens(token, Use::Bearer).await,
            "{what} outlived its idle window"
        );
    }
    assert!(app.opens(&browser, Use::Cookie).await);
}

#[tokio::test]
async fn v3_the_browser_session_still_works_as_a_bearer_token_but_minted_ones_never_as_cookies() {
    // Minted with a secret now retired: a browser session of that key would be re-issued.
    let app = app::start(|b| {
        b.session_secret(b"v3-the-new-session-secret-of-at-least-32-bytes".to_vec())
            .previous_session_secret(harness::SECRET.to_vec())
    })
    .await;
    let retired = app.other_layer(|b| b.session_secret(harness::SECRET.to_vec()));
    let minted = retired
        .issue_session_token(&alice())
        .unwrap()
        .expose()
        .to_owned();
    let (status, cookie) = app.me(&minted, Use::Bearer).await;
    assert_eq!((status, cookie), (StatusCode::OK, None), "not re-issued");
    assert!(!app.opens(&minted, Use::Cookie).await);

    // The browser's own session, as the README documents: a bearer token too, never renewed
    // that way; as the cookie, renewed past half the idle window.
    let browser = app.sign_in("login_hint=bob%40example.com").await;
    app.advance(Duration::from_secs(16 * 60));
    let (status, cookie) = app.me(&browser, Use::Bearer).await;
    assert_eq!((status, cookie), (StatusCode::OK, None));
    let (status, cookie) = app.me(&browser, Use::Cookie).await;
    assert_eq!(status, StatusCode::OK);
    let renewed = cookie.expect("the cookie is renewed");
    assert_eq!(claims(&renewed)["typ"], "session");
    assert_eq!(claims(&renewed)["sid"], claims(&browser)["sid"]);
}
