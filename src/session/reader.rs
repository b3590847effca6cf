//! Where a request carries its session: the session cookie, or `Authorization: Bearer`.

use http::{HeaderMap, header};

use crate::cookie;

/// A session token found on a request.
pub(crate) enum Presented<'a> {
    None,
    Cookie(&'a str),
    Bearer(&'a str),
    /// Several session cookies: refused, whatever they hold.
    Ambiguous,
}

/// The session a request presents: a bearer token wins over the cookie; several session
/// cookies are ambiguous, whatever they hold.
pub(crate) fn presented<'a>(headers: &'a HeaderMap, cookie_name: &str) -> Presented<'a> {
    if let Some(token) = bearer_token(headers) {
        return Presented::Bearer(token);
    }
    let mut found = Presented::None;
    for (name, value) in cookie::request_cookies(headers) {
        if name == cookie_name {
            if !matches!(found, Presented::None) {
                return Presented::Ambiguous;
            }
            found = Presented::Cookie(value);
        }
    }
    found
}

/// The token of an `Authorization: Bearer` header, if there is one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
