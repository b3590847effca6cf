//! Where a request carries its session: the session cookie, or `Authorization: Bearer`.

use http::{HeaderMap, header};

use crate::cookie::{CookieFinder, Found, Unchecked};

/// A session token found on a request: the cookie's as text, or (`C = Unchecked`) as found.
pub(crate) enum Presented<'a, C = &'a str> {
    None,
    Cookie(C),
    Bearer(&'a str),
    /// Several session cookies: refused, whatever they hold.
    Ambiguous,
}

/// The session a request presents: a bearer token wins over the cookie; several session
/// cookies are ambiguous, whatever they hold.
pub(crate) fn presented<'a>(headers: &'a HeaderMap, cookie: &CookieFinder) -> Presented<'a> {
    match presented_unchecked(headers, cookie) {
        Presented::Cookie(token) => token.text().map_or(Presented::None, Presented::Cookie),
        Presented::Bearer(token) => Presented::Bearer(token),
        Presented::None => Presented::None,
        Presented::Ambiguous => Presented::Ambiguous,
    }
}

/// [`presented`], the cookie's value not yet checked as UTF-8 (a value that is not is no
/// cookie): a token found in the cache of verified sessions needs no check.
pub(crate) fn presented_unchecked<'a>(
    headers: &'a HeaderMap,
    cookie: &CookieFinder,
) -> Presented<'a, Unchecked<'a>> {
    if let Some(token) = bearer_token(headers) {
        return Presented::Bearer(token);
    }
    match cookie.find_unchecked(headers) {
        Found::None => Presented::None,
        Found::One(token) => Presented::Cookie(token),
        Found::Several => Presented::Ambiguous,
    }
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
