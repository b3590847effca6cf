//! `Flows::find` with an arbitrary `Cookie` header and `state` (split at the first newline):
//! a flow is looked at only when the request has exactly one cookie named for that state, and
//! the answer is the one an independent reader of the flow format gives for that cookie's
//! value: found only if it accepts the value, with that exact state and the same claims (all
//! of them), and then it returns to a safe path; expired only if it reads a genuine flow past
//! its expiry; invalid otherwise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_workos_sso::fuzz_bridge::{FlowCheck, NOW, flow_lookup};
use tower_workos_sso_fuzz::{
    assert_safe_return_to, cookie_values, flow_cookie_name, reference_flow, split_newline,
};

fuzz_target!(|data: &[u8]| {
    let (cookie, state) = split_newline(data);
    let Ok(state) = std::str::from_utf8(state) else {
        return;
    };
    let name = flow_cookie_name(state);
    // The state's flow cookies as a server reads the header (none if it cannot be sent).
    let values = cookie_values(cookie, &name);
    let check = flow_lookup(cookie, state);
    let (found, value) = match (&check, values.as_slice()) {
        (FlowCheck::Missing, values) => {
            assert_ne!(
                values.len(),
                1,
                "the state's one flow cookie was overlooked"
            );
            return;
        }
        (
            FlowCheck::Expired { cookie }
            | FlowCheck::Invalid { cookie }
            | FlowCheck::Found { cookie, .. },
            [value],
        ) => (cookie, *value),
        (_, values) => panic!("{} flow cookies, one read: {check:?}", values.len()),
    };
    assert_eq!(*found, name, "not the state's cookie");
    let reference = reference_flow(value);
    match check {
        FlowCheck::Missing => unreachable!(),
        FlowCheck::Expired { .. } => {
            let reference = reference.expect("expired: the reference refuses the value");
            assert!(
                NOW > reference.exp,
                "expired: the reference says it is live"
            );
        }
        FlowCheck::Invalid { .. } => {
            if let Some(reference) = reference {
                assert!(NOW <= reference.exp, "invalid: the reference says expired");
                assert_ne!(reference.st, state, "invalid: a live flow of this state");
            }
        }
        FlowCheck::Found { claims, .. } => {
            let reference = reference.expect("found a flow the reference refuses");
            assert!(NOW <= reference.exp, "found an expired flow");
            assert_eq!(reference.st, state, "a flow of another state was found");
            let expected = serde_json::to_value(&reference).unwrap();
            assert_eq!(claims, expected, "the claims differ from the reference's");
            let return_to = reference.rt.as_str();
            assert_safe_return_to(Some(return_to), return_to);
        }
    }
});
