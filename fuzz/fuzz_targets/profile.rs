//! Arbitrary JSON as a WorkOS profile: whatever parses must make a session that verifies, keeps
//! the profile (at most dropping custom attributes and groups when it is too large), renews,
//! and never carries `raw_attributes`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower_workos_sso::Profile;
use tower_workos_sso::fuzz_bridge::{NOW, ProfileCheck, profile_roundtrip};
use tower_workos_sso_fuzz::{
    MAX_ISSUED_TOKEN, decode_b64url, reference_verify, same_json, session_token_len,
};

/// The profile as a too-large one is stored: without custom attributes and groups.
fn trim(profile: &Profile) -> Profile {
    let mut trimmed = profile.clone();
    trimmed.custom_attributes.clear();
    trimmed.groups.clear();
    trimmed
}

fuzz_target!(|data: &[u8]| {
    match profile_roundtrip(data) {
        ProfileCheck::NotAProfile => {}
        ProfileCheck::TooLarge { profile } => {
            let trimmed = trim(&profile);
            let len = session_token_len(&trimmed);
            assert!(
                len > MAX_ISSUED_TOKEN,
                "refused although trimmed it makes a {len}-byte token"
            );
        }
        ProfileCheck::Issued {
            profile,
            token,
            verified,
            renewed,
        } => {
            let full = session_token_len(&profile);
            let claims = verified.expect("a freshly issued session does not verify");
            let stored: Profile = serde_json::from_value(claims["profile"].clone()).unwrap();
            let json = |p: &Profile| serde_json::to_value(p).unwrap();
            if full <= MAX_ISSUED_TOKEN {
                assert_eq!(token.len(), full, "token length");
                assert!(
                    same_json(&json(&stored), &json(&profile)),
                    "the session changed the profile"
                );
            } else {
                let trimmed = trim(&profile);
                assert_eq!(token.len(), session_token_len(&trimmed), "token length");
                assert_eq!(
                    stored, trimmed,
                    "trimmed other than custom attributes and groups"
                );
            }
            assert!(
                token.len() <= MAX_ISSUED_TOKEN,
                "a {}-byte token",
                token.len()
            );
            assert_eq!(claims["sub"].as_str(), Some(profile.id.as_str()));

            // What travels in the cookie, read independently of the crate.
            let payload = token.split('.').nth(1).and_then(decode_b64url).unwrap();
            let payload: Value = serde_json::from_slice(&payload).unwrap();
            assert!(
                payload.get("raw_attributes").is_none(),
                "raw_attributes in the token"
            );
            assert!(
                payload["p"].get("raw_attributes").is_none(),
                "raw_attributes in the token's profile"
            );
            let reference = reference_verify(&token, NOW).expect("the reference refuses it");
            for claim in ["iss", "aud", "sub", "sid", "typ", "iat", "exp", "auth_time"] {
                assert_eq!(reference[claim], claims[claim], "claim {claim} differs");
            }
            assert!(
                same_json(&reference["profile"], &claims["profile"]),
                "the reference reads another profile"
            );

            let renewed = renewed.expect("the session did not renew half an idle timeout later");
            for claim in ["sid", "sub", "auth_time", "profile"] {
                assert!(
                    same_json(&renewed[claim], &claims[claim]),
                    "renewal changed {claim}: {} -> {}",
                    claims[claim],
                    renewed[claim]
                );
            }
            assert!(renewed["exp"].as_u64() > claims["exp"].as_u64());
        }
    }
});
