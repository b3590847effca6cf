//! Where a request carries its session: the session cookie, or `Authorization: Bearer`.

use http::{HeaderMap, header};

use crate::cookie::{CookieFinder, Found};

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
pub(crate) fn presented<'a>(headers: &'a HeaderMap, cookie: &CookieFinder) -> Presented<'a> {
    if let Some(token) = bearer_token(headers) {
        return Presented::Bearer(token);
    }
    match cookie.find(headers) {
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
