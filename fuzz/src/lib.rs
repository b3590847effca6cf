//! The fuzz targets' independent references and shared property checks.
//!
//! The targets drive the crate's real code through `tower_workos_sso::fuzz_bridge` (compiled
//! only under `--cfg fuzzing`, which cargo-fuzz passes) and judge its answers with what is here,
//! written independently of the crate's code: its own base64url, HMAC key derivation, token
//! verifiers and claim rules ([`token`]), its own reading of the `Cookie` header ([`cookies`]),
//! and its own statement of what a safe `return_to` is ([`return_to`]).

#[cfg(not(fuzzing))]
compile_error!(
    "the fuzz targets need `--cfg fuzzing`: cargo fuzz passes it; for cargo check, set \
     RUSTFLAGS=\"--cfg fuzzing\""
);

use std::sync::LazyLock;

use tower_workos_sso::fuzz_bridge::{CallbackAnswer, begin_callback};

pub mod cookies;
pub mod return_to;
pub mod token;

pub use cookies::*;
pub use return_to::*;
pub use token::*;

/// JSON equality, except that floats may differ in their last few bits: serde_json's default
/// float parsing (without its `float_roundtrip` feature) is not exact, so a float custom
/// attribute can move by an ULP through a session token. Integers, strings and structure must
/// be equal.
pub fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => {
                    x == y || (x.signum() == y.signum() && x.to_bits().abs_diff(y.to_bits()) <= 4)
                }
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Splits an input at its first newline (never valid inside a header value or a query).
pub fn split_newline(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Queries that between them reach every page the callback answers with when no flow cookie
/// is sent: one per fixed message.
const PAGE_QUERIES: [&str; 12] = [
    "",
    "code=c",
    "state=s",
    "code=c&state=s",
    "code=c&code=d",
    "error=access_denied",
    "error=connection_invalid",
    "error=organization_invalid",
    "error=server_error",
    "error=other",
    "error=idp_initiated_sso_disabled",
    "error=idp_initiated_sso_disabled&connection_id=nope",
];

/// The callback's fixed pages, as the crate writes them.
static FIXED_PAGES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    PAGE_QUERIES
        .iter()
        .filter_map(|query| match begin_callback(query) {
            CallbackAnswer::Respond { body, .. } => Some(body),
            CallbackAnswer::Exchange | CallbackAnswer::LookUp => None,
        })
        .collect()
});

/// Whether `body` is one of the callback's fixed pages (nothing from the request in it).
pub fn is_fixed_page(body: &[u8]) -> bool {
    FIXED_PAGES.iter().any(|page| page == body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_workos_sso::fuzz_bridge::{
        FlowCheck, ProfileCheck, SessionCheck, claims_readings, flow_lookup, profile_roundtrip,
        return_to, session_from_headers,
    };

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let path = format!("{}/seeds/{target}/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The seeds reach the interesting answers, so the targets' checks are not vacuous.
    #[test]
    fn seeds_are_live() {
        for (name, accepted) in [
            ("cookie_valid", true),
            ("cookie_quoted", true),
            ("cookie_previous_key", true),
            ("bearer_valid", true),
            ("bearer_over_cookie", true),
            ("cookie_expired", false),
            ("cookie_flow_token", false),
        ] {
            let data = seed("session_headers", name);
            let (cookie, authorization) = split_newline(&data);
            let check = session_from_headers(cookie, authorization);
            assert_eq!(
                matches!(check, SessionCheck::Accepted { .. }),
                accepted,
                "{name}: {check:?}"
            );
        }
        let data = seed("session_headers", "cookie_previous_key");
        let SessionCheck::Accepted { renewed, .. } = session_from_headers(&data, b"") else {
            panic!("previous key refused");
        };
        assert!(renewed.is_some(), "a retired key's session is not renewed");

        for (name, found) in [
            ("found", true),
            ("found_among_others", true),
            ("other_state", false),
        ] {
            let data = seed("flow_cookie", name);
            let (cookie, state) = split_newline(&data);
            let check = flow_lookup(cookie, std::str::from_utf8(state).unwrap());
            assert_eq!(
                matches!(check, FlowCheck::Found { .. }),
                found,
                "{name}: {check:?}"
            );
        }
        // The reference reads the minted flows as the crate does, so the target's claim and
        // state comparisons are not vacuous.
        let data = seed("flow_cookie", "found");
        let (cookie, state) = split_newline(&data);
        let state = std::str::from_utf8(state).unwrap();
        let FlowCheck::Found { claims, .. } = flow_lookup(cookie, state) else {
            panic!("the found seed is not found");
        };
        let [value] = cookie_values(cookie, &flow_cookie_name(state))[..] else {
            panic!("the found seed has not one flow cookie");
        };
        let reference = reference_verify_flow(value).expect("the reference refuses a minted flow");
        assert_eq!(claims, serde_json::to_value(&reference).unwrap());
        let data = seed("flow_cookie", "swapped_value");
        let (cookie, state) = split_newline(&data);
        let state = std::str::from_utf8(state).unwrap();
        let check = flow_lookup(cookie, state);
        assert!(matches!(check, FlowCheck::Invalid { .. }), "{check:?}");
        let [value] = cookie_values(cookie, &flow_cookie_name(state))[..] else {
            panic!("the swapped seed has not one flow cookie");
        };
        let swapped = reference_verify_flow(value).expect("the swapped flow is not genuine");
        assert_ne!(swapped.st, state, "the swapped flow is this state's");

        let ProfileCheck::Issued {
            profile,
            token,
            verified,
            ..
        } = profile_roundtrip(&seed("profile", "documented"))
        else {
            panic!("the documented profile is refused");
        };
        assert!(verified.is_some());
        // The profile target's length model matches what the crate writes.
        assert_eq!(token.len(), session_token_len(&profile));
        assert_eq!(return_to("/dashboard"), "/dashboard");

        // The crate's own payloads take the exact reader, another shape does not: the
        // claims_reader target compares the two readers on both sides of that line.
        for name in [
            "issued_documented",
            "issued_attributes",
            "issued_nulls",
            "issued_minimal",
        ] {
            let payload = String::from_utf8(seed("claims_reader", name)).unwrap();
            let (exact, serde) = claims_readings(&payload).expect("the exact reader refuses");
            assert_eq!(Some(exact), serde, "{name}");
        }
        let other = String::from_utf8(seed("claims_reader", "other_shape")).unwrap();
        assert!(claims_readings(&other).is_none());

        // Every query of the fixed-page set answers with a page, and they differ: the
        // callback target's "fixed page" check is not vacuous.
        assert_eq!(
            FIXED_PAGES.len(),
            PAGE_QUERIES.len(),
            "a page query exchanged"
        );
        let mut distinct = FIXED_PAGES.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 1, "one page for every message");
    }

    #[test]
    fn dot_segments() {
        assert_eq!(remove_dot_segments("/a/../auth/login"), "/auth/login");
        assert_eq!(remove_dot_segments("/.//evil"), "//evil");
        assert_eq!(remove_dot_segments("/a/%2E%2e"), "/");
        assert_eq!(percent_decode("/%2fx%zz%4"), "//x%zz%4");
    }

    #[test]
    fn cookie_header() {
        let header = b"a=1; __Host-sso_session= \"t\" ;b; __Host-sso_session=u;x=y=z";
        assert_eq!(cookie_values(header, SESSION_COOKIE), ["t", "u"]);
        assert_eq!(cookie_values(header, "x"), ["y=z"]);
        // Each item on its own: one that is not UTF-8 hides nothing beside it.
        assert_eq!(cookie_values(b"a=\xc3\xa9", "a"), ["\u{e9}"]);
        assert_eq!(cookie_values(b"a=\xff; b=1; \xfe=2", "b"), ["1"]);
        assert!(cookie_values(b"a=1\x01", "a").is_empty());
    }
}
