//! Writes the seed corpus under `fuzz/seeds/<target>/`: small realistic inputs, with tokens and
//! flow cookies minted under the fixed fuzzing configuration (so they verify at its fixed time).
//!
//! `RUSTFLAGS="--cfg fuzzing" cargo run --manifest-path fuzz/Cargo.toml --example seeds` (from
//! the repository root).

use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use tower_workos_sso::fuzz_bridge::{
    IDLE, LEEWAY, NOW, ProfileCheck, mint_flow, mint_session, profile_roundtrip,
};
use tower_workos_sso_fuzz::{
    SESSION_COOKIE, SigningKey, decode_b64url, kid, sample_profile, session_claims, session_header,
    sign_session_parts,
};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), data).unwrap();
    };

    // Sessions.
    let claims = session_claims(&sample_profile());
    let token = mint_session(&claims).unwrap();
    let previous = sign_session_parts(
        &session_header(&kid(SigningKey::Previous)),
        &claims,
        SigningKey::Previous,
    );
    let mut old: Value = serde_json::from_slice(&claims).unwrap();
    old["iat"] = (NOW - 2 * IDLE).into();
    old["exp"] = (NOW - IDLE).into();
    old["auth_time"] = (NOW - 2 * IDLE).into();
    let expired = mint_session(&serde_json::to_vec(&old).unwrap()).unwrap();
    let (flow_pair, flow_state) =
        mint_flow("organization=org_01FUZZ&return_to=%2Fdashboard%3Ftab%3D1").unwrap();
    let flow_token = flow_pair.split_once('=').unwrap().1;
    let c = SESSION_COOKIE;
    for (name, text) in [
        ("cookie_valid", format!("{c}={token}")),
        (
            "cookie_among_others",
            format!("theme=dark; {c}={token}; lang=en-GB"),
        ),
        ("cookie_quoted", format!("{c}=\"{token}\"")),
        ("cookie_previous_key", format!("{c}={previous}")),
        ("cookie_expired", format!("{c}={expired}")),
        ("cookie_twice", format!("{c}=x; {c}={token}")),
        ("cookie_flow_token", format!("{c}={flow_token}")),
        (
            "cookie_alg_none",
            format!("{c}=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        ),
        ("bearer_valid", format!("\nBearer {token}")),
        (
            "bearer_over_cookie",
            format!("{c}={expired}\nbearer  {token} "),
        ),
        ("basic", "\nBasic dXNlcjpwYXNz".to_owned()),
        ("empty_bearer", format!("{c}={token}\nBearer ")),
    ] {
        write("session_headers", name, text.as_bytes());
    }

    let header = session_header(&kid(SigningKey::Current));
    let mut times = vec![4u8];
    for offset in [0i32, IDLE as i32, 0, (IDLE + LEEWAY) as i32] {
        times.extend_from_slice(&offset.to_le_bytes());
    }
    for (name, data) in [
        ("claims_valid", [&[0u8][..], &claims].concat()),
        (
            "claims_minimal",
            [&[0u8][..], br#"{"iss":"tower-workos-sso","aud":"client_fuzz","sub":"p","sid":"s","typ":"session","iat":1800000000,"exp":1800001800,"auth_time":1800000000,"p":{"em":"e"}}"#].concat(),
        ),
        ("header_valid", [&[1u8][..], &header].concat()),
        ("key_current", [&[2u8, 0][..], &claims].concat()),
        ("key_previous", [&[2u8, 1][..], &claims].concat()),
        ("key_flow", [&[2u8, 2][..], &claims].concat()),
        ("edit_none", vec![3u8]),
        ("edit_signature", vec![3u8, 0xff, 0x02, 0x05]),
        ("times_idle_edge", times),
    ] {
        write("session_token", name, &data);
    }

    // Flows.
    let (plain_pair, plain_state) = mint_flow("provider=GoogleOAuth").unwrap();
    let swapped = format!("{}={}", plain_pair.split_once('=').unwrap().0, flow_token);
    for (name, text) in [
        ("found", format!("{flow_pair}\n{flow_state}")),
        (
            "found_among_others",
            format!("a=1; {plain_pair}; {flow_pair}; b=2\n{flow_state}"),
        ),
        ("other_state", format!("{flow_pair}\n{plain_state}")),
        ("swapped_value", format!("{swapped}\n{plain_state}")),
        ("no_cookie", format!("\n{flow_state}")),
        (
            "duplicated",
            format!("{flow_pair}; {flow_pair}\n{flow_state}"),
        ),
    ] {
        write("flow_cookie", name, text.as_bytes());
    }

    // return_to.
    for (i, text) in [
        "/",
        "/dashboard",
        "/a/b?c=d&e=f#g",
        "/search?q=%20x",
        "/reports/2026/q3?format=pdf",
        "//evil.test",
        "/%2fevil.test",
        "/%252fevil.test",
        "/\\evil.test",
        "https://evil.test/",
        "/auth/login",
        "/AUTH/Callback/?code=x",
        "/a/../b",
        "/%2e%2e/x",
    ]
    .iter()
    .enumerate()
    {
        write("return_to", &format!("path_{i:02}"), text.as_bytes());
    }

    // Callback and login queries.
    for (name, text) in [
        (
            "callback_code",
            "code=01E2RJ4C05B52KKZ8FSRDAP23J&state=dj1kUXc0dzlXZ1hjUQ",
        ),
        (
            "callback_error",
            "error=access_denied&error_description=User+cancelled&state=abc",
        ),
        (
            "callback_idp_initiated",
            "error=idp_initiated_sso_disabled&connection_id=conn_01E2RJ4C05B",
        ),
        ("callback_repeated", "code=a&code=b&state=s"),
        (
            "login_organization",
            "organization=org_01EHZNVPK3SFK441A1RGBFSHRT&login_hint=todd%40example.com&return_to=%2Fdashboard%3Ftab%3D1",
        ),
        (
            "login_provider",
            "provider=GoogleOAuth&domain_hint=example.com",
        ),
        (
            "login_connection",
            "connection=conn_01E4ZCR3C56J083X43JQXF3JK5&return_to=/reports",
        ),
        (
            "login_two_selectors",
            "organization=org_1&connection=conn_1",
        ),
        ("login_bad_hint", "login_hint=a%0d%0ab"),
    ] {
        write("callback_query", name, text.as_bytes());
    }

    // Profiles (the first is the WorkOS documentation's example).
    let documented = json!({"object": "profile", "id": "prof_01DMC79VCBZ0NY2099737PSVF1",
        "connection_id": "conn_01E4ZCR3C56J083X43JQXF3JK5", "connection_type": "OktaSAML",
        "organization_id": "org_01EHWNCE74X7JSDV0X3SZ3KJNY", "email": "todd@example.com",
        "first_name": "Todd", "last_name": "Rundgren", "idp_id": "00u1a0ufowBJlzPlk357",
        "role": {"slug": "admin"}, "roles": [{"slug": "admin"}], "groups": ["Engineering"],
        "custom_attributes": {}, "raw_attributes": {}});
    let nulls = json!({"object": "profile", "id": "prof_01", "connection_id": "conn_01",
        "connection_type": "GoogleOAuth", "organization_id": null, "email": "a@b.test",
        "first_name": null, "last_name": null, "idp_id": "1234", "raw_attributes": {"sub": "1234"}});
    let attributes = json!({"id": "prof_02", "email": "e@x.test", "connection_type": "SomeNewSAML",
        "custom_attributes": {"department": "R&D", "level": 3, "ratio": 0.25, "tags": ["a", "b"],
        "manager": {"email": "m@x.test"}, "raw_attributes": "named like it"},
        "raw_attributes": {"assertion": "<saml:Assertion>secret</saml:Assertion>"}});
    let minimal = json!({"id": "p", "email": ""});
    for (name, value) in [
        ("documented", documented),
        ("nulls", nulls),
        ("attributes", attributes),
        ("minimal", minimal),
    ] {
        let json = serde_json::to_vec_pretty(&value).unwrap();
        write("profile", name, &json);
        // The payload of the session the crate issues for it: the shape its exact reader of
        // claims reads (each with a random `sid`, so not the same bytes twice).
        if let ProfileCheck::Issued { token, .. } = profile_roundtrip(&json) {
            let payload = token.split('.').nth(1).and_then(decode_b64url).unwrap();
            write("claims_reader", &format!("issued_{name}"), &payload);
        }
    }
    // A payload in another shape (keys in another order, with blanks): serde_json's alone.
    write(
        "claims_reader",
        "other_shape",
        br#"{ "sub": "p", "iss": "tower-workos-sso", "aud": "client_fuzz", "sid": "s", "typ": "session", "iat": 1800000000, "exp": 1800001800, "auth_time": 1800000000, "p": {"em": "e"} }"#,
    );
}
