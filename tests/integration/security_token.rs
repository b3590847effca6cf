//! SECURITY.md T1-T11: the session token and cookie. Tokens are forged with the crate's own
//! derived keys (see `forge`), so each mutation isolates one check: a token that only differs
//! from an accepted one in the mutated part.

use std::time::{Duration, UNIX_EPOCH};

use aws_lc_rs::hmac;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tower_workos_sso::store::MemoryStore;

use crate::forge::{
    self, Sign, alice_profile, assert_no_store_if_cookie, get_with_cookie, hs256_header, jwt,
    session_claims, session_key, session_token, start_alice,
};
use crate::harness::{self, App, Browser, SESSION_COOKIE, api, location, set_cookies, signed_in};

/// Whether `token` opens a protected route, as a bearer token and as the session cookie.
/// Both ways must agree.
async fn accepted(app: &App, client: &Client, token: &str) -> bool {
    let bearer = client
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status();
    let cookie = get_with_cookie(client, &app.url("/"), &format!("{SESSION_COOKIE}={token}"))
        .await
        .status();
    match (bearer, cookie) {
        (StatusCode::OK, StatusCode::OK) => true,
        (StatusCode::UNAUTHORIZED, StatusCode::SEE_OTHER) => false,
        other => panic!("bearer and cookie disagree: {other:?}"),
    }
}

fn assert_all_rejected(results: Vec<(String, bool)>) {
    let let_through: Vec<&String> = results
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(w, _)| w)
        .collect();
    assert!(let_through.is_empty(), "accepted: {let_through:?}");
}

/// An app whose clock stands still at `T0`, so time limits can be tested to the second.
async fn frozen_app(
    configure: impl FnOnce(tower_workos_sso::SsoConfigBuilder) -> tower_workos_sso::SsoConfigBuilder,
) -> (App, u64) {
    let t0 = forge::unix_now();
    let app =
        harness::start(move |b| configure(b.clock(move || UNIX_EPOCH + Duration::from_secs(t0))))
            .await;
    (app, t0)
}

#[tokio::test]
async fn t1_alg_none_algorithm_confusion_and_unknown_or_missing_kids_are_rejected() {
    let app = harness::start(|b| b).await;
    let client = api();
    let claims = session_claims(&app, forge::unix_now());
    let (key, kid) = session_key();
    let (flow_key, flow_kid) = forge::flow_key();
    assert!(
        accepted(&app, &client, &session_token(&claims)).await,
        "control"
    );

    let with_alg = |alg: &str| json!({ "typ": "JWT", "alg": alg, "kid": kid });
    let hs256 = |header: Value| jwt(&header, &claims, Sign::Hmac(hmac::HMAC_SHA256, &key));
    let mut forged = vec![
        (
            "alg none".to_owned(),
            jwt(&with_alg("none"), &claims, Sign::Empty),
        ),
        (
            "alg None".to_owned(),
            jwt(&with_alg("None"), &claims, Sign::Empty),
        ),
        (
            "alg NONE".to_owned(),
            jwt(&with_alg("NONE"), &claims, Sign::Empty),
        ),
        (
            "alg none, HS256 signature kept".to_owned(),
            hs256(with_alg("none")),
        ),
        (
            "alg missing".to_owned(),
            hs256(json!({ "typ": "JWT", "kid": kid })),
        ),
        ("alg hs256 lowercase".to_owned(), hs256(with_alg("hs256"))),
        (
            "HS384 with the right key".to_owned(),
            jwt(
                &with_alg("HS384"),
                &claims,
                Sign::Hmac(hmac::HMAC_SHA384, &key),
            ),
        ),
        (
            "HS512 with the right key".to_owned(),
            jwt(
                &with_alg("HS512"),
                &claims,
                Sign::Hmac(hmac::HMAC_SHA512, &key),
            ),
        ),
        (
            "RS256 label on an HMAC signature".to_owned(),
            hs256(with_alg("RS256")),
        ),
        (
            "ES256 label on an HMAC signature".to_owned(),
            hs256(with_alg("ES256")),
        ),
        (
            "PS256 label on an HMAC signature".to_owned(),
            hs256(with_alg("PS256")),
        ),
        (
            "EdDSA label on an HMAC signature".to_owned(),
            hs256(with_alg("EdDSA")),
        ),
        (
            "RS256 with the attacker's key".to_owned(),
            jwt(&with_alg("RS256"), &claims, Sign::Rs256),
        ),
        (
            "ES256 with the attacker's key".to_owned(),
            jwt(&with_alg("ES256"), &claims, Sign::Es256),
        ),
        (
            "kid missing".to_owned(),
            hs256(json!({ "typ": "JWT", "alg": "HS256" })),
        ),
        (
            "kid null".to_owned(),
            hs256(json!({ "typ": "JWT", "alg": "HS256", "kid": null })),
        ),
        ("kid empty".to_owned(), hs256(hs256_header(""))),
        ("kid unknown".to_owned(), hs256(hs256_header("AAAAAAAAAAA"))),
        (
            "kid one character off".to_owned(),
            hs256(hs256_header(&format!("{}x", &kid[..10]))),
        ),
        (
            "kid with a prefix of the real one".to_owned(),
            hs256(hs256_header(&kid[..5])),
        ),
        (
            "kid path traversal".to_owned(),
            hs256(hs256_header("../../../dev/null")),
        ),
        (
            "kid a number".to_owned(),
            hs256(json!({ "typ": "JWT", "alg": "HS256", "kid": 1 })),
        ),
        (
            "kid of the flow key".to_owned(),
            hs256(hs256_header(&flow_kid)),
        ),
        (
            "signed with the flow key under its kid".to_owned(),
            jwt(
                &hs256_header(&flow_kid),
                &claims,
                Sign::Hmac(hmac::HMAC_SHA256, &flow_key),
            ),
        ),
        (
            "signed with the flow key under the session kid".to_owned(),
            jwt(
                &hs256_header(&kid),
                &claims,
                Sign::Hmac(hmac::HMAC_SHA256, &flow_key),
            ),
        ),
    ];
    // An embedded key (jwk) or key URL (jku) of the attacker's, signed with that key.
    let attacker = b"attacker-chosen-hmac-key-32-bytes!!";
    for header in [
        json!({ "typ": "JWT", "alg": "HS256", "kid": kid,
                "jwk": { "kty": "oct", "k": forge::b64(attacker) } }),
        json!({ "typ": "JWT", "alg": "HS256", "kid": kid, "jku": "https://evil.test/jwks" }),
        json!({ "typ": "JWT", "alg": "HS256", "kid": forge::kid_of(attacker) }),
    ] {
        forged.push((
            format!("attacker key, header {header}"),
            jwt(&header, &claims, Sign::Hmac(hmac::HMAC_SHA256, attacker)),
        ));
    }
    let mut results = Vec::new();
    for (what, token) in forged {
        results.push((what, accepted(&app, &client, &token).await));
    }
    assert_all_rejected(results);
}

#[tokio::test]
async fn t2_any_one_character_changed_in_a_session_token_is_rejected() {
    let app = harness::start(|b| b).await;
    let (_, token) = signed_in(&app).await;
    let client = api();
    let mut results = Vec::new();
    for i in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = match bytes[i] {
            b'A' => b'B',
            b'.' => b'A',
            _ => b'A',
        };
        let changed = String::from_utf8(bytes).unwrap();
        let status = client
            .get(app.url("/api/me"))
            .bearer_auth(&changed)
            .send()
            .await
            .unwrap()
            .status();
        results.push((format!("character {i}"), status != StatusCode::UNAUTHORIZED));
    }
    // The payload edited and re-encoded, the signature kept.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = forge::payload(&token);
    claims["profile"]["email"] = json!("mallory@example.com");
    let edited = format!(
        "{}.{}.{}",
        parts[0],
        forge::b64(claims.to_string().as_bytes()),
        parts[2]
    );
    results.push((
        "payload edited".to_owned(),
        accepted(&app, &client, &edited).await,
    ));
    assert_all_rejected(results);
    assert!(accepted(&app, &client, &token).await, "control");
}

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
async fn t4_every_claim_changed_or_removed_is_rejected_even_when_re_signed_with_the_right_key() {
    let (app, t0) = frozen_app(|b| b).await;
    let client = api();
    let valid = session_claims(&app, t0);
    assert!(
        accepted(&app, &client, &session_token(&valid)).await,
        "control"
    );

    let profile_without = |field: &str| {
        let mut p = alice_profile();
        p.as_object_mut().unwrap().remove(field);
        p
    };
    let mut bob = alice_profile();
    bob["id"] = json!("prof_01BOB");
    let changes: Vec<(&str, Option<Value>)> = vec![
        ("iss", Some(json!("evil-issuer"))),
        ("iss", Some(json!(""))),
        ("iss", Some(json!(["tower-workos-sso"]))),
        ("iss", Some(json!(1))),
        ("iss", None),
        ("aud", Some(json!("client_01OTHERAPP"))),
        ("aud", Some(json!(""))),
        ("aud", Some(json!(null))),
        ("aud", None),
        ("sub", Some(json!("prof_01BOB"))),
        ("sub", Some(json!(""))),
        ("sub", None),
        ("sid", Some(json!(""))),
        ("sid", Some(json!(42))),
        ("sid", None),
        ("typ", Some(json!("flow"))),
        ("typ", Some(json!("Session"))),
        ("typ", Some(json!(""))),
        ("typ", None),
        ("iat", Some(json!(t0 + 3600))),
        ("iat", Some(json!("now"))),
        ("iat", Some(json!(-1))),
        ("iat", None),
        ("exp", Some(json!(t0 - 3600))),
        ("exp", Some(json!(null))),
        ("exp", None),
        ("auth_time", Some(json!(t0 - 9 * 3600))),
        ("auth_time", Some(json!(t0 + 10))),
        ("auth_time", None),
        ("profile", Some(json!(null))),
        ("profile", Some(json!({}))),
        ("profile", Some(json!("prof_01ALICE"))),
        ("profile", Some(profile_without("id"))),
        ("profile", Some(profile_without("email"))),
        ("profile", Some(bob)),
        ("profile", None),
    ];
    let mut results = Vec::new();
    for (claim, value) in changes {
        let mut claims = valid.clone();
        let what = match value {
            Some(value) => {
                let what = format!("{claim} = {value}");
                claims[claim] = value;
                what
            }
            None => {
                claims.as_object_mut().unwrap().remove(claim);
                format!("{claim} removed")
            }
        };
        results.push((what, accepted(&app, &client, &session_token(&claims)).await));
    }
    // The valid claims under the right kid with a wrong key; and a flow token.
    let wrong = forge::derived_key(b"not-the-secret-of-this-app-at-all!!!", "session");
    let (_, kid) = session_key();
    results.push((
        "valid claims, wrong key".to_owned(),
        accepted(
            &app,
            &client,
            &jwt(
                &hs256_header(&kid),
                &valid,
                Sign::Hmac(hmac::HMAC_SHA256, &wrong),
            ),
        )
        .await,
    ));
    let browser = Browser::new();
    let login = start_alice(&app, &browser).await;
    results.push((
        "a real flow cookie as the session".to_owned(),
        accepted(&app, &client, &login.flow_cookie.1).await,
    ));
    assert_all_rejected(results);
}

#[tokio::test]
async fn t4_a_session_of_another_app_or_issuer_is_rejected() {
    // Same secret, different client id (audience) or issuer: still refused.
    let other = harness::start(|b| b.audience("another-app")).await;
    let (_, token) = signed_in(&other).await;
    let app = harness::start(|b| b).await;
    assert!(!accepted(&app, &api(), &token).await);
    let other = harness::start(|b| b.issuer("another-issuer")).await;
    let (_, token) = signed_in(&other).await;
    assert!(!accepted(&app, &api(), &token).await);
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
async fn t6_oversize_duplicate_and_garbage_session_cookies_are_rejected_cleanly() {
    let app = harness::start(|b| b).await;
    let client = api();
    let (_, good) = signed_in(&app).await;
    // A validly signed token that is too long is refused before any parsing.
    let mut big = session_claims(&app, forge::unix_now());
    big["profile"]["custom_attributes"] = json!({ "pad": "p".repeat(3500) });
    let oversize = session_token(&big);
    assert!(oversize.len() > 4096);
    // Deep nesting in a validly signed payload.
    let nested = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    let deep = format!(
        "{}.{}.",
        forge::b64(hs256_header(&session_key().1).to_string().as_bytes()),
        forge::b64(nested.as_bytes())
    );
    let deep = {
        let input = deep.trim_end_matches('.');
        let signature = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &session_key().0),
            input.as_bytes(),
        );
        format!("{input}.{}", forge::b64(signature.as_ref()))
    };
    let name = SESSION_COOKIE;
    let mut cookies: Vec<(String, String)> = vec![
        ("oversize".into(), format!("{name}={oversize}")),
        (
            "64 KiB of junk".into(),
            format!("{name}={}", "x".repeat(64 * 1024)),
        ),
        ("deeply nested payload".into(), format!("{name}={deep}")),
        (
            "two copies of a valid session".into(),
            format!("{name}={good}; {name}={good}"),
        ),
        (
            "valid then junk".into(),
            format!("{name}={good}; {name}=junk"),
        ),
        (
            "junk then valid".into(),
            format!("{name}=junk; {name}={good}"),
        ),
        (
            "quoted junk then valid".into(),
            format!("{name}=\"junk\"; {name}={good}"),
        ),
    ];
    for junk in [
        "",
        "!!!!",
        "%%%",
        "a.b.c",
        "..",
        "....",
        "e30.e30.",
        "e30.e30.e30",
        "eyJ.eyJ.",
        "bnVsbA.bnVsbA.bnVsbA",
        "\u{00e9}t\u{00e9}",
        "=====",
        "Bearer x",
    ] {
        cookies.push((format!("garbage {junk:?}"), format!("{name}={junk}")));
    }
    // The session cookie past the 200 pairs that are read.
    let filler: Vec<String> = (0..250).map(|i| format!("c{i}=v")).collect();
    cookies.push((
        "valid after 250 other cookies".into(),
        format!("{}; {name}={good}", filler.join("; ")),
    ));

    for (what, cookie) in &cookies {
        let started = std::time::Instant::now();
        let response = get_with_cookie(&client, &app.url("/"), cookie).await;
        assert!(
            matches!(
                response.status(),
                StatusCode::SEE_OTHER | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            ),
            "{what}: {}",
            response.status()
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{what}: slow");
        let public = get_with_cookie(&client, &app.url("/public"), cookie).await;
        if public.status() == StatusCode::OK {
            assert_eq!(public.text().await.unwrap(), "public, anonymous", "{what}");
        }
    }
    // Two session cookies in two Cookie headers.
    let response = client
        .get(app.url("/api/me"))
        .header("cookie", format!("{name}={good}"))
        .header("cookie", format!("{name}={good}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    for bearer in [
        "Bearer",
        "Bearer ",
        "Bearer a b c",
        &format!("Bearer {}", "y".repeat(10_000)),
        "Basic YTpi",
    ] {
        let response = client
            .get(app.url("/api/me"))
            .header("authorization", bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bearer:.20}");
    }
    assert!(
        accepted(&app, &client, &good).await,
        "still serving the real session"
    );
}

/// An app with a careless outer middleware that turns a request header into a `Profile`, as
/// an app reading identity headers might: the layer must discard it.
async fn app_with_header_identity() -> (
    String,
    tokio::task::JoinHandle<()>,
    tower_workos_sso::testkit::MockWorkOs,
) {
    use axum::routing::get;
    use tower_workos_sso::{Profile, SsoConfig, SsoLayer};
    let workos = tower_workos_sso::testkit::MockWorkOs::start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = SsoConfig::builder()
        .api_key(workos.api_key())
        .client_id(workos.client_id())
        .api_base_url(workos.base_url())
        .redirect_uri(format!("{base}/auth/callback"))
        .session_secret(harness::SECRET.to_vec())
        .public_paths(["/public"])
        .build()
        .unwrap();
    let who = |p: Option<Profile>| async move { p.map_or("nobody".to_owned(), |p| p.email) };
    let app = axum::Router::new()
        .route("/public", get(who))
        .route("/private", get(who))
        .layer(SsoLayer::new(config))
        .layer(axum::middleware::map_request(
            |mut request: axum::extract::Request| async move {
                let claimed = request
                    .headers()
                    .get("x-workos-profile")
                    .and_then(|v| v.to_str().ok());
                if let Some(profile) = claimed.and_then(|v| serde_json::from_str::<Profile>(v).ok())
                {
                    request.extensions_mut().insert(profile);
                }
                request
            },
        ));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, server, workos)
}

#[tokio::test]
async fn t7_identity_sent_in_request_headers_is_never_trusted() {
    let app = harness::start(|b| b).await;
    let client = api();
    let profile = json!({ "id": "prof_01BOB", "email": "bob@example.com" }).to_string();
    let headers = [
        ("x-user-email", "bob@example.com"),
        ("x-workos-profile", profile.as_str()),
        ("x-forwarded-user", "bob@example.com"),
        ("x-forwarded-email", "bob@example.com"),
        ("x-auth-request-email", "bob@example.com"),
        ("x-remote-user", "bob"),
        ("remote-user", "bob"),
        ("x-ms-client-principal-name", "bob@example.com"),
        (
            "x-goog-authenticated-user-email",
            "accounts.google.com:bob@example.com",
        ),
        ("cf-access-authenticated-user-email", "bob@example.com"),
        ("x-amzn-oidc-identity", "bob"),
        ("profile", profile.as_str()),
        ("session", "prof_01BOB"),
    ];
    let send = |path: &str, token: Option<&str>| {
        let mut request = client
            .get(app.url(path))
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(token) = token {
            request = request.header("cookie", format!("{SESSION_COOKIE}={token}"));
        }
        request.send()
    };
    let anonymous = send("/public", None).await.unwrap();
    assert_eq!(anonymous.text().await.unwrap(), "public, anonymous");
    assert_eq!(
        send("/api/me", None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, alice) = signed_in(&app).await;
    let me: Value = send("/api/me", Some(&alice))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "alice@example.com");

    // Even a Profile some outer middleware built from a header is discarded by the layer.
    let (base, server, _workos) = app_with_header_identity().await;
    for path in ["/public", "/private"] {
        let response = client
            .get(format!("{base}{path}"))
            .header("x-workos-profile", &profile)
            .send()
            .await
            .unwrap();
        if path == "/public" {
            assert_eq!(response.text().await.unwrap(), "nobody");
        } else {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
    }
    server.abort();
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

fn assert_cookie_flags(line: &str, secure: bool) {
    let (pair, attributes) = line.split_once(';').unwrap();
    let attributes: Vec<&str> = attributes.split(';').map(str::trim).collect();
    for required in ["Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(&required), "{line} lacks {required}");
    }
    assert!(
        !attributes
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("domain")),
        "{line}"
    );
    assert_eq!(attributes.contains(&"Secure"), secure, "{line}");
    assert_eq!(pair.starts_with("__Host-"), secure, "{line}");
}

#[tokio::test]
async fn t10_cookies_carry_host_prefix_secure_httponly_lax_and_path_root() {
    let app = harness::start(|b| b.redirect_uri("https://app.example.test/auth/callback")).await;
    let client = api();
    let html = |url: String| client.get(url).header("accept", "text/html");
    let mut lines: Vec<String> = Vec::new();

    let login = html(app.url("/auth/login?login_hint=alice%40example.com"))
        .send()
        .await
        .unwrap();
    lines.extend(set_cookies(&login));
    let flow =
        forge::set_cookie_pair(&login, "__Host-sso_session_flow_").expect("prefixed flow cookie");
    let back = client.get(location(&login)).send().await.unwrap();
    let callback = location(&back);
    assert!(
        callback.starts_with("https://app.example.test/auth/callback?"),
        "{callback}"
    );
    let local = app.url(callback.trim_start_matches("https://app.example.test"));
    let done = get_with_cookie(&client, &local, &format!("{}={}", flow.0, flow.1)).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    lines.extend(set_cookies(&done));
    let session = forge::set_cookie_pair(&done, "__Host-sso_session").expect("prefixed session");
    assert_eq!(session.0, "__Host-sso_session");
    let cookie = format!("{}={}", session.0, session.1);
    let home = get_with_cookie(&client, &app.url("/"), &cookie).await;
    assert_eq!(home.text().await.unwrap(), "home of alice@example.com");
    // The unprefixed name is not the session cookie here.
    let plain = get_with_cookie(
        &client,
        &app.url("/"),
        &format!("sso_session={}", session.1),
    )
    .await;
    assert_eq!(plain.status(), StatusCode::SEE_OTHER);
    // A renewed session, a failed callback and a logout write the same flags.
    app.advance(Duration::from_secs(16 * 60));
    let renewed = get_with_cookie(&client, &app.url("/"), &cookie).await;
    assert_eq!(set_cookies(&renewed).len(), 1, "renewed");
    lines.extend(set_cookies(&renewed));
    let failed = get_with_cookie(&client, &local, &format!("{}={}", flow.0, flow.1)).await;
    lines.extend(set_cookies(&failed));
    let out = client
        .post(app.url("/auth/logout"))
        .header("origin", "https://app.example.test")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    lines.extend(set_cookies(&out));
    assert!(lines.len() >= 6, "{lines:?}");
    for line in &lines {
        assert_cookie_flags(line, true);
    }

    // Plain-HTTP localhost development: no prefix and no Secure, every other flag kept.
    let dev = harness::start(|b| b).await;
    let browser = Browser::new();
    let login = browser
        .get(&dev.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    let mut lines = set_cookies(&login);
    let back = browser.get(&location(&login)).await;
    let done = browser.get(&location(&back)).await;
    lines.extend(set_cookies(&done));
    assert!(lines.len() >= 3);
    for line in &lines {
        assert_cookie_flags(line, false);
    }
    // ...and only there: plain http anywhere else is refused at start-up.
    let error = tower_workos_sso::SsoConfig::builder()
        .api_key("sk_test_x")
        .client_id("client_x")
        .redirect_uri("http://app.example.test/auth/callback")
        .session_secret(harness::SECRET.to_vec())
        .build()
        .unwrap_err();
    assert_eq!(error.env_var(), Some("WORKOS_REDIRECT_URI"));
}

#[tokio::test]
async fn t11_every_response_carrying_a_session_or_flow_is_no_store_and_callbacks_send_no_referrer()
{
    let app = harness::start(|b| {
        b.session_store(MemoryStore::new())
            .allowed_connections(["conn_01GLOBEXENTRA"])
    })
    .await;
    let client = api();
    let browser = Browser::new();
    let mut with_cookies = 0;
    let mut check = |response: &reqwest::Response, what: &str| {
        assert_no_store_if_cookie(response, what);
        with_cookies += usize::from(!set_cookies(response).is_empty());
    };

    // Login, callback success and the page after it.
    let login = browser
        .get(&app.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    check(&login, "login");
    let back = browser.get(&location(&login)).await;
    let callback = location(&back);
    let done = browser.get(&callback).await;
    check(&done, "callback");
    assert_eq!(done.headers()["referrer-policy"], "no-referrer");
    // Every callback answer, successful or not, sends no Referer onwards.
    for query in [
        "code=x".to_owned(),
        "code=x&state=y".to_owned(),
        "error=access_denied".to_owned(),
        "error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA".to_owned(),
        "error=idp_initiated_sso_disabled&connection_id=bad".to_owned(),
        String::new(),
        callback.split_once('?').unwrap().1.to_owned(),
    ] {
        let response = browser
            .get(&app.url(&format!("/auth/callback?{query}")))
            .await;
        check(&response, &query);
        assert_eq!(
            response.headers()["referrer-policy"],
            "no-referrer",
            "{query}"
        );
        assert_eq!(response.headers()["cache-control"], "no-store", "{query}");
    }
    // Other methods on the callback URL (which carries the code) are refused the same way.
    for method in ["HEAD", "POST", "PUT"] {
        let response = client
            .request(method.parse().unwrap(), &callback)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(
            response.headers()["referrer-policy"],
            "no-referrer",
            "{method}"
        );
        assert_eq!(response.headers()["cache-control"], "no-store", "{method}");
    }
    // An expired flow (its cookie is cleared).
    let expiring = start_alice(&app, &Browser::new()).await;
    app.advance(Duration::from_secs(11 * 60));
    let expired = get_with_cookie(
        &client,
        &expiring.callback,
        &format!("{}={}", expiring.flow_cookie.0, expiring.flow_cookie.1),
    )
    .await;
    check(&expired, "expired flow");
    // A renewal.
    app.advance(Duration::from_secs(5 * 60));
    let renewed = browser.get(&app.url("/")).await;
    assert_eq!(set_cookies(&renewed).len(), 1, "renewed after 16 minutes");
    check(&renewed, "renewal");
    // Logout, then the revoked cookie cleared on a public path.
    let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    let out = browser
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .unwrap();
    check(&out, "logout");
    let public = get_with_cookie(
        &client,
        &app.url("/public"),
        &format!("{SESSION_COOKIE}={token}"),
    )
    .await;
    check(&public, "revoked");
    // The login redirect of a protected page.
    let protected = Browser::new().get(&app.url("/api/me")).await;
    assert_eq!(protected.headers()["cache-control"], "no-store");
    assert!(
        with_cookies >= 7,
        "only {with_cookies} responses carried cookies"
    );
}
