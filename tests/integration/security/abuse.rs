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
