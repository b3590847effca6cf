//! SECURITY.md T1, T2, T4: forged session tokens. Tokens are forged with the crate's own
//! derived keys (see `forge`), so each mutation isolates one check: a token that only differs
//! from an accepted one in the mutated part. Algorithms, key ids and foreign keys (T1), one
//! character changed (T2), every claim changed or removed, and sessions of another app (T4).

use aws_lc_rs::hmac;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::forge::{
    self, Sign, accepted, alice_token_profile, frozen_app, hs256_header, jwt, session_claims,
    session_key, session_token, start_alice,
};
use crate::support::harness::{self, Browser, api, signed_in};

fn assert_all_rejected(results: Vec<(String, bool)>) {
    let let_through: Vec<&String> = results
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(w, _)| w)
        .collect();
    assert!(let_through.is_empty(), "accepted: {let_through:?}");
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
    claims["p"]["em"] = json!("mallory@example.com");
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
async fn t4_every_claim_changed_or_removed_is_rejected_even_when_re_signed_with_the_right_key() {
    let (app, t0) = frozen_app(|b| b).await;
    let client = api();
    let valid = session_claims(&app, t0);
    assert!(
        accepted(&app, &client, &session_token(&valid)).await,
        "control"
    );

    let profile_without = |field: &str| {
        let mut p = alice_token_profile();
        p.as_object_mut().unwrap().remove(field);
        p
    };
    let mut ill_typed = alice_token_profile();
    ill_typed["grp"] = json!("Engineering");
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
        // (`sub` is the profile's id, carried once: another one is another profile.)
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
        ("p", Some(json!(null))),
        ("p", Some(json!({}))),
        ("p", Some(json!("prof_01ALICE"))),
        ("p", Some(profile_without("em"))),
        ("p", Some(ill_typed)),
        ("p", None),
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
