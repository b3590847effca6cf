//! `safe_return_to` on arbitrary text: the answer is the default or the input, and then a
//! same-origin path that no browser or server reads as another origin or an SSO route.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_workos_sso::fuzz_bridge::return_to;
use tower_workos_sso_fuzz::assert_safe_return_to;

fuzz_target!(|input: &str| {
    assert_safe_return_to(Some(input), &return_to(input));
});
