//! Reading the `Cookie` header and writing `Set-Cookie` values with the crate's fixed attributes.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, header};

/// How many cookie pairs are looked at per request: bounded work whatever the client sends.
const MAX_COOKIES: usize = 200;

/// Every `name=value` pair of the request's `Cookie` headers, in order. A pair that is not
/// UTF-8 is skipped on its own, not its whole header as `HeaderValue::to_str` would: another
/// app's cookie with other bytes must not hide the session beside it. (A UTF-8 value that is
/// not ASCII is read, and then fails whatever check its cookie has: a token is ASCII.)
pub(crate) fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|line| line.as_bytes().split(|b| *b == b';'))
        .take(MAX_COOKIES)
        .filter_map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            // Blanks are spaces and tabs (RFC 6265's OWS), the only ASCII blanks a header value
            // can hold; others, such as U+3000, belong to the name or value, as for servers.
            let (name, value) = pair.trim_ascii().split_once('=')?;
            Some((name.trim_ascii(), value.trim_ascii().trim_matches('"')))
        })
}

/// What a look for one cookie by name found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found<T> {
    None,
    One(T),
    /// More than one pair carries the name.
    Several,
}

/// A cookie's value as found, not yet checked as UTF-8: a value that is not UTF-8 stands for
/// no cookie at all, as [`request_cookies`] skips it. Checking costs a pass over the value, which
/// a caller that only compares it with known text (a cache of tokens) can skip.
#[derive(Clone, Copy)]
pub(crate) struct Unchecked<'a>(&'a [u8]);

/// Prints the value's length only: it is a session token.
impl std::fmt::Debug for Unchecked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unchecked(<redacted>, {} bytes)", self.0.len())
    }
}

impl<'a> From<&'a str> for Unchecked<'a> {
    fn from(text: &'a str) -> Self {
        Self(text.as_bytes())
    }
}

impl<'a> Unchecked<'a> {
    pub(crate) fn bytes(self) -> &'a [u8] {
        self.0
    }

    /// The value, if it is UTF-8.
    pub(crate) fn text(self) -> Option<&'a str> {
        std::str::from_utf8(self.0).ok()
    }
}

/// Looks for one cookie by name, as the session reader does on every request.
///
/// It reads the pairs exactly as [`request_cookies`] does (the same headers, the same first
/// [`MAX_COOKIES`] pairs, the same trimming), but instead of splitting every pair it searches
/// each header for the name with `memchr`'s SIMD substring search and looks closer only where
/// the name occurs: most requests carry other cookies, and the search costs a fraction of a
/// split.
pub(crate) struct CookieFinder {
    name: String,
    finder: memchr::memmem::Finder<'static>,
}

impl CookieFinder {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            finder: memchr::memmem::Finder::new(name.as_bytes()).into_owned(),
        }
    }

    /// The cookie's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The cookie's value, if exactly one pair of the request's `Cookie` headers carries it:
    /// [`find_unchecked`](Self::find_unchecked) resolved as the session reader resolves it.
    #[cfg(test)]
    pub(crate) fn find<'a>(&self, headers: &'a HeaderMap) -> Found<&'a str> {
        match self.find_unchecked(headers) {
            Found::One(value) => value.text().map_or(Found::None, Found::One),
            Found::Several => Found::Several,
            Found::None => Found::None,
        }
    }

    /// [`find`](Self::find), with the value's UTF-8 check left to the caller when one pair
    /// carries the name (the usual case); with several, each is checked here, since a pair that
    /// is not UTF-8 does not count.
    pub(crate) fn find_unchecked<'a>(&self, headers: &'a HeaderMap) -> Found<Unchecked<'a>> {
        // The pair found so far, and whether it is known to be UTF-8.
        let mut found: Option<(&'a [u8], bool)> = None;
        // Pairs that may still be looked at, across headers.
        let mut budget = MAX_COOKIES;
        let mut lines = headers.get_all(header::COOKIE).iter().peekable();
        while let Some(line) = lines.next() {
            let bytes = line.as_bytes();
            let more = lines.peek().is_some();
            let mut at = self.finder.find(bytes);
            // A header without the name matters only for the pairs it takes from the budget.
            if budget == 0 || (at.is_none() && !more) {
                break;
            }
            while let Some(start) = at {
                let next = match self.value_at(bytes, start) {
                    Some((value, end)) => {
                        // Fewer bytes than the budget hold fewer `;` than it, uncounted.
                        if start >= budget && count_semicolons(&bytes[..start]) >= budget {
                            break;
                        }
                        found = match found {
                            None => Some((value, false)),
                            Some((before, checked)) => {
                                let utf8 = |v: &[u8]| std::str::from_utf8(v).is_ok();
                                match (checked || utf8(before), utf8(value)) {
                                    (true, true) => return Found::Several,
                                    (true, false) => Some((before, true)),
                                    (false, true) => Some((value, true)),
                                    (false, false) => None,
                                }
                            }
                        };
                        // A value holds no `;`: the next pair starts after it.
                        end
                    }
                    None => start + 1,
                };
                at = self.finder.find(&bytes[next..]).map(|offset| next + offset);
            }
            if more {
                budget = budget.saturating_sub(count_semicolons(bytes) + 1);
            }
        }
        found.map_or(Found::None, |(value, _)| Found::One(Unchecked(value)))
    }

    /// The value of the pair whose name starts at `at` (trimmed as [`request_cookies`] trims it,
    /// not checked as UTF-8), and where the pair ends, if the name is the whole name of its
    /// pair (after a `;` or the start and blanks, before blanks and `=`). Before the value, the
    /// pair is the name and blanks: the value alone decides whether the pair is UTF-8.
    fn value_at<'a>(&self, bytes: &'a [u8], at: usize) -> Option<(&'a [u8], usize)> {
        let before = bytes[..at].trim_ascii_end();
        if !(before.is_empty() || before.ends_with(b";")) {
            return None;
        }
        let name_end = at + self.name.len();
        let after = bytes[name_end..].trim_ascii_start();
        let value = after.strip_prefix(b"=")?;
        let value_start = bytes.len() - value.len();
        let end = memchr::memchr(b';', value).map_or(bytes.len(), |at| value_start + at);
        // ASCII blanks and quotes, as `str::trim_ascii` and `trim_matches('"')` take them.
        let mut value = bytes[value_start..end].trim_ascii();
        while let [b'"', rest @ ..] = value {
            value = rest;
        }
        while let [rest @ .., b'"'] = value {
            value = rest;
        }
        Some((value, end))
    }
}

/// How many `;` separate pairs in `bytes` (memchr's vectorised count).
fn count_semicolons(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b';', bytes).count()
}

/// The attributes every cookie of the crate carries: host-only, whole site, no script access.
/// `Lax`, not `Strict`: the return from the identity provider is a cross-site navigation.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> HeaderValue {
    const ATTRIBUTES: &str = "; HttpOnly; SameSite=Lax";
    const SECURE: &str = "; Secure";
    let mut digits = [0u8; 20];
    let max_age = decimal(max_age.as_secs(), &mut digits);
    // Written into one buffer of exactly its length, which the header value then owns: no
    // formatting machinery, no copy.
    let parts = [
        name,
        "=",
        value,
        "; Path=/; Max-Age=",
        max_age,
        ATTRIBUTES,
        if secure { SECURE } else { "" },
    ];
    let mut line = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    parts.iter().for_each(|part| line.push_str(part));
    // Names and values are base64url, digits and fixed ASCII: always a valid header value.
    HeaderValue::from_maybe_shared(bytes::Bytes::from(line))
        .expect("cookie built from header-safe characters")
}

/// `n` in decimal digits, written at the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[start..]).expect("ASCII digits")
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

    /// `find_cookie` against the plain reading of every pair, over headers built from pieces
    /// that put the name in every position it can take.
    #[test]
    fn finding_one_cookie_reads_as_the_pairs_do() {
        let name = "__Host-s";
        let pieces = [
            "__Host-s=v1",
            " __Host-s = \"v2\" ",
            "__Host-s",
            "x__Host-s=no",
            "__Host-sx=no",
            "a=__Host-s=no",
            "__Host-s=",
            "\t__Host-s=\tv3",
            "b=1",
            "",
            " ",
            "__Host-s==v4",
            // Blanks that are not ASCII are part of the name or value, as for servers.
            "\u{3000}__Host-s=v5",
            "__Host-s\u{a0}=v6",
            "__Host-s=\u{a0}v7\u{3000}",
        ];
        fn reference<'a>(headers: &'a HeaderMap, name: &str) -> Found<&'a str> {
            let mut values = request_cookies(headers).filter(|(n, _)| *n == name);
            match (values.next(), values.next()) {
                (None, _) => Found::None,
                (Some((_, value)), None) => Found::One(value),
                _ => Found::Several,
            }
        }
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let mut headers = HeaderMap::new();
                    let line = format!("{a};{b}; {c}");
                    headers.insert(
                        header::COOKIE,
                        HeaderValue::from_bytes(line.as_bytes()).unwrap(),
                    );
                    assert_eq!(
                        CookieFinder::new(name).find(&headers),
                        reference(&headers, name),
                        "{line:?}"
                    );
                    headers.append(
                        header::COOKIE,
                        HeaderValue::from_bytes(a.as_bytes()).unwrap(),
                    );
                    assert_eq!(
                        CookieFinder::new(name).find(&headers),
                        reference(&headers, name),
                        "{line:?}"
                    );
                }
            }
        }
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_bytes(b"__Host-s=\xff").unwrap(),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("__Host-s=ok"));
        assert_eq!(CookieFinder::new(name).find(&headers), Found::One("ok"));
    }

    /// The UTF-8 check left to the caller when one pair carries the name, made here when
    /// several do: read together, every arrangement of values that are and are not UTF-8
    /// reads as the pairs do.
    #[test]
    fn values_that_are_not_utf8_count_as_the_pairs_read_them() {
        let name = "__Host-s";
        let pieces: [&[u8]; 7] = [
            b"__Host-s=\xff",
            b"__Host-s=ok",
            b" __Host-s = \"\xfe\xfd\" ",
            b"__Host-s=t\xc3\xb6k",
            b"a=\xff",
            b"__Host-s=\xc3",
            b"b=1",
        ];
        let reference = |headers: &HeaderMap| {
            let mut values = request_cookies(headers).filter(|(n, _)| *n == name);
            match (values.next(), values.next()) {
                (None, _) => Found::None,
                (Some((_, value)), None) => Found::One(value.to_owned()),
                _ => Found::Several,
            }
        };
        let finder = CookieFinder::new(name);
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let line = [a, b";", b, b"; ", c].concat();
                    let mut headers = HeaderMap::new();
                    headers.insert(header::COOKIE, HeaderValue::from_bytes(&line).unwrap());
                    let found = match finder.find(&headers) {
                        Found::One(value) => Found::One(value.to_owned()),
                        Found::None => Found::None,
                        Found::Several => Found::Several,
                    };
                    assert_eq!(found, reference(&headers), "{line:?}");
                    // Left unchecked, one pair's value is exactly what the pair holds.
                    if let Found::One(value) = finder.find_unchecked(&headers) {
                        let expected = match &found {
                            Found::One(text) => Some(text.as_str()),
                            _ => None,
                        };
                        assert_eq!(value.text(), expected, "{line:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_unchecked_value_prints_no_token() {
        let printed = format!("{:?}", Unchecked::from("eyJhbGciOi.secret.sig"));
        assert!(!printed.contains("secret"), "{printed}");
    }

    #[test]
    fn another_apps_cookie_hides_nothing_beside_it() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_bytes("pref=caf\u{e9}; __Host-s=tok; n=\u{fc}".as_bytes()).unwrap(),
        );
        assert_eq!(
            CookieFinder::new("__Host-s").find(&headers),
            Found::One("tok")
        );
        let pairs: Vec<_> = request_cookies(&headers).collect();
        assert_eq!(
            pairs,
            [("pref", "caf\u{e9}"), ("__Host-s", "tok"), ("n", "\u{fc}")]
        );
        // Not UTF-8: skipped, pair by pair. UTF-8 but not ASCII: read (and no token).
        headers.insert(
            header::COOKIE,
            HeaderValue::from_bytes(b"a=\xff; __Host-s=\xfe; b=1").unwrap(),
        );
        assert_eq!(CookieFinder::new("__Host-s").find(&headers), Found::None);
        assert_eq!(request_cookies(&headers).collect::<Vec<_>>(), [("b", "1")]);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_bytes("__Host-s=t\u{f6}k; b=1".as_bytes()).unwrap(),
        );
        assert_eq!(
            CookieFinder::new("__Host-s").find(&headers),
            Found::One("t\u{f6}k")
        );
    }

    #[test]
    fn finding_one_cookie_looks_at_the_same_first_pairs() {
        for at in [
            MAX_COOKIES - 2,
            MAX_COOKIES - 1,
            MAX_COOKIES,
            MAX_COOKIES + 1,
        ] {
            let mut pairs: Vec<String> = (0..at).map(|i| format!("c{i}=v")).collect();
            pairs.push("__Host-s=late".into());
            let mut headers = HeaderMap::new();
            let (first, second) = pairs.split_at(at / 2);
            for half in [first, second] {
                headers.append(
                    header::COOKIE,
                    HeaderValue::from_str(&half.join("; ")).unwrap(),
                );
            }
            let read = request_cookies(&headers).any(|(n, _)| n == "__Host-s");
            let found = CookieFinder::new("__Host-s").find(&headers);
            assert_eq!(found != Found::None, read, "after {at} pairs");
        }
    }

    #[test]
    fn attributes() {
        let line = set_cookie("__Host-s", "v", Duration::from_secs(60), true);
        assert_eq!(
            line,
            "__Host-s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            clear_cookie("s", false),
            "s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        );
        for (secs, digits) in [
            (0, "0"),
            (9, "9"),
            (10, "10"),
            (28_800, "28800"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let line = set_cookie("s", "v", Duration::from_secs(secs), false);
            assert!(
                line.to_str()
                    .unwrap()
                    .contains(&format!("; Max-Age={digits};")),
                "{line:?}"
            );
        }
    }
}
