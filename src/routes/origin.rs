//! Where a request comes from, as browsers tell it: `Sec-Fetch-Site`, else `Origin`, else
//! `Referer`. Clients that send none of them (curl, servers) are not browsers acting for a
//! third-party site.

use http::{HeaderMap, HeaderName, header};

/// `Sec-Fetch-Site`, named once: looking a header up by a string parses the name every time.
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

fn text<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    // A value that is not text cannot match the app's origin.
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// A state-changing request (logout) that no other site made: browsers mark a cross-site form
/// in `Sec-Fetch-Site` or `Origin`. Requests with neither header pass.
pub(crate) fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    if let Some(site) = text(headers, &SEC_FETCH_SITE) {
        return site == "same-origin";
    }
    match text(headers, &header::ORIGIN) {
        Some(sent) => sent.eq_ignore_ascii_case(origin),
        None => true,
    }
}

/// A request the browser says came from this origin: `Sec-Fetch-Site: same-origin`, or an
/// `Origin` equal to the app's. Absence proves nothing: a confirmation needs this.
pub(crate) fn proven_same_origin(origin: &str, headers: &HeaderMap) -> bool {
    match text(headers, &SEC_FETCH_SITE) {
        Some(site) => site == "same-origin",
        None => text(headers, &header::ORIGIN).is_some_and(|o| o.eq_ignore_ascii_case(origin)),
    }
}

/// A navigation another site started (a link or a redirect from elsewhere). `none` is the user
/// typing the address or opening a bookmark.
pub(crate) fn is_cross_site(origin: &str, headers: &HeaderMap) -> bool {
    if let Some(site) = text(headers, &SEC_FETCH_SITE) {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(sent) = text(headers, &header::ORIGIN) {
        return !sent.eq_ignore_ascii_case(origin);
    }
    text(headers, &header::REFERER).is_some_and(|referer| !is_within(referer, origin))
}

/// Whether the URL `referer` is on `origin` (`https://app.test` matches `https://app.test/x`,
/// not `https://app.test.evil`).
fn is_within(referer: &str, origin: &str) -> bool {
    let Some(prefix) = referer.get(..origin.len()) else {
        return false;
    };
    prefix.eq_ignore_ascii_case(origin)
        && matches!(
            referer.as_bytes().get(origin.len()),
            None | Some(b'/' | b'?' | b'#')
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::test_headers as headers;

    const ME: &str = "https://app.test";

    #[test]
    fn same_origin_checks() {
        assert!(same_origin(ME, &headers(&[])));
        assert!(same_origin(ME, &headers(&[("origin", "https://app.test")])));
        assert!(!same_origin(
            ME,
            &headers(&[("origin", "https://evil.test")])
        ));
        assert!(!same_origin(ME, &headers(&[("origin", "null")])));
        assert!(same_origin(
            ME,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!same_origin(
            ME,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        assert!(!same_origin(
            ME,
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://app.test")
            ])
        ));
    }

    #[test]
    fn proof_of_same_origin_needs_a_header() {
        assert!(!proven_same_origin(ME, &headers(&[])));
        assert!(proven_same_origin(
            ME,
            &headers(&[("origin", "https://APP.test")])
        ));
        assert!(proven_same_origin(
            ME,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!proven_same_origin(
            ME,
            &headers(&[("sec-fetch-site", "none")])
        ));
        assert!(!proven_same_origin(ME, &headers(&[("origin", "null")])));
    }

    #[test]
    fn cross_site_navigations_are_recognised() {
        assert!(!is_cross_site(ME, &headers(&[])));
        assert!(!is_cross_site(ME, &headers(&[("sec-fetch-site", "none")])));
        assert!(!is_cross_site(
            ME,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(is_cross_site(
            ME,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        assert!(is_cross_site(
            ME,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(is_cross_site(
            ME,
            &headers(&[("origin", "https://evil.test")])
        ));
        assert!(!is_cross_site(
            ME,
            &headers(&[("referer", "https://app.test/page")])
        ));
        assert!(is_cross_site(
            ME,
            &headers(&[("referer", "https://app.test.evil/")])
        ));
        assert!(is_cross_site(
            ME,
            &headers(&[("referer", "https://evil.test/?https://app.test")])
        ));
    }
}
