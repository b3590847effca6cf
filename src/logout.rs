//! `POST /auth/logout`: same-origin only, clears the session cookie, revokes the session where
//! a store is configured.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, Response, StatusCode, header};

use crate::layer::Shared;
use crate::response::{self, OwnBody};
use crate::session::Presented;

/// The outcome of the synchronous part of a logout.
pub(crate) enum Logout {
    Respond(Response<OwnBody>),
    /// Revoke this session in the store, then send the response.
    Revoke {
        session_id: String,
        until: SystemTime,
        response: Response<OwnBody>,
    },
}

pub(crate) fn begin(shared: &Shared, method: &Method, headers: &HeaderMap) -> Logout {
    if method != Method::POST {
        return Logout::Respond(response::method_not_allowed("POST"));
    }
    if !same_origin(&shared.config.origin, headers) {
        return Logout::Respond(response::json_error(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "logout must come from this site",
        ));
    }

    let mut response = response::redirect(StatusCode::SEE_OTHER, &shared.config.after_logout);
    response
        .headers_mut()
        .append(header::SET_COOKIE, shared.sessions.clear_cookie());
    response::no_store(&mut response);

    let token = match shared.sessions.presented(headers) {
        Presented::Cookie(token) | Presented::Bearer(token) => token,
        Presented::None | Presented::Ambiguous => return Logout::Respond(response),
    };
    match (
        &shared.config.store,
        shared.sessions.verify(token, shared.now()),
    ) {
        (Some(_), Ok(verified)) => Logout::Revoke {
            session_id: verified.claims.sid,
            until: UNIX_EPOCH
                + Duration::from_secs(verified.claims.exp + shared.config.leeway.as_secs()),
            response,
        },
        _ => Logout::Respond(response),
    }
}

/// A cross-site form cannot log users out: browsers say where a POST comes from in
/// `Sec-Fetch-Site` or `Origin`. Clients that send neither (curl, servers) are not browsers.
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    match header(header::ORIGIN.as_str()) {
        Some(sent) => sent.eq_ignore_ascii_case(origin),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn same_origin_checks() {
        let me = "https://app.test";
        assert!(same_origin(me, &headers(&[])));
        assert!(same_origin(me, &headers(&[("origin", "https://app.test")])));
        assert!(!same_origin(
            me,
            &headers(&[("origin", "https://evil.test")])
        ));
        assert!(!same_origin(me, &headers(&[("origin", "null")])));
        assert!(same_origin(
            me,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!same_origin(
            me,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        assert!(!same_origin(
            me,
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://app.test")
            ])
        ));
    }
}
