//! What `safe_return_to` promises, checked independently of the crate: its own percent-decoding
//! and dot-segment resolution.

use tower_workos_sso::fuzz_bridge::DEFAULT_RETURN_TO;

/// The SSO routes under the fixed configuration (the default base path `/auth`).
pub const SSO_ROUTES: [&str; 3] = ["/auth/login", "/auth/callback", "/auth/logout"];

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
