//! The crate's cookie names and the `Cookie` header, read independently of the crate.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The session cookie's name under the fixed configuration (HTTPS, so `__Host-` prefixed).
pub const SESSION_COOKIE: &str = "__Host-sso_session";
/// The prefix of every flow cookie's name under the fixed configuration.
pub const FLOW_COOKIE_PREFIX: &str = "__Host-sso_session_flow_";
/// How many `;`-separated items of a `Cookie` header the crate looks at (its bound).
const MAX_COOKIES: usize = 200;

/// The name of the flow cookie for `state`: the prefix and 16 characters of the base64url
/// SHA-256 of the state.
pub fn flow_cookie_name(state: &str) -> String {
    let hash = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, state.as_bytes()));
    format!("{FLOW_COOKIE_PREFIX}{}", &hash[..16])
}

/// The `name=value` pairs named `wanted` of a `Cookie` header, among its first 200
/// `;`-separated items, with their values as a server reads them (spaces, tabs and surrounding
/// quotes trimmed). A header with a byte no header value may hold (a control character other
/// than tab, or DEL) is not sent at all; otherwise each item is read on its own, and an item that
/// is not UTF-8 is passed over without hiding the ones beside it.
pub fn cookie_values<'a>(cookie: &'a [u8], wanted: &str) -> Vec<&'a str> {
    if !cookie
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
    {
        return Vec::new();
    }
    let blank = [' ', '\t'];
    cookie
        .split(|&b| b == b';')
        .take(MAX_COOKIES)
        .filter_map(|item| std::str::from_utf8(item).ok()?.split_once('='))
        .filter(|(name, _)| name.trim_matches(blank) == wanted)
        .map(|(_, value)| value.trim_matches(blank).trim_matches('"'))
        .collect()
}
