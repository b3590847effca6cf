//! SECURITY.md S1-S13: the login flow (state, PKCE, flow cookies, callback).
//!
//! Each test drives the real layer over HTTP with the testkit fake as WorkOS, and checks three
//! things on every refusal: the status, that no session cookie was set, and (where the property
//! says so) that WorkOS was never called.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::testkit::Endpoint;
use tower_workos_sso::{AccessPolicy, IdpInitiatedLogin};

use crate::forge::{
    self, assert_no_store_if_cookie, flow_cookie_name, get_with_cookie, query_param, start_alice,
    start_login,
};
use crate::harness::{self, App, Browser, SESSION_COOKIE, location, set_cookies};

fn sets_a_session(response: &reqwest::Response) -> bool {
    set_cookies(response)
        .iter()
        .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=")) && !c.contains("Max-Age=0"))
}

/// A refused callback: 400, the crate's page offering a fresh login, private, no session.
async fn assert_refused(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
    assert!(!sets_a_session(&response), "{what}: no session");
    assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    assert_eq!(
        response.headers()["referrer-policy"],
        "no-referrer",
        "{what}"
    );
    assert!(response.headers().get("location").is_none(), "{what}");
    let body = response.text().await.unwrap();
    assert!(body.contains("Sign in again"), "{what}: {body}");
}

fn callback_with(app: &App, query: &str) -> String {
    app.url(&format!("/auth/callback?{query}"))
}

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
    // Replayed with a copy of the flow cookie kept from before: WorkOS refuses the used code.
    let replay = get_with_cookie(&client, &login.callback, &format!("{name}={value}")).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(!sets_a_session(&replay));
    assert!(replay.text().await.unwrap().contains("Login expired"));
    assert_eq!(app.workos.requests(Endpoint::Token), 2, "one try, no retry");
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
async fn s5_a_tampered_truncated_swapped_or_foreign_flow_cookie_is_refused() {
    let client = harness::api();
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    let other = start_alice(&app, &Browser::new()).await;
    let (name, value) = login.flow_cookie.clone();
    let parts: Vec<&str> = value.split('.').collect();
    assert_eq!(parts.len(), 3);

    let mut attempts: Vec<(String, String)> = Vec::new();
    // Every byte changed, one at a time.
    for i in 0..value.len() {
        let mut bytes = value.clone().into_bytes();
        bytes[i] = match bytes[i] {
            b'A' => b'B',
            b'.' => b'_',
            _ => b'A',
        };
        attempts.push((format!("byte {i}"), String::from_utf8(bytes).unwrap()));
    }
    for cut in [1, 10, parts[2].len(), value.len() / 2, value.len() - 1] {
        attempts.push((
            format!("truncated by {cut}"),
            value[..value.len() - cut].to_owned(),
        ));
    }
    let half = value.len() / 2;
    attempts.extend([
        (
            "halves swapped".to_owned(),
            format!("{}{}", &value[half..], &value[..half]),
        ),
        (
            "header and payload swapped".to_owned(),
            format!("{}.{}.{}", parts[1], parts[0], parts[2]),
        ),
        (
            "another flow's payload".to_owned(),
            format!(
                "{}.{}.{}",
                parts[0],
                other.flow_cookie.1.split('.').nth(1).unwrap(),
                parts[2]
            ),
        ),
        (
            "another flow's cookie".to_owned(),
            other.flow_cookie.1.clone(),
        ),
        ("empty".to_owned(), String::new()),
        ("extra segment".to_owned(), format!("{value}.AAAA")),
        (
            "no signature".to_owned(),
            format!("{}.{}.", parts[0], parts[1]),
        ),
    ]);
    // Signed with another secret, or with the session key, or as a session.
    let claims = forge::payload(&value);
    let stranger = forge::derived_key(b"some-other-secret-that-is-32-bytes-long!", "flow");
    let (session_key, session_kid) = forge::session_key();
    attempts.extend([
        (
            "another key".to_owned(),
            forge::jwt(
                &forge::hs256_header(&forge::kid_of(&stranger)),
                &claims,
                forge::Sign::Hmac(aws_lc_rs::hmac::HMAC_SHA256, &stranger),
            ),
        ),
        (
            "another key, this kid".to_owned(),
            forge::jwt(
                &serde_json::from_slice(&forge::unb64(parts[0])).unwrap(),
                &claims,
                forge::Sign::Hmac(aws_lc_rs::hmac::HMAC_SHA256, &stranger),
            ),
        ),
        (
            "session key".to_owned(),
            forge::jwt(
                &forge::hs256_header(&session_kid),
                &claims,
                forge::Sign::Hmac(aws_lc_rs::hmac::HMAC_SHA256, &session_key),
            ),
        ),
        (
            "a session token".to_owned(),
            forge::session_token(&forge::session_claims(&app, forge::unix_now())),
        ),
    ]);

    for (what, tampered) in &attempts {
        let response =
            get_with_cookie(&client, &login.callback, &format!("{name}={tampered}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(!sets_a_session(&response), "{what}");
    }
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    // The untouched cookie still works: every refusal above was about the cookie.
    let genuine = get_with_cookie(&client, &login.callback, &format!("{name}={value}")).await;
    assert_eq!(genuine.status(), StatusCode::SEE_OTHER);
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
async fn s9_many_login_starts_keep_flow_cookies_capped_and_the_cookie_header_small() {
    let app = harness::start(|b| b).await;
    // A signed-in user whose session is as large as the crate ever issues (~3.8 KB: big custom
    // attributes), who keeps opening sign-in links (tabs, bookmarks, a script), half of them with
    // the longest return_to the crate keeps.
    let now = forge::unix_now();
    let mut claims = forge::session_claims(&app, now);
    claims["profile"]["custom_attributes"] = serde_json::json!({ "notes": "n".repeat(2230) });
    let session = forge::session_token(&claims);
    assert!((3700..=3800).contains(&session.len()), "{}", session.len());
    let browser = Browser::new();
    browser.jar.add_cookie_str(
        &format!("{SESSION_COOKIE}={session}; Path=/"),
        &app.base.parse().unwrap(),
    );
    assert_eq!(browser.get(&app.url("/")).await.status(), StatusCode::OK);

    let long = format!("/{}", "r".repeat(2000));
    let mut largest = 0;
    for i in 0..40 {
        let return_to = if i % 2 == 0 { long.as_str() } else { "/" };
        let response = browser
            .get(&app.url(&format!("/auth/login?return_to={return_to}")))
            .await;
        assert_eq!(response.status(), StatusCode::FOUND, "start {i}");
        assert_no_store_if_cookie(&response, "login");
        let header = forge::cookie_header(&browser, &app.base).expect("cookies");
        let flows = header
            .split("; ")
            .filter(|c| c.starts_with("sso_session_flow_"))
            .count();
        assert!(
            (1..=4).contains(&flows),
            "{flows} flow cookies after {i} starts"
        );
        largest = largest.max(header.len());
    }
    // Under the 8 KiB that common servers and proxies accept for one header line (nginx,
    // Apache), so the site never starts answering 400/431 to this browser.
    assert!(largest <= 8 * 1024, "Cookie header grew to {largest} bytes");
    // Four short logins at once still all fit (the count cap, not the byte cap, applies).
    let fresh = Browser::new();
    for _ in 0..6 {
        fresh.get(&app.url("/auth/login")).await;
    }
    let header = forge::cookie_header(&fresh, &app.base).unwrap();
    assert_eq!(header.matches("sso_session_flow_").count(), 4, "{header}");
    // The browser still gets everything: no 431, no loop.
    assert_eq!(browser.get(&app.url("/")).await.status(), StatusCode::OK);
    let (_, page) = browser.sign_in(&app, "login_hint=bob%40example.com").await;
    assert_eq!(page.text().await.unwrap(), "home of bob@example.com");
}

#[tokio::test]
async fn s9_planted_junk_flow_cookies_are_cleared_first() {
    let client = harness::api();
    let app = harness::start(|b| b).await;
    let junk: Vec<String> = (0..40)
        .map(|i| format!("sso_session_flow_junk{i:02}=not-a-token-{i}"))
        .collect();
    let response = get_with_cookie(&client, &app.url("/auth/login"), &junk.join("; ")).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cleared = set_cookies(&response)
        .iter()
        .filter(|c| c.starts_with("sso_session_flow_junk") && c.contains("Max-Age=0"))
        .count();
    assert!(cleared >= 37, "only {cleared} junk flow cookies cleared");
}

#[tokio::test]
async fn s10_error_callbacks_never_render_the_description_and_set_no_session() {
    let app = harness::start(|b| b.allowed_organizations(["org_01GLOBEX"])).await;
    let descriptions = [
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        "javascript%3Aalert(document.cookie)",
        "Call%20us%20at%20555-0100%0D%0ASet-Cookie%3A%20x%3Dy",
        "%E2%80%AEevil%20%F0%9F%98%88%20text",
        "UNIQUE-MARKER-7d1f",
    ];
    let browser = Browser::new();
    for (i, description) in descriptions.iter().enumerate() {
        // Half of them carry the browser's own state, as WorkOS would.
        let login = start_login(
            &app,
            &browser,
            "login_hint=carol%40globex.test&organization=org_01GLOBEX",
        )
        .await;
        let mut query = format!("error=access_denied&error_description={description}");
        if i % 2 == 0 {
            query.push_str(&format!("&state={}", login.state));
        }
        let response = browser.get(&callback_with(&app, &query)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{description}");
        assert!(!sets_a_session(&response));
        assert!(response.headers().get("location").is_none());
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        let body = response.text().await.unwrap();
        for raw in [
            "<script",
            "onerror",
            "javascript:",
            "555-0100",
            "Set-Cookie",
            "evil",
            "UNIQUE-MARKER",
        ] {
            assert!(!body.contains(raw), "{raw} rendered in {body}");
        }
        if i % 2 == 0 {
            // A retry of the same kind of login is offered.
            assert!(body.contains("organization=org_01GLOBEX"), "{body}");
        }
    }
    // Malformed error values get the generic page, never reflected.
    for error in ["%3Cb%3Ebold%3C%2Fb%3E", "a%0Ab", &"x".repeat(3000)] {
        let response = browser
            .get(&callback_with(&app, &format!("error={error}")))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = response.text().await.unwrap();
        assert!(!body.contains("<b>") && !body.contains("xxxx"), "{body}");
    }
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
}

#[tokio::test]
async fn s11_idp_initiated_disabled_restarts_once_for_a_valid_connection_and_never_loops() {
    let app = harness::start(|b| b.allowed_connections(["conn_01GLOBEXENTRA"])).await;
    let browser = Browser::new();
    let response = browser
        .get(&callback_with(
            &app,
            "error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA",
        ))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_no_store_if_cookie(&response, "restart");
    let authorize = location(&response);
    assert!(authorize.starts_with(&format!("{}/sso/authorize?", app.workos.base_url())));
    assert_eq!(
        query_param(&authorize, "connection").as_deref(),
        Some("conn_01GLOBEXENTRA")
    );
    assert_eq!(query_param(&authorize, "organization"), None);
    // WorkOS answering the restarted flow (its own state) with the same error does not
    // restart again: a page, not another redirect.
    let state = query_param(&authorize, "state").unwrap();
    let again = browser
        .get(&callback_with(
            &app,
            &format!(
                "error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA&state={state}"
            ),
        ))
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.headers().get("location").is_none());
    // The id is validated before it goes anywhere.
    for bad in [
        "conn_01%22%3E%3Cscript%3E",
        "conn_",
        "org_01ACME",
        "https%3A%2F%2Fevil.test",
        "conn_01%26organization%3Dorg_01ACME",
        "",
    ] {
        let response = browser
            .get(&callback_with(
                &app,
                &format!("error=idp_initiated_sso_disabled&connection_id={bad}"),
            ))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(response.headers().get("location").is_none());
    }
    // The restarted flow completes like any other.
    let (_, page) = browser.follow(&authorize).await;
    assert_eq!(page.status(), StatusCode::OK, "the sign-in page for Globex");
    assert!(page.text().await.unwrap().contains("carol@globex.test"));
}

#[tokio::test]
async fn s12_unsolicited_codes_are_rejected_by_default_and_restarted_only_when_opted_in() {
    let app = harness::start(|b| b).await;
    let code = app
        .workos
        .issue_code("alice@example.com", &app.url("/auth/callback"), None)
        .unwrap();
    let browser = Browser::new();
    assert_refused(
        browser
            .get(&callback_with(&app, &format!("code={code}")))
            .await,
        "IdP-initiated, default policy",
    )
    .await;
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);

    // Opted in: the code is discarded and a fresh SP-initiated login (with state and PKCE)
    // starts; completing it signs the user in.
    let opted =
        harness::start(|b| b.idp_initiated_login(IdpInitiatedLogin::RestartWithDefaultSelector))
            .await;
    let code = opted
        .workos
        .issue_code("alice@example.com", &opted.url("/auth/callback"), None)
        .unwrap();
    let browser = Browser::new();
    let restart = browser
        .get(&opted.url(&format!("/auth/callback?code={code}")))
        .await;
    assert_eq!(restart.status(), StatusCode::FOUND);
    assert_no_store_if_cookie(&restart, "restart");
    let authorize = location(&restart);
    assert_eq!(
        query_param(&authorize, "organization").as_deref(),
        Some("org_01ACME")
    );
    assert!(query_param(&authorize, "state").is_some());
    assert!(query_param(&authorize, "code_challenge").is_some());
    assert_eq!(opted.workos.requests(Endpoint::Token), 0, "never exchanged");
    // The user picks who they are at the IdP (here: the fake's login_hint shortcut).
    let with_hint = format!("{authorize}&login_hint=alice%40example.com");
    let (_, page) = browser.follow(&with_hint).await;
    assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
    assert_eq!(opted.workos.requests(Endpoint::Token), 1);

    // Opted in but with no default selector: nothing to restart with, so refused.
    let bare = harness::start_with(
        tower_workos_sso::testkit::MockWorkOs::start()
            .await
            .unwrap(),
        |b| b.idp_initiated_login(IdpInitiatedLogin::RestartWithDefaultSelector),
    )
    .await;
    let code = bare
        .workos
        .issue_code("alice@example.com", &bare.url("/auth/callback"), None)
        .unwrap();
    assert_refused(
        Browser::new()
            .get(&bare.url(&format!("/auth/callback?code={code}")))
            .await,
        "no default selector",
    )
    .await;
    assert_eq!(bare.workos.requests(Endpoint::Token), 0);
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
