//! `return_to`: where a login may send the browser afterwards, a same-origin relative path only.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::config::SsoConfig;

/// The path a login may return to: a same-origin relative path, else the configured default.
///
/// Refuses anything a browser could read as another origin (`//host`, `/\host`, schemes,
/// encoded or double-encoded separators), control characters and non-ASCII look-alikes, overly
/// long values, and the SSO routes themselves (no login loops).
/// Borrowed: the login copies it once, into its flow cookie.
pub(crate) fn safe_return_to<'a>(
    config: &'a SsoConfig,
    requested: Option<&'a str>,
) -> Cow<'a, str> {
    match requested {
        Some(path) if is_safe_return_to(config, path) => Cow::Borrowed(path),
        _ => Cow::Borrowed(&config.default_return_to),
    }
}

pub(crate) const MAX_RETURN_TO: usize = 2048;

fn is_safe_return_to(config: &SsoConfig, path: &str) -> bool {
    if path.len() > MAX_RETURN_TO || !path.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    // Check the text as it is and as it reads after each round of percent-decoding.
    let mut current = Cow::Borrowed(path);
    for _ in 0..3 {
        if !looks_local(&current) {
            return false;
        }
        let route = current.split(['?', '#']).next().unwrap_or_default();
        // Dot and empty segments: browsers and proxies resolve `/a/../auth/login` or
        // `/auth//login` to an SSO route, and `/.//host` to a path starting with `//`.
        if route.contains("//") || route.split('/').any(is_dot_segment) {
            return false;
        }
        let route = route.trim_end_matches('/');
        if [
            &config.login_path,
            &config.callback_path,
            &config.logout_path,
        ]
        .iter()
        .any(|sso| route.eq_ignore_ascii_case(sso))
        {
            return false;
        }
        // Without a `%` another round of decoding reads the same text.
        if !current.contains('%') {
            return true;
        }
        let decoded = percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == current {
            return true;
        }
        current = Cow::Owned(decoded);
    }
    false
}

/// `.` or `..` as browsers read a path segment (URL standard): any of its dots may be `%2e`.
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        rest = match rest {
            [b'.', tail @ ..] => tail,
            [b'%', b'2', b'e' | b'E', tail @ ..] => tail,
            _ => return false,
        };
        dots += 1;
        if dots > 2 {
            return false;
        }
    }
    dots > 0
}

fn looks_local(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SsoConfig {
        SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![3u8; 32])
            .build()
            .unwrap()
    }

    /// Fuzzing findings (`return_to` target): `/+a/../k/..//+a/..` passed, yet a browser
    /// resolves its dot segments to `//`; `/a/../auth/login` likewise reached an SSO route;
    /// and `/%23/%2e./auth/callback` too, as browsers read `%2e.` as `..` in the raw path while
    /// the decoded text hides the rest behind a `#`.
    #[test]
    fn return_to_refuses_dot_and_empty_segments() {
        let config = config();
        for bad in [
            "/+a/../k/..//+a/..",
            "/%23/%2e./auth/callback",
            "/%3F/.%2E/auth/login",
            "/x/%2e%2e/%2E/auth/logout",
            "/x/.%2e//evil.test",
            "/x/../auth/login",
            "/.//evil.test",
            "/auth//login",
            "/a/.",
            "/x/%2e%2e/auth/logout",
            "/x/%252E%252E/auth/callback?code=1",
        ] {
            assert_eq!(safe_return_to(&config, Some(bad)), "/", "{bad:?}");
        }
        for good in [
            "/a/b/",
            "/a.b/..c/d..",
            "/x?next=/a/../b",
            "/x#//y",
            "/%2e%2ex/.x.",
        ] {
            assert_eq!(safe_return_to(&config, Some(good)), good);
        }
    }

    /// The segment reader against its definition (lower-case, `%2e` read as `.`, then `.` or
    /// `..`) over every segment of up to six characters from the bytes that matter.
    #[test]
    fn dot_segments_are_read_as_their_definition_says() {
        let by_definition = |segment: &str| {
            let dots = segment.to_ascii_lowercase().replace("%2e", ".");
            dots == "." || dots == ".."
        };
        let alphabet = [".", "%", "2", "e", "E", "x"];
        let mut segments = vec![String::new()];
        let mut next = segments.clone();
        for _ in 0..6 {
            next = next
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            segments.extend(next.iter().cloned());
        }
        for segment in &segments {
            assert_eq!(
                is_dot_segment(segment),
                by_definition(segment),
                "{segment:?}"
            );
        }
    }

    #[test]
    fn return_to_accepts_local_paths_only() {
        let config = config();
        for good in ["/", "/dashboard", "/a/b?c=d&e=f#g", "/search?q=%20x"] {
            assert_eq!(safe_return_to(&config, Some(good)), good);
        }
        for bad in [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "\\\\evil.test",
            "/%2fevil.test",
            "/%252fevil.test",
            "/%5cevil.test",
            "javascript:alert(1)",
            "/a\r\nSet-Cookie:x=y",
            "/a\tb",
            "/ａ",
            "/auth/login",
            "/auth/callback?code=x",
            "/AUTH/LOGIN/",
            "/%61uth/login",
            "relative",
            "",
        ] {
            assert_eq!(safe_return_to(&config, Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(
            safe_return_to(&config, Some(&format!("/{}", "a".repeat(3000)))),
            "/"
        );
    }
}
