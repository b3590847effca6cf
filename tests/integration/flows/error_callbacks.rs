//! The callback's `?error=` answers: each known WorkOS error code gets its fixed page and status.
//!
//! The other failure paths live with the property they prove, in `security`: `callback_state`
//! (state, replay, PKCE), `flow_cookies`, `error_and_idp_initiated_callbacks` and
//! `workos_faults` (WorkOS faults).

use reqwest::StatusCode;

use crate::support::harness::{self, Browser, SESSION_COOKIE};

#[tokio::test]
async fn error_callbacks_show_a_fixed_escaped_page_and_no_session() {
    let app = harness::start(|b| b).await;
    for (error, status) in [
        ("access_denied", StatusCode::FORBIDDEN),
        ("connection_invalid", StatusCode::BAD_REQUEST),
        ("server_error", StatusCode::BAD_GATEWAY),
        ("a_code_invented_tomorrow", StatusCode::BAD_REQUEST),
        (
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let browser = Browser::new();
        let url = app.url(&format!(
            "/auth/callback?error={error}&error_description=%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E%20Call%20555-0100"
        ));
        let response = browser.get(&url).await;
        assert_eq!(response.status(), status, "{error}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("<script>"), "{body}");
        assert!(
            !body.contains("555-0100"),
            "error_description is never shown"
        );
        assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    }
}
