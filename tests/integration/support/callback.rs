//! What a callback the layer refuses must look like, for the login-flow tests of SECURITY.md
//! (S1-S13).

use reqwest::StatusCode;

use crate::support::harness::{App, SESSION_COOKIE, set_cookies};

/// Whether `response` sets a session cookie (clearing one with `Max-Age=0` does not count).
pub fn sets_a_session(response: &reqwest::Response) -> bool {
    set_cookies(response)
        .iter()
        .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=")) && !c.contains("Max-Age=0"))
}

/// A refused callback: 400, the crate's page offering a fresh login, private, no session.
pub async fn assert_refused(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
    assert!(!sets_a_session(&response), "{what}: no session");
    assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    assert_eq!(
        response.headers()["referrer-policy"],
        "no-referrer",
        "{what}"
    );
    assert!(response.headers().get("location").is_none(), "{what}");
    let body = response.text().await.unwrap();
    assert!(body.contains("Sign in again"), "{what}: {body}");
}

/// The URL of `app`'s callback with exactly this query.
pub fn callback_with(app: &App, query: &str) -> String {
    app.url(&format!("/auth/callback?{query}"))
}
