//! Property checks shared by the fuzz targets, written independently of the crate's code.

use tower_workos_sso::fuzzing::{DEFAULT_RETURN_TO, SSO_ROUTES};

/// Asserts what `safe_return_to` promises: the answer is the configured default, or the input
/// itself, and then a same-origin path: it starts with a single `/`, has no `\`, no control,
/// space or non-ASCII character, and neither as it is nor after any round of percent-decoding
/// does it resolve (dot segments, repeated slashes, case, a trailing slash) to an SSO route or
/// to a path starting with `//`. Decoding must settle within three rounds.
pub fn assert_safe_return_to(input: Option<&str>, output: &str) {
    if output == DEFAULT_RETURN_TO {
        return;
    }
    assert_eq!(Some(output), input, "return_to was rewritten");
    assert!(
        output.bytes().all(|b| b.is_ascii_graphic()),
        "return_to {output:?} has a space, control or non-ASCII character"
    );
    let mut current = output.to_owned();
    for _ in 0..3 {
        assert_local(&current, output);
        let decoded = percent_decode(&current);
        if decoded == current {
            return;
        }
        current = decoded;
    }
    assert_local(&current, output);
    assert_eq!(
        percent_decode(&current),
        current,
        "return_to {output:?} still decodes after three rounds"
    );
}

fn assert_local(text: &str, original: &str) {
    assert!(
        text.starts_with('/') && !text.starts_with("//"),
        "return_to {original:?} reads as {text:?}: not a single leading slash"
    );
    assert!(
        !text.contains('\\'),
        "return_to {original:?} reads as {text:?}: has a backslash"
    );
    assert!(
        !text.chars().any(|c| c.is_control() || !c.is_ascii()),
        "return_to {original:?} reads as {text:?}: control or non-ASCII character"
    );
    let path = text.split(['?', '#']).next().unwrap_or_default();
    let resolved = remove_dot_segments(path);
    assert!(
        !resolved.starts_with("//"),
        "return_to {original:?} resolves to {resolved:?}: not a single leading slash"
    );
    let merged: Vec<&str> = resolved.split('/').filter(|s| !s.is_empty()).collect();
    let route = format!("/{}", merged.join("/"));
    for sso in SSO_ROUTES {
        assert!(
            !route.eq_ignore_ascii_case(sso),
            "return_to {original:?} resolves to the SSO route {sso}"
        );
    }
}

/// RFC 3986 §5.2.4 as the WHATWG URL standard applies it: `.`/`..` segments, also spelled with
/// `%2e`, are removed.
pub fn remove_dot_segments(path: &str) -> String {
    let single = |s: &str| s == "." || s.eq_ignore_ascii_case("%2e");
    let double = |s: &str| {
        matches!(
            s.to_ascii_lowercase().as_str(),
            ".." | ".%2e" | "%2e." | "%2e%2e"
        )
    };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if single(segment) {
            if last {
                out.push("");
            }
        } else if double(segment) {
            out.pop();
            if last {
                out.push("");
            }
        } else {
            out.push(segment);
        }
    }
    format!("/{}", out.join("/"))
}

/// Percent-decoding, invalid UTF-8 replaced by U+FFFD: its own implementation.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use tower_workos_sso::fuzzing::{
        FlowCheck, ProfileCheck, SessionCheck, flow_lookup, issue_session, profile_roundtrip,
        return_to, session_from_headers, session_token_len,
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
        let data = seed("flow_cookie", "swapped_value");
        let (cookie, state) = split_newline(&data);
        let check = flow_lookup(cookie, std::str::from_utf8(state).unwrap());
        assert!(matches!(check, FlowCheck::Invalid { .. }), "{check:?}");

        let ProfileCheck::Issued { verified, .. } =
            profile_roundtrip(&seed("profile", "documented"))
        else {
            panic!("the documented profile is refused");
        };
        assert!(verified.is_some());
        assert_eq!(return_to("/dashboard"), "/dashboard");

        // The profile target's length model matches what the crate writes.
        let profile: tower_workos_sso::Profile =
            serde_json::from_slice(&seed("profile", "documented")).unwrap();
        let (token, _) = issue_session(&profile).unwrap();
        assert_eq!(token.len(), session_token_len(&profile));
    }

    #[test]
    fn dot_segments() {
        assert_eq!(remove_dot_segments("/a/../auth/login"), "/auth/login");
        assert_eq!(remove_dot_segments("/.//evil"), "//evil");
        assert_eq!(remove_dot_segments("/a/%2E%2e"), "/");
        assert_eq!(percent_decode("/%2fx%zz%4"), "//x%zz%4");
    }
}
