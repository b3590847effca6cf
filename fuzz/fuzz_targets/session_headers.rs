//! Arbitrary `Cookie` and `Authorization` header bytes (split at the first newline) through
//! `Sessions::presented` + `Sessions::verify`: a token is accepted only if an independent
//! verifier accepts it too, and the answer matches what the headers say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower_workos_sso::fuzzing::{
    NOW, SESSION_COOKIE, SessionCheck, reference_verify, session_from_headers, verify_session,
};
use tower_workos_sso::{Profile, SessionSource};
use tower_workos_sso_fuzz::split_newline;

fuzz_target!(|data: &[u8]| {
    let (cookie, authorization) = split_newline(data);
    let bearer = bearer(authorization);
    let cookie_text = String::from_utf8_lossy(cookie);
    let named = cookie_text.matches(SESSION_COOKIE).count();
    let pairs = session_pairs(cookie);
    match session_from_headers(cookie, authorization) {
        SessionCheck::Absent => {
            assert!(bearer.is_none(), "a bearer token was overlooked");
            assert!(
                pairs.is_none_or(|n| n == 0),
                "a session cookie was overlooked"
            );
        }
        SessionCheck::Ambiguous => {
            assert!(bearer.is_none(), "a bearer token lost to the cookies");
            assert!(named >= 2, "ambiguous with {named} session cookies");
            assert!(
                pairs.is_none_or(|n| n >= 2),
                "ambiguous with {pairs:?} pairs"
            );
        }
        SessionCheck::Refused { source, token } => {
            assert_presented(source, &token, bearer, &cookie_text, named, pairs);
            assert!(
                reference_verify(&token, NOW).is_none(),
                "a valid token was refused"
            );
        }
        SessionCheck::Accepted {
            source,
            token,
            claims,
            renewed,
        } => {
            assert_presented(source, &token, bearer, &cookie_text, named, pairs);
            let reference =
                reference_verify(&token, NOW).expect("accepted a token the reference refuses");
            assert_same_session(&claims, &reference);
            if let Some(renewed) = renewed {
                assert_eq!(source, SessionSource::Cookie, "a bearer token was renewed");
                let again = verify_session(&renewed, NOW).expect("the renewed token is refused");
                assert_same_session(&again, &claims);
                assert_eq!(again["auth_time"], claims["auth_time"]);
                reference_verify(&renewed, NOW).expect("the reference refuses the renewed token");
            }
        }
    }
});

/// The token of `Authorization: Bearer <token>` as RFC 6750 reads it, if the header is valid.
fn bearer(value: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(value).ok()?;
    if text.is_empty()
        || !text
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return None;
    }
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// How many `name=value` pairs of a readable `Cookie` header are named like the session
/// cookie, among the first 200 `;`-separated items (the crate's bound); `None` if the header is
/// not visible ASCII, which the crate does not read.
fn session_pairs(cookie: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(cookie).ok()?;
    if !text
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return None;
    }
    let named = |item: &&str| {
        item.split_once('=')
            .is_some_and(|(name, _)| name.trim() == SESSION_COOKIE)
    };
    Some(text.split(';').take(200).filter(named).count())
}

fn assert_presented(
    source: SessionSource,
    token: &str,
    bearer: Option<&str>,
    cookie: &str,
    named: usize,
    pairs: Option<usize>,
) {
    match source {
        SessionSource::Bearer => assert_eq!(Some(token), bearer, "not the bearer token"),
        SessionSource::Cookie => {
            assert!(bearer.is_none(), "a bearer token lost to the cookie");
            assert!(
                pairs.is_none_or(|n| n == 1),
                "{pairs:?} session cookies, one read"
            );
            assert!(
                named >= 1 && cookie.contains(token),
                "token not from the cookie"
            );
        }
        _ => unreachable!(),
    }
}

fn assert_same_session(a: &Value, b: &Value) {
    for claim in ["sid", "sub", "auth_time", "iss", "aud", "typ"] {
        assert_eq!(a[claim], b[claim], "claim {claim} differs");
    }
    let profile = |v: &Value| serde_json::from_value::<Profile>(v["profile"].clone()).unwrap();
    assert_eq!(profile(a), profile(b), "profile differs");
}
