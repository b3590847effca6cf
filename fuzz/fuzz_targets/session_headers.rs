//! Arbitrary `Cookie` and `Authorization` header bytes (split at the first newline) through
//! `Sessions::presented` + `Sessions::verify`: a token is accepted only if an independent
//! verifier accepts it too, a refused one is refused by it too, and the answer matches an
//! independent reading of the headers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower_workos_sso::fuzz_bridge::{NOW, SessionCheck, session_from_headers, verify_session};
use tower_workos_sso::{Profile, SessionSource};
use tower_workos_sso_fuzz::{SESSION_COOKIE, cookie_values, reference_verify, split_newline};

fuzz_target!(|data: &[u8]| {
    let (cookie, authorization) = split_newline(data);
    let bearer = bearer(authorization);
    let cookie_text = String::from_utf8_lossy(cookie);
    let named = cookie_text.matches(SESSION_COOKIE).count();
    // The session cookie pairs of the header as a server reads them (none if it cannot be sent).
    let pairs = cookie_values(cookie, SESSION_COOKIE);
    match session_from_headers(cookie, authorization) {
        SessionCheck::Absent => {
            assert!(bearer.is_none(), "a bearer token was overlooked");
            assert!(pairs.is_empty(), "a session cookie was overlooked");
        }
        SessionCheck::Ambiguous => {
            assert!(bearer.is_none(), "a bearer token lost to the cookies");
            assert!(named >= 2, "ambiguous with {named} session cookies");
            assert!(pairs.len() >= 2, "ambiguous with {} pairs", pairs.len());
        }
        SessionCheck::Refused { source, token } => {
            assert_presented(source, &token, bearer, &cookie_text, named, &pairs);
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
            assert_presented(source, &token, bearer, &cookie_text, named, &pairs);
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

fn assert_presented(
    source: SessionSource,
    token: &str,
    bearer: Option<&str>,
    cookie: &str,
    named: usize,
    pairs: &[&str],
) {
    match source {
        SessionSource::Bearer => assert_eq!(Some(token), bearer, "not the bearer token"),
        SessionSource::Cookie => {
            assert!(bearer.is_none(), "a bearer token lost to the cookie");
            assert_eq!(pairs, [token], "not the one session cookie's value");
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
