//! SECURITY.md S5, S9: the flow cookie itself. Any tampered, truncated, swapped or foreign flow
//! cookie is refused (S5), and however many logins a browser starts, its flow cookies stay few
//! and small (S9).
//!
//! Each test drives the real layer over HTTP with the testkit fake as WorkOS, and checks three
//! things on every refusal: the status, that no session cookie was set, and (where the property
//! says so) that WorkOS was never called.

use reqwest::StatusCode;
use tower_workos_sso::testkit::Endpoint;

use crate::support::callback::sets_a_session;
use crate::support::forge::{self, assert_no_store_if_cookie, get_with_cookie, start_alice};
use crate::support::harness::{self, Browser, SESSION_COOKIE, set_cookies};

#[tokio::test]
async fn s5_a_tampered_truncated_swapped_or_foreign_flow_cookie_is_refused() {
    let client = harness::api();
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    let other = start_alice(&app, &Browser::new()).await;
    let (name, value) = login.flow_cookie.clone();
    // Format 2: `2.<payload>.<mac>`.
    let parts: Vec<&str> = value.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "2");
    let (flow_key, _) = forge::flow_key();
    let client_id = app.workos.client_id();
    // The forger below is right: signing the genuine payload as documented gives the cookie
    // the crate set, so every refusal of a re-signed one is about what it changed.
    assert_eq!(
        forge::flow_value(parts[1], &flow_key, "tower-workos-sso", client_id),
        value
    );

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
    let other_payload = other.flow_cookie.1.split('.').nth(1).unwrap().to_owned();
    attempts.extend([
        (
            "halves swapped".to_owned(),
            format!("{}{}", &value[half..], &value[..half]),
        ),
        (
            "payload and MAC swapped".to_owned(),
            format!("2.{}.{}", parts[2], parts[1]),
        ),
        (
            "another flow's payload".to_owned(),
            format!("2.{other_payload}.{}", parts[2]),
        ),
        (
            "another flow's cookie".to_owned(),
            other.flow_cookie.1.clone(),
        ),
        ("empty".to_owned(), String::new()),
        ("extra segment".to_owned(), format!("{value}.AAAA")),
        ("no MAC".to_owned(), format!("2.{}.", parts[1])),
        (
            "no version".to_owned(),
            format!("{}.{}", parts[1], parts[2]),
        ),
        (
            "another version".to_owned(),
            format!("3.{}.{}", parts[1], parts[2]),
        ),
    ]);
    // This payload signed with another secret, with the session key, for another app (issuer
    // or audience), or as a format-1 flow (a JWT under the flow key and its kid); and a session.
    let stranger = forge::derived_key(b"some-other-secret-that-is-32-bytes-long!", "flow");
    let (session_key, _) = forge::session_key();
    let (_, flow_kid) = forge::flow_key();
    let v1_claims = serde_json::json!({
        "iss": "tower-workos-sso", "aud": client_id, "typ": "flow",
        "st": login.state, "pv": "verifier", "rt": "/", "sel": ["organization", "org_01ACME"],
        "xs": false, "iat": forge::unix_now(), "exp": forge::unix_now() + 600,
    });
    attempts.extend([
        (
            "another key".to_owned(),
            forge::flow_value(parts[1], &stranger, "tower-workos-sso", client_id),
        ),
        (
            "session key".to_owned(),
            forge::flow_value(parts[1], &session_key, "tower-workos-sso", client_id),
        ),
        (
            "another issuer".to_owned(),
            forge::flow_value(parts[1], &flow_key, "another-app", client_id),
        ),
        (
            "another audience".to_owned(),
            forge::flow_value(parts[1], &flow_key, "tower-workos-sso", "client_other"),
        ),
        (
            "format 1 (a JWT) under the flow key".to_owned(),
            forge::jwt(
                &forge::hs256_header(&flow_kid),
                &v1_claims,
                forge::Sign::Hmac(aws_lc_rs::hmac::HMAC_SHA256, &flow_key),
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
async fn s9_many_login_starts_keep_flow_cookies_capped_and_the_cookie_header_small() {
    let app = harness::start(|b| b).await;
    // A signed-in user whose session is as large as the crate ever issues (~3.8 KB: big custom
    // attributes), who keeps opening sign-in links (tabs, bookmarks, a script), half of them with
    // the longest return_to the crate keeps.
    let now = forge::unix_now();
    let mut claims = forge::session_claims(&app, now);
    claims["p"]["ca"] = serde_json::json!({ "notes": "n".repeat(2340) });
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
