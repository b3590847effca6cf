//! Structured session tokens: the first byte picks what the rest of the input becomes.
//!
//! 0. the claims JSON of a token signed with the current key: accepted if and only if an
//!    independent verifier accepts it (when the claims are well-typed);
//! 1. the header JSON of a token with valid claims and a valid signature over that header;
//! 2. claims signed with the current, retired, flow or an unknown key;
//! 3. edits to a valid token: only the untouched token is accepted;
//! 4. times: `iat`, `exp`, `auth_time` and the verifying clock around the fixed time, checked
//!    exactly against the session's idle, absolute and leeway rules.
//!
//! Whatever is accepted must be accepted by the independent verifier, with the same claims.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower_workos_sso::fuzz_bridge::{NOW, mint_session, verify_session};
use tower_workos_sso_fuzz::{
    SigningKey, kid, reference_verify, sample_profile, session_claims, session_header,
    sign_session_parts,
};

static VALID_CLAIMS: LazyLock<Vec<u8>> = LazyLock::new(|| session_claims(&sample_profile()));
static VALID_TOKEN: LazyLock<String> =
    LazyLock::new(|| mint_session(&VALID_CLAIMS).expect("the sample claims are valid"));

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => {
            let token = sign_session_parts(
                &session_header(&kid(SigningKey::Current)),
                body,
                SigningKey::Current,
            );
            let accepted = check(&token, NOW);
            // Well-typed claims the reference accepts must pass the crate too.
            if reference_verify(&token, NOW).is_some() && mint_session(body).is_some() {
                assert!(accepted, "valid claims refused");
            }
        }
        1 => {
            let token = sign_session_parts(body, &VALID_CLAIMS, SigningKey::Current);
            check(&token, NOW);
        }
        2 => {
            let Some((&which, claims)) = body.split_first() else {
                return;
            };
            let key = [
                SigningKey::Current,
                SigningKey::Previous,
                SigningKey::Flow,
                SigningKey::Unknown,
            ][usize::from(which % 4)];
            let token = sign_session_parts(&session_header(&kid(key)), claims, key);
            if check(&token, NOW) {
                assert!(
                    matches!(key, SigningKey::Current | SigningKey::Previous),
                    "accepted a token signed with the {key:?} key"
                );
            }
        }
        3 => {
            let original = VALID_TOKEN.as_bytes();
            let mut token = original.to_vec();
            for edit in body.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % (token.len() + 1);
                let byte = edit[2];
                let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    [usize::from(byte & 63)];
                match byte >> 6 {
                    0 if at < token.len() => token[at] = alphabet,
                    1 => token.insert(at, alphabet),
                    2 if at < token.len() => {
                        token.remove(at);
                    }
                    3 => token.insert(at, b".=+/ \"%"[usize::from(byte % 7)]),
                    _ => {}
                }
            }
            let token = String::from_utf8(token).expect("ASCII edits");
            if check(&token, NOW) {
                assert_eq!(
                    token.as_str(),
                    VALID_TOKEN.as_str(),
                    "an edited token passed"
                );
            }
        }
        _ => {
            let number = |i: usize| {
                let bytes: [u8; 4] = body.get(4 * i..4 * i + 4)?.try_into().ok()?;
                NOW.checked_add_signed(i64::from(i32::from_le_bytes(bytes)))
            };
            let (Some(iat), Some(exp), Some(auth_time), Some(now)) =
                (number(0), number(1), number(2), number(3))
            else {
                return;
            };
            let mut claims: Value = serde_json::from_slice(&VALID_CLAIMS).unwrap();
            claims["iat"] = iat.into();
            claims["exp"] = exp.into();
            claims["auth_time"] = auth_time.into();
            let claims = serde_json::to_vec(&claims).unwrap();
            let token = mint_session(&claims).expect("well-typed claims");
            let accepted = check(&token, now);
            assert_eq!(
                accepted,
                reference_verify(&token, now).is_some(),
                "time rules disagree: iat {iat} exp {exp} auth_time {auth_time} now {now}"
            );
        }
    }
});

/// Verifies `token` at `now`; if the crate accepts it, so must the reference, with the same
/// claims. Returns whether the crate accepted it.
fn check(token: &str, now: u64) -> bool {
    let Some(claims) = verify_session(token, now) else {
        return false;
    };
    let reference =
        reference_verify(token, now).expect("the crate accepted a token the reference refuses");
    for claim in ["iss", "aud", "sub", "sid", "typ", "iat", "exp", "auth_time"] {
        assert_eq!(claims[claim], reference[claim], "claim {claim} differs");
    }
    true
}
