//! Unit tests of issuing, verifying and renewing sessions.

use super::*;
use http::header;

fn config() -> SsoConfig {
    SsoConfig::builder()
        .api_key("sk_test")
        .client_id("client_1")
        .redirect_uri("https://app.test/auth/callback")
        .session_secret(vec![1u8; 32])
        .previous_session_secret(vec![2u8; 32])
        .build()
        .unwrap()
}

fn profile() -> Profile {
    serde_json::from_value(serde_json::json!({
        "id": "prof_1", "email": "alice@example.com", "connection_id": "conn_1",
        "connection_type": "OktaSAML"
    }))
    .unwrap()
}

const T0: u64 = 1_800_000_000;

#[test]
fn issue_then_verify() {
    let sessions = Sessions::new(&config());
    let (token, claims) = sessions.issue(&profile(), T0).unwrap();
    let verified = sessions.verify(token.expose(), T0 + 60).unwrap();
    assert_eq!(verified.claims.sid, claims.sid);
    assert!(verified.current_key);
    assert!(
        sessions
            .renew(&verified.claims, verified.current_key, T0 + 60)
            .is_none()
    );
}

#[test]
fn each_sign_in_gets_a_new_sid() {
    let sessions = Sessions::new(&config());
    let (_, a) = sessions.issue(&profile(), T0).unwrap();
    let (_, b) = sessions.issue(&profile(), T0).unwrap();
    assert_ne!(a.sid, b.sid);
}

#[test]
fn time_limits_hold_at_their_edges() {
    let sessions = Sessions::new(&config());
    let (token, _) = sessions.issue(&profile(), T0).unwrap();
    let t = token.expose();
    let idle_end = T0 + 30 * 60 + 30;
    assert!(sessions.verify(t, idle_end).is_ok());
    assert_eq!(
        sessions.verify(t, idle_end + 1).err(),
        Some(TokenError::Expired)
    );
    assert!(sessions.verify(t, T0 - 30).is_ok());
    assert_eq!(
        sessions.verify(t, T0 - 31).err(),
        Some(TokenError::NotYetValid)
    );
}

#[test]
fn sliding_window_renews_but_never_past_the_absolute_lifetime() {
    let sessions = Sessions::new(&config());
    let (token, _) = sessions.issue(&profile(), T0).unwrap();
    let mut token = token;
    let mut now = T0;
    for _ in 0..40 {
        now += 20 * 60;
        match sessions.verify(token.expose(), now) {
            Ok(verified) => {
                if let Some((renewed, _)) =
                    sessions.renew(&verified.claims, verified.current_key, now)
                {
                    token = renewed;
                }
            }
            Err(error) => {
                assert_eq!(error, TokenError::Expired);
                assert!(now > T0 + 8 * 3600, "ended early at {}", now - T0);
                return;
            }
        }
    }
    panic!("session outlived its absolute lifetime");
}

#[test]
fn tokens_of_a_retired_key_verify_and_are_renewed_with_the_current_one() {
    let old = SsoConfig::builder()
        .api_key("sk_test")
        .client_id("client_1")
        .redirect_uri("https://app.test/auth/callback")
        .session_secret(vec![2u8; 32])
        .build()
        .unwrap();
    let (token, _) = Sessions::new(&old).issue(&profile(), T0).unwrap();
    let sessions = Sessions::new(&config());
    let verified = sessions.verify(token.expose(), T0).unwrap();
    assert!(!verified.current_key);
    let (renewed, _) = sessions
        .renew(&verified.claims, verified.current_key, T0)
        .unwrap();
    assert!(sessions.verify(renewed.expose(), T0).unwrap().current_key);
}

#[test]
fn flow_tokens_never_pass_as_sessions() {
    let config = config();
    let flow_ring = KeyRing::new(
        &config.session_secrets,
        "flow",
        &config.issuer,
        &config.audience,
    );
    let sessions = Sessions::new(&config);
    let (_, claims) = sessions.issue(&profile(), T0).unwrap();
    let forged = flow_ring.sign(&claims);
    assert_eq!(
        sessions.verify(forged.expose(), T0).err(),
        Some(TokenError::UnknownKey)
    );
}

#[test]
fn tokens_for_an_existing_session_keep_its_id_and_absolute_end() {
    let sessions = Sessions::new(&config());
    let (_, claims) = sessions.issue(&profile(), T0).unwrap();
    let session = metadata(&claims, SessionSource::Cookie);
    let late = T0 + 8 * 3600 - 60;
    let token = sessions.issue_for(&profile(), &session, late).unwrap();
    let verified = sessions.verify(token.expose(), late).unwrap();
    assert_eq!(verified.claims.sid, claims.sid);
    assert_eq!(verified.claims.exp, T0 + 8 * 3600);
    assert!(
        sessions
            .issue_for(&profile(), &session, T0 + 8 * 3600)
            .is_none()
    );
}

#[test]
fn minted_tokens_are_bearer_only_and_never_renewed() {
    let sessions = Sessions::new(&config());
    let (cookie, claims) = sessions.issue(&profile(), T0).unwrap();
    let session = metadata(&claims, SessionSource::Cookie);
    let minted = [
        sessions.issue_bearer(&profile(), T0).unwrap(),
        sessions.issue_for(&profile(), &session, T0).unwrap(),
    ];
    let later = T0 + 20 * 60;
    for token in &minted {
        let verified = sessions
            .verify_as(token.expose(), SessionSource::Bearer, later)
            .unwrap();
        assert_eq!(verified.claims.typ, BEARER_TYP);
        assert!(
            sessions
                .renew(&verified.claims, verified.current_key, later)
                .is_none(),
            "never renewed"
        );
        assert_eq!(
            sessions
                .verify_as(token.expose(), SessionSource::Cookie, later)
                .err(),
            Some(TokenError::Invalid),
            "never a cookie"
        );
    }
    // The browser's session works both ways, and is renewed.
    for source in [SessionSource::Cookie, SessionSource::Bearer] {
        let verified = sessions.verify_as(cookie.expose(), source, later).unwrap();
        assert!(
            sessions
                .renew(&verified.claims, verified.current_key, later)
                .is_some()
        );
    }
    // Even one signed with a retired key is not re-issued.
    let old = Sessions::new(
        &SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![2u8; 32])
            .build()
            .unwrap(),
    );
    let retired = old.issue_bearer(&profile(), T0).unwrap();
    let verified = sessions
        .verify_as(retired.expose(), SessionSource::Bearer, T0)
        .unwrap();
    assert!(!verified.current_key);
    assert!(
        sessions
            .renew(&verified.claims, verified.current_key, T0)
            .is_none()
    );
}

#[test]
fn oversize_profiles_are_trimmed() {
    let sessions = Sessions::new(&config());
    let mut big = profile();
    big.groups = (0..400).map(|i| format!("group-{i}").into()).collect();
    let (token, claims) = sessions.issue(&big, T0).unwrap();
    assert!(token.expose().len() <= MAX_ISSUED_LEN);
    assert!(claims.profile.groups.is_empty());
    assert_eq!(claims.trm, ["groups"], "only what was dropped is named");
    let session = metadata(&claims, SessionSource::Cookie);
    assert!(session.is_trimmed());
    // The record survives verification and renewal.
    let verified = sessions.verify(token.expose(), T0 + 1000).unwrap();
    assert_eq!(verified.claims.trm, ["groups"]);
    let (renewed, _) = sessions
        .renew(&verified.claims, verified.current_key, T0 + 1000)
        .unwrap();
    assert_eq!(
        sessions
            .verify(renewed.expose(), T0 + 1000)
            .unwrap()
            .claims
            .trm,
        ["groups"]
    );
}

#[test]
fn the_apps_claims_are_kept_and_what_never_fits_is_refused() {
    let sessions = Sessions::new(&config());
    let mut claims = Claims::new();
    claims.insert("tenant", "acme").unwrap();
    let mut big = profile();
    big.custom_attributes
        .insert("blob".into(), serde_json::Value::from("c".repeat(3000)));
    big.groups = vec!["Engineering".into()];
    let granted = Granted {
        claims: claims.clone(),
        trimmed: Vec::new(),
    };
    let (_, issued) = sessions.issue_granted(&big, granted, T0).unwrap();
    assert_eq!(issued.ext, claims);
    assert_eq!(issued.trm, ["custom_attributes"]);
    assert_eq!(
        issued.profile.groups,
        ["Engineering"],
        "groups kept: it fit without"
    );
    let session = metadata(&issued, SessionSource::Cookie);
    assert_eq!(
        session.claims.get::<String>("tenant").as_deref(),
        Some("acme")
    );
    // Tokens minted for the session carry its claims and its record.
    let minted = sessions
        .issue_for(&issued.profile, &session, T0 + 5)
        .unwrap();
    let minted = sessions.verify(minted.expose(), T0 + 5).unwrap().claims;
    assert_eq!(
        (minted.ext, minted.trm),
        (claims.clone(), issued.trm.clone())
    );

    let mut huge = profile();
    huge.name = Some("n".repeat(4000).into());
    assert!(sessions.issue(&huge, T0).is_none());
    let mut too_many_claims = Claims::new();
    too_many_claims.insert("big", "x".repeat(4000)).unwrap();
    let granted = Granted {
        claims: too_many_claims,
        trimmed: Vec::new(),
    };
    assert!(sessions.issue_granted(&profile(), granted, T0).is_none());
}

#[test]
fn bearer_wins_and_duplicate_cookies_are_ambiguous() {
    let sessions = Sessions::new(&config());
    let mut headers = HeaderMap::new();
    headers.insert(
        header::COOKIE,
        HeaderValue::from_static("__Host-sso_session=a; __Host-sso_session=b"),
    );
    assert!(matches!(sessions.presented(&headers), Presented::Ambiguous));
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer tok"),
    );
    assert!(matches!(
        sessions.presented(&headers),
        Presented::Bearer("tok")
    ));
    headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
    assert!(matches!(sessions.presented(&headers), Presented::Ambiguous));
}
