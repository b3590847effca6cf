//! Any text as a session token's payload: whatever the crate's exact reader of its own claims
//! accepts (`src/session/wire/exact.rs`), serde_json must read to the same claims. The exact
//! reader only ever takes a faster way to serde_json's answer; it never decides alone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_workos_sso::fuzz_bridge::claims_readings;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((exact, serde)) = claims_readings(payload) {
        let serde =
            serde.unwrap_or_else(|| panic!("serde_json refuses what the exact reader read"));
        assert_eq!(exact, serde, "the two readers disagree");
    }
});
