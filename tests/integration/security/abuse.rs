//! Abuse limits (SECURITY.md X2): a burst of callbacks cannot tie up the server or spend the
//! app's WorkOS rate limit.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::testkit::{Endpoint, Fault};

use crate::support::harness::{self, App, Browser, SESSION_COOKIE, location, set_cookies};

/// Starts a login for `email` in `browser` and returns the callback URL the fake sends it to,
/// without visiting it.
async fn callback_url(app: &App, browser: &Browser, email: &str) -> String {
    let login = browser
        .get(&app.url(&format!(
            "/auth/login?login_hint={}",
            email.replace('@', "%40")
        )))
        .await;
    let authorize = browser.get(&location(&login)).await;
    let callback = location(&authorize);
    assert!(
        callback.starts_with(&app.url("/auth/callback?")),
        "{callback}"
    );
    callback
}

#[tokio::test]
async fn x2_callbacks_above_the_cap_get_an_immediate_503_and_other_routes_still_answer() {
    let app = harness::start(|b| b.max_concurrent_exchanges(2)).await;
    let users = [
        "alice@example.com",
        "bob@example.com",
        "alice@example.com",
        "bob@example.com",
    ];
    let mut pending = Vec::new();
    for email in users {
        let browser = Browser::new();
        let url = callback_url(&app, &browser, email).await;
        pending.push((browser, url));
    }

    // WorkOS stops answering: two exchanges hang, holding both slots.
    app.workos.set_fault(Endpoint::Token, Some(Fault::Hang));
    let mut hung = Vec::new();
    for (browser, url) in pending.drain(..2) {
        hung.push(tokio::spawn(
            async move { browser.get(&url).await.status() },
        ));
    }
    for _ in 0..400 {
        if app.workos.requests(Endpoint::Token) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(app.workos.requests(Endpoint::Token), 2);

    // Above the cap: 503 at once, no call to WorkOS, no session, the flow kept for a retry.
    for (browser, url) in &pending {
        let busy = browser.get(url).await;
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()["retry-after"], "1");
        assert!(set_cookies(&busy).is_empty(), "{:?}", set_cookies(&busy));
    }
    assert_eq!(app.workos.requests(Endpoint::Token), 2);
    // Everything else is unaffected.
    let public = Browser::new().get(&app.url("/public")).await;
    assert_eq!(public.status(), StatusCode::OK);

    // Once the hung exchanges time out, a refused callback goes through on retry.
    app.workos.set_fault(Endpoint::Token, None);
    for handle in hung {
        assert_eq!(handle.await.unwrap(), StatusCode::GATEWAY_TIMEOUT);
    }
    let (browser, url) = &pending[0];
    let done = browser.get(url).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(browser.cookie(&app.base, SESSION_COOKIE).is_some());
}

#[tokio::test]
async fn x1_a_flow_is_consumed_by_its_first_callback_and_replays_never_reach_workos() {
    use crate::support::forge::{get_with_cookie, start_login};

    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let started = start_login(&app, &browser, "login_hint=alice%40example.com").await;
    let (name, value) = &started.flow_cookie;
    let cookie = format!("{name}={value}");
    let client = crate::support::harness::api();
    let callback = |code: &str| {
        app.url(&format!(
            "/auth/callback?code={code}&state={}",
            started.state
        ))
    };

    // The first callback carries junk: it is exchanged once (and refused by WorkOS).
    let first = get_with_cookie(&client, &callback("junk-0"), &cookie).await;
    assert_eq!(first.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.workos.requests(Endpoint::Token), 1);

    // The same flow cookie replayed, with more junk or with the real code: no call to WorkOS.
    for code in ["junk-1", "junk-2", "x", &"a".repeat(1000), &started.code] {
        let replay = get_with_cookie(&client, &callback(code), &cookie).await;
        assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "{code}");
        assert!(
            !set_cookies(&replay)
                .iter()
                .any(|c| c.starts_with(&format!("{SESSION_COOKIE}="))),
            "no session"
        );
        let body = replay.text().await.unwrap();
        assert!(body.contains("Login expired"), "{body}");
    }
    assert_eq!(app.workos.requests(Endpoint::Token), 1);

    // A replay burst is as cheap.
    let mut burst = Vec::new();
    for i in 0..50 {
        let (client, url, cookie) = (
            client.clone(),
            callback(&format!("burst-{i}")),
            cookie.clone(),
        );
        burst.push(tokio::spawn(async move {
            get_with_cookie(&client, &url, &cookie).await.status()
        }));
    }
    for handle in burst {
        assert_eq!(handle.await.unwrap(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.workos.requests(Endpoint::Token), 1);
}

/// A store that cannot record anything: login states fail closed.
struct DownStore;

impl tower_workos_sso::store::SessionStore for DownStore {
    fn revoke(
        &self,
        _: tower_workos_sso::store::Revocation,
        _: std::time::SystemTime,
        _: std::time::SystemTime,
    ) -> tower_workos_sso::store::BoxFuture<'_, Result<(), tower_workos_sso::store::StoreError>>
    {
        Box::pin(async { Err(tower_workos_sso::store::StoreError::new("store down")) })
    }

    fn is_revoked(
        &self,
        _: &tower_workos_sso::store::SessionRef<'_>,
    ) -> tower_workos_sso::store::BoxFuture<'_, Result<bool, tower_workos_sso::store::StoreError>>
    {
        Box::pin(async { Err(tower_workos_sso::store::StoreError::new("store down")) })
    }

    fn consume_login_state(
        &self,
        _: &str,
        _: std::time::SystemTime,
    ) -> tower_workos_sso::store::BoxFuture<'_, Result<bool, tower_workos_sso::store::StoreError>>
    {
        Box::pin(async { Err(tower_workos_sso::store::StoreError::new("store down")) })
    }
}

#[tokio::test]
async fn x1_when_the_store_cannot_record_the_flow_the_callback_fails_closed() {
    let app = harness::start(|b| b.session_store(DownStore)).await;
    let browser = Browser::new();
    let url = callback_url(&app, &browser, "alice@example.com").await;
    let refused = browser.get(&url).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(browser.cookie(&app.base, SESSION_COOKIE).is_none());
    assert_eq!(app.workos.requests(Endpoint::Token), 0, "never exchanged");
}
