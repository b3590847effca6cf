//! SECURITY.md S1-S4, S6-S8, S13: the callback signs in only with the state of a flow this
//! browser started, once, in time, with its own PKCE verifier; and it stays reachable when every
//! path needs a session.
//!
//! Each test drives the real layer over HTTP with the testkit fake as WorkOS, and checks three
//! things on every refusal: the status, that no session cookie was set, and (where the property
//! says so) that WorkOS was never called.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::AccessPolicy;
use tower_workos_sso::testkit::Endpoint;

use crate::support::callback::{assert_refused, callback_with, sets_a_session};
use crate::support::forge::{flow_cookie_name, get_with_cookie, start_alice, start_login};
use crate::support::harness::{self, Browser, SESSION_COOKIE, set_cookies};

#[tokio::test]
async fn s1_a_callback_without_state_is_refused_and_never_exchanged() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    let code = &login.code;
    for query in [
        format!("code={code}"),
        format!("code={code}&state="),
        format!("code={code}&State={}", login.state),
        format!("code={code}&state%00={}", login.state),
        format!("code={code}&error_description=state%3D{}", login.state),
    ] {
        assert_refused(browser.get(&callback_with(&app, &query)).await, &query).await;
    }
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    // The flow is still intact: the genuine callback signs in.
    let done = browser.get(&login.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn s2_a_state_matching_no_flow_cookie_is_refused_without_calling_workos() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let mine = start_alice(&app, &browser).await;
    let stranger = Browser::new();
    let theirs = start_alice(&app, &stranger).await;
    let code = &mine.code;
    let forged_same_shape = "A".repeat(mine.state.len());
    for query in [
        format!("code={code}&state={forged_same_shape}"),
        format!("code={code}&state=forged"),
        format!("code={code}&state={}", theirs.state),
        format!("code={}&state={}", theirs.code, theirs.state),
        format!("code={code}&state={}&state={}", mine.state, mine.state),
        format!("code={code}&state={}", "s".repeat(3000)),
        format!("code={code}&state=%20{}", mine.state),
    ] {
        assert_refused(browser.get(&callback_with(&app, &query)).await, &query).await;
    }
    // Another browser's genuine callback URL, opened here.
    assert_refused(
        browser.get(&theirs.callback).await,
        "another browser's callback",
    )
    .await;
    // And this browser's callback opened in a browser without its flow cookie.
    assert_refused(Browser::new().get(&mine.callback).await, "no flow cookie").await;
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
}

#[tokio::test]
async fn s3_a_completed_callback_cannot_be_replayed_even_with_the_saved_flow_cookie() {
    let client = harness::api();
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    let done = browser.get(&login.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (name, value) = &login.flow_cookie;
    assert!(
        set_cookies(&done)
            .iter()
            .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
        "the callback deletes its flow cookie"
    );
    assert!(browser.cookie(&app.base, name).is_none());

    // Replayed in the same browser: the flow is gone.
    assert_refused(browser.get(&login.callback).await, "replay").await;
    // Replayed elsewhere.
    assert_refused(
        Browser::new().get(&login.callback).await,
        "replay elsewhere",
    )
    .await;
    assert_eq!(app.workos.requests(Endpoint::Token), 1);
    // Replayed with a copy of the flow cookie kept from before: the flow was consumed by its
    // first callback, so the used code never even reaches WorkOS again (X1).
    let replay = get_with_cookie(&client, &login.callback, &format!("{name}={value}")).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(!sets_a_session(&replay));
    assert!(replay.text().await.unwrap().contains("Login expired"));
    assert_eq!(
        app.workos.requests(Endpoint::Token),
        1,
        "no second exchange"
    );
}

#[tokio::test]
async fn s4_a_flow_older_than_its_lifetime_says_login_expired_and_offers_a_fresh_login() {
    let app = harness::start(|b| b).await;
    // Just inside the 10-minute lifetime: still good.
    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    app.advance(Duration::from_secs(598));
    assert_eq!(
        browser.get(&login.callback).await.status(),
        StatusCode::SEE_OTHER
    );

    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    app.advance(Duration::from_secs(602));
    let response = browser.get(&login.callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(!sets_a_session(&response));
    assert!(
        set_cookies(&response)
            .iter()
            .any(|c| c.starts_with(&format!("{}=;", login.flow_cookie.0))),
        "the stale flow cookie is deleted"
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("Login expired"), "{body}");
    assert!(body.contains(r#"href="/auth/login""#), "{body}");
    assert_eq!(app.workos.requests(Endpoint::Token), 1);
}

#[tokio::test]
async fn s6_login_csrf_an_attackers_own_callback_does_not_sign_the_victim_in() {
    let app = harness::start(|b| b).await;
    // The attacker completes the IdP part as themselves and keeps the callback URL.
    let attacker = Browser::new();
    let planted = start_alice(&app, &attacker).await;
    // The victim has a login of their own under way, and is lured to the attacker's URL.
    let victim = Browser::new();
    let own = start_login(&app, &victim, "login_hint=bob%40example.com").await;
    assert_refused(victim.get(&planted.callback).await, "planted callback").await;
    assert_eq!(victim.cookie(&app.base, SESSION_COOKIE), None);
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    // The victim's own login is unaffected and signs in the victim.
    let (_, page) = victim.follow(&own.callback).await;
    assert_eq!(page.text().await.unwrap(), "home of bob@example.com");
}

#[tokio::test]
async fn s7_a_stolen_code_used_with_another_pkce_verifier_gives_no_session() {
    let app = harness::start(|b| b).await;
    let victim = Browser::new();
    let stolen = start_alice(&app, &victim).await;
    // The attacker starts their own flow and puts the victim's code into their own callback.
    let attacker = Browser::new();
    let own = start_login(&app, &attacker, "login_hint=bob%40example.com").await;
    let injected = callback_with(&app, &format!("code={}&state={}", stolen.code, own.state));
    let response = attacker.get(&injected).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(!sets_a_session(&response));
    assert!(response.text().await.unwrap().contains("Login expired"));
    assert_eq!(attacker.cookie(&app.base, SESSION_COOKIE), None);
    assert_eq!(app.workos.requests(Endpoint::Token), 1, "WorkOS said no");
}

#[tokio::test]
async fn s8_near_miss_states_are_refused() {
    let client = harness::api();
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    let state = login.state.clone();
    let flip = |i: usize| {
        let mut bytes = state.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let near_misses = [
        flip(0),
        flip(state.len() / 2),
        flip(state.len() - 1),
        state[..state.len() - 1].to_owned(),
        state[..8].to_owned(),
        format!("{state}A"),
        format!("{state}{state}"),
        state.to_ascii_uppercase(),
    ];
    let (name, value) = login.flow_cookie.clone();
    for near in &near_misses {
        assert_ne!(near, &state);
        let url = callback_with(&app, &format!("code={}&state={near}", login.code));
        // As sent by the browser: the near miss names no flow cookie.
        assert_refused(browser.get(&url).await, near).await;
        // The flow cookie moved under the near miss's name, so the state comparison itself
        // (signed `st` against the query's `state`) is what refuses it.
        let moved = format!("{}={value}", flow_cookie_name(near));
        let response = get_with_cookie(&client, &url, &moved).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{near}");
        assert!(
            set_cookies(&response)
                .iter()
                .any(|c| c.starts_with(&format!("{}=;", flow_cookie_name(near)))),
            "a flow cookie that fails the comparison is deleted"
        );
        assert!(!sets_a_session(&response));
    }
    assert_eq!(
        flow_cookie_name(&state),
        name,
        "the forge names cookies as the crate"
    );
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    let done = browser.get(&login.callback).await;
    assert_eq!(
        done.status(),
        StatusCode::SEE_OTHER,
        "the exact state still works"
    );
}

#[tokio::test]
async fn s13_the_callback_stays_reachable_when_every_path_needs_a_session() {
    for base_path in ["/auth", "/sso"] {
        let workos = tower_workos_sso::testkit::MockWorkOs::start()
            .await
            .unwrap();
        let app = harness::start_with_base(workos, |base, b| {
            b.base_path(base_path)
                .redirect_uri(format!("{base}{base_path}/callback"))
                .access_policy(AccessPolicy::RequireLogin)
                .default_selector(tower_workos_sso::Selector::organization("org_01ACME").unwrap())
        })
        .await;
        // An anonymous browser reaches the callback itself (its own 400 page), not the login.
        let anonymous = Browser::new()
            .get(&app.url(&format!("{base_path}/callback?code=x&state=y")))
            .await;
        assert_refused(anonymous, base_path).await;
        // From a protected page through the login and back, with no loop.
        let browser = Browser::new();
        let (hops, page) = browser
            .follow(&app.url(&format!(
                "{base_path}/login?login_hint=alice%40example.com&return_to=%2Fapi%2Fme"
            )))
            .await;
        assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
        assert_eq!(hops.len(), 4, "login, WorkOS, callback, page: {hops:?}");
        assert!(hops[2].starts_with(&app.url(&format!("{base_path}/callback?"))));
        let (hops, page) = Browser::new().follow(&app.url("/api/me")).await;
        assert_eq!(page.status(), StatusCode::OK, "the fake's sign-in page");
        assert!(hops[1].starts_with(&app.url(&format!("{base_path}/login?"))));
    }
}
