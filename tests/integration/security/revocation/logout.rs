//! V1: after logout, no copy of the session works again before its absolute end plus the clock
//! leeway: not the cookie the browser logged out with, not a copy renewed before, not a CLI
//! token minted from either, and not a token minted for the session later.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use tower_workos_sso::store::{
    BoxFuture, MemoryStore, Revocation, SessionRef, SessionStore, StoreError,
};

use super::app::{self, App, Use, claims, renewed_cookie, seconds};
use crate::support::down::Down;

/// Which token ends the session.
#[derive(Clone, Copy, Debug)]
enum LogoutWith {
    /// The browser's cookie from sign-in (an idle browser's).
    Original,
    /// The copy renewed past half the idle window.
    Renewed,
    /// A CLI token, as `Authorization: Bearer`.
    CliToken,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    idle: u64,
    absolute: u64,
    leeway: u64,
    /// A configured store rather than the layer's own.
    configured_store: bool,
    logout: LogoutWith,
    how: Use,
}

#[tokio::test]
async fn v1_every_copy_of_a_logged_out_session_is_refused_until_its_absolute_end_plus_leeway() {
    let minutes = |m: u64| m * 60;
    let cases = [
        Case {
            idle: minutes(30),
            absolute: minutes(8 * 60),
            leeway: 30,
            configured_store: false,
            logout: LogoutWith::Original,
            how: Use::Cookie,
        },
        Case {
            idle: minutes(10),
            absolute: minutes(60),
            leeway: 0,
            configured_store: true,
            logout: LogoutWith::Renewed,
            how: Use::Cookie,
        },
        Case {
            idle: minutes(45),
            absolute: minutes(12 * 60),
            leeway: 300,
            configured_store: false,
            logout: LogoutWith::CliToken,
            how: Use::Bearer,
        },
        Case {
            idle: minutes(20),
            absolute: minutes(2 * 60),
            leeway: 5,
            configured_store: true,
            logout: LogoutWith::Original,
            how: Use::Bearer,
        },
    ];
    for case in cases {
        run(case).await;
    }
}

async fn run(case: Case) {
    let app = app::start(|b| {
        let b = b
            .idle_timeout(Duration::from_secs(case.idle))
            .absolute_lifetime(Duration::from_secs(case.absolute))
            .clock_leeway(Duration::from_secs(case.leeway));
        if case.configured_store {
            b.session_store(MemoryStore::new())
        } else {
            b
        }
    })
    .await;
    let original = app.sign_in("login_hint=alice%40example.com").await;
    // Bob signs in beside alice and stays active: what he holds must keep working throughout,
    // so every refusal of alice's tokens below is the revocation, not an expiry.
    let mut bob = app.sign_in("login_hint=bob%40example.com").await;
    let sid = claims(&original)["sid"].as_str().unwrap().to_owned();
    let bob_sid = claims(&bob)["sid"].as_str().unwrap().to_owned();
    let cli_at_sign_in = app.cli_token(&original).await;

    // The browser stays idle; a copy of its cookie is used past half the idle window.
    app.advance(Duration::from_secs(case.idle / 2 + 1));
    let (status, renewed) = app.me(&original, Use::Cookie).await;
    assert_eq!(status, StatusCode::OK, "{case:?}");
    let renewed = renewed.expect("a copy past half its idle window is renewed");
    assert!(seconds(&renewed, "exp") > seconds(&original, "exp"));
    assert_eq!(claims(&renewed)["sid"], sid.as_str());
    let cli_of_renewed = app.cli_token(&renewed).await;
    keep_alive(&app, &mut bob).await;

    let ends_with = match case.logout {
        LogoutWith::Original => &original,
        LogoutWith::Renewed => &renewed,
        LogoutWith::CliToken => &cli_of_renewed,
    };
    let out = app.log_out(ends_with, case.how).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER, "{case:?}");
    assert_eq!(
        renewed_cookie(&out).as_deref(),
        Some(""),
        "the cookie is cleared"
    );

    // What a revocation that lasted only as long as the presented token would have kept.
    let presented_end = seconds(ends_with, "exp") + case.leeway;
    let absolute_end = seconds(&original, "auth_time") + case.absolute;
    let end = absolute_end + case.leeway;
    let mint_late = absolute_end - 60;
    let mut points: Vec<u64> = (1..)
        .map(|k| app.now() + k * (case.idle / 2))
        .take_while(|t| *t < end)
        .collect();
    points.extend([app.now(), presented_end + 1, mint_late, end]);
    points.sort_unstable();
    points.dedup();

    let mut late = Vec::new();
    for at in points {
        app.advance_to(at);
        let when = format!("{case:?} at {}s before the end", end - at);
        if at == mint_late {
            // An app still holding the `Session` mints for it: the token reaches the absolute end.
            late.push((app.mint_for(&sid), app.mint_for(&bob_sid)));
        }
        for copy in [&original, &renewed] {
            for how in Use::BOTH {
                assert!(
                    !app.opens(copy, how).await,
                    "{when}: browser copy as {how:?}"
                );
            }
        }
        for minted in [&cli_at_sign_in, &cli_of_renewed] {
            assert!(!app.opens(minted, Use::Bearer).await, "{when}: CLI token");
        }
        for (alices, bobs) in &late {
            assert!(
                !app.opens(alices, Use::Bearer).await,
                "{when}: late CLI token"
            );
            assert!(
                app.opens(bobs, Use::Bearer).await,
                "{when}: bob's late CLI token"
            );
        }
        keep_alive(&app, &mut bob).await;
        assert!(app.opens(&bob, Use::Bearer).await, "{when}: bob");
    }
}

/// Uses bob's cookie, keeping the renewed one.
async fn keep_alive(app: &App, bob: &mut String) {
    let (status, renewed) = app.me(bob, Use::Cookie).await;
    assert_eq!(status, StatusCode::OK, "bob's session is alive");
    if let Some(renewed) = renewed {
        *bob = renewed;
    }
}

#[tokio::test]
async fn v1_a_logout_the_store_cannot_record_says_so_and_still_clears_the_cookie() {
    // A memory store at its cap (here: none) refuses the revocation rather than forget another.
    let app = app::start(|b| b.session_store(MemoryStore::with_capacity(0, 10))).await;
    let token = app.sign_in("login_hint=alice%40example.com").await;
    for (how, accept, kind) in [
        (Use::Cookie, "application/json", "application/json"),
        (Use::Cookie, "text/html,application/xhtml+xml", "text/html"),
        (Use::Bearer, "*/*", "application/json"),
    ] {
        let request = Use::with(
            how,
            reqwest::Client::new()
                .post(app.url("/auth/logout"))
                .header("accept", accept)
                .header("sec-fetch-site", "same-origin"),
            &token,
        );
        let out = request.send().await.unwrap();
        assert_eq!(out.status(), StatusCode::SERVICE_UNAVAILABLE, "{accept}");
        assert_eq!(renewed_cookie(&out).as_deref(), Some(""), "{accept}");
        assert_eq!(out.headers()["cache-control"], "no-store");
        let content_type = out.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with(kind), "{accept}: {content_type}");
        let body = out.text().await.unwrap();
        assert!(body.contains("could not be ended"), "{body}");
        assert!(!body.contains(&token));
    }
}

#[tokio::test]
async fn a_store_that_is_down_refuses_sessions_on_protected_paths_and_serves_public_ones_anonymously()
 {
    let app = app::start(|b| b.session_store(Down)).await;
    let token = app
        .layer
        .issue_session_token(&crate::support::harness::alice())
        .unwrap();
    let client = app.client();
    // A session that cannot be checked is not let in where one is needed...
    let me = Use::Bearer
        .send(client, &app.url("/api/me"), token.expose())
        .await;
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(renewed_cookie(&me), None);
    // ...and a store outage never blocks a public path: served as to an anonymous caller.
    let public = Use::Bearer
        .send(client, &app.url("/public"), token.expose())
        .await;
    assert_eq!(public.status(), StatusCode::OK);
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    let public = client.get(app.url("/public")).send().await.unwrap();
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    let out = app.log_out(token.expose(), Use::Bearer).await;
    assert_eq!(out.status(), StatusCode::SERVICE_UNAVAILABLE);

    // A browser's cookie, where only the revocation check fails: the sign-in completes, its
    // landing page (protected) is a 503, a public page is served anonymously, and the cookie
    // is neither renewed nor cleared there (the session may well be valid).
    let app = app::start(|b| b.session_store(CannotCheck(MemoryStore::new()))).await;
    let (hops, page, cookie) = app
        .browse("/auth/login?login_hint=alice%40example.com")
        .await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "{hops:?}");
    let cookie = cookie.expect("a session cookie");
    let public = Use::Cookie
        .send(app.client(), &app.url("/public"), &cookie)
        .await;
    assert_eq!(public.status(), StatusCode::OK);
    assert_eq!(renewed_cookie(&public), None);
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    assert_eq!(
        app.me(&cookie, Use::Cookie).await,
        (StatusCode::SERVICE_UNAVAILABLE, None)
    );
}

/// A store whose revocation check fails; the rest works.
struct CannotCheck(MemoryStore);

impl SessionStore for CannotCheck {
    fn revoke(
        &self,
        what: Revocation,
        at: SystemTime,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.0.revoke(what, at, until)
    }

    fn is_revoked(&self, _: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(std::future::ready(Err(StoreError::new("timed out"))))
    }

    fn consume_login_state(
        &self,
        id: &str,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        self.0.consume_login_state(id, until)
    }
}
