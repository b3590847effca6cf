//! Reading the `Cookie` header and writing `Set-Cookie` values with the crate's fixed attributes.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, header};

/// How many cookie pairs are looked at per request: bounded work whatever the client sends.
const MAX_COOKIES: usize = 200;

/// Every `name=value` pair of the request's `Cookie` headers, in order.
pub(crate) fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .take(MAX_COOKIES)
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            Some((name.trim(), value.trim().trim_matches('"')))
        })
}

/// The attributes every cookie of the crate carries: host-only, whole site, no script access.
/// `Lax`, not `Strict`: the return from the identity provider is a cross-site navigation.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let line = format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.as_secs()
    );
    // Names and values are base64url, digits and fixed ASCII: always a valid header value.
    HeaderValue::from_str(&line).expect("cookie built from header-safe characters")
}

/// The cookie name with the `__Host-` prefix, which pins it to this host, path `/` and HTTPS;
/// plain-HTTP localhost development (`secure == false`) cannot use the prefix and drops it.
pub(crate) fn host_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// A `Set-Cookie` that makes the browser drop the cookie.
pub(crate) fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", Duration::ZERO, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=\"2\""));
        headers.append(header::COOKIE, HeaderValue::from_static("c=3;;junk; d="));
        let pairs: Vec<_> = request_cookies(&headers).collect();
        assert_eq!(pairs, [("a", "1"), ("b", "2"), ("c", "3"), ("d", "")]);
    }

    #[test]
    fn bounded_number_of_pairs() {
        let mut headers = HeaderMap::new();
        let many = (0..1000)
            .map(|i| format!("c{i}=v"))
            .collect::<Vec<_>>()
            .join("; ");
        headers.insert(header::COOKIE, HeaderValue::from_str(&many).unwrap());
        assert_eq!(request_cookies(&headers).count(), MAX_COOKIES);
    }

    #[test]
    fn attributes() {
        let line = set_cookie("__Host-s", "v", Duration::from_secs(60), true);
        assert_eq!(
            line,
            "__Host-s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(
            clear_cookie("s", false)
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
    }
}
