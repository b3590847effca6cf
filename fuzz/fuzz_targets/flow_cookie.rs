//! `Flows::find` with an arbitrary `Cookie` header and `state` (split at the first newline): a
//! flow is found only under the cookie named for that state, only if an independent verifier
//! accepts its token, only for that exact state, and it returns to a safe path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_workos_sso::fuzzing::{FlowCheck, flow_cookie_name, flow_lookup, reference_verify_flow};
use tower_workos_sso_fuzz::{assert_safe_return_to, split_newline};

fuzz_target!(|data: &[u8]| {
    let (cookie, state) = split_newline(data);
    let Ok(state) = std::str::from_utf8(state) else {
        return;
    };
    let name = flow_cookie_name(state);
    let cookie_text = String::from_utf8_lossy(cookie);
    let pairs = pairs_named(cookie, &name);
    match flow_lookup(cookie, state) {
        FlowCheck::Missing => assert!(
            pairs.is_none_or(|n| n != 1),
            "the state's one flow cookie was overlooked"
        ),
        FlowCheck::Expired { cookie } | FlowCheck::Invalid { cookie } => {
            assert_eq!(cookie, name, "not the state's cookie");
            assert!(cookie_text.contains(&name), "cookie not in the request");
            assert!(
                pairs.is_none_or(|n| n == 1),
                "{pairs:?} flow cookies, one read"
            );
        }
        FlowCheck::Found {
            cookie,
            token,
            state: flow_state,
            return_to,
        } => {
            assert_eq!(cookie, name, "not the state's cookie");
            assert!(cookie_text.contains(&name), "cookie not in the request");
            assert_eq!(flow_state, state, "a flow of another state was found");
            assert!(
                pairs.is_none_or(|n| n == 1),
                "{pairs:?} flow cookies, one read"
            );
            let claims = reference_verify_flow(&token).expect("found a flow the reference refuses");
            assert_eq!(claims["st"], state);
            assert_eq!(claims["rt"], return_to.as_str());
            assert_safe_return_to(Some(&return_to), &return_to);
        }
    }
});

/// How many `name=value` pairs of a readable `Cookie` header carry `wanted` as their name,
/// among the first 200 `;`-separated items (the crate's bound); `None` if the header is not
/// visible ASCII, which the crate does not read.
fn pairs_named(cookie: &[u8], wanted: &str) -> Option<usize> {
    let text = std::str::from_utf8(cookie).ok()?;
    if !text
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return None;
    }
    let named = |item: &&str| {
        item.split_once('=')
            .is_some_and(|(name, _)| name.trim() == wanted)
    };
    Some(text.split(';').take(200).filter(named).count())
}
