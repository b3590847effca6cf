//! U1: IdP logout ends the app's session first, always; then the browser goes to WorkOS's
//! logout URL, or, where WorkOS cannot end the IdP session, the answer says "this app only".

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::Selector;
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs};

use super::app::seed_with_oidc;
use crate::support::harness::{
    self, App, Browser, SESSION_COOKIE, api_get_json, location, set_cookies,
};

async fn start(idp_logout: bool, timeouts: Duration) -> App {
    let workos = MockWorkOs::start_with(seed_with_oidc()).await.unwrap();
    harness::start_with(workos, move |b| {
        b.default_selector(Selector::organization("org_01INITECH").unwrap())
            .allowed_organizations(["org_01ACME"])
            .idp_logout(idp_logout)
            .workos_timeouts(timeouts, timeouts)
    })
    .await
}

/// Signs `email` in through `organization`; the browser and its session token.
async fn sign_in(app: &App, organization: &str, email: &str) -> (Browser, String) {
    let browser = Browser::new();
    let query = format!(
        "organization={organization}&login_hint={}",
        email.replace('@', "%40")
    );
    let (_, page) = browser.sign_in(app, &query).await;
    assert_eq!(page.text().await.unwrap(), format!("home of {email}"));
    let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    (browser, token)
}

async fn logout(app: &App, browser: &Browser, accept: &str) -> reqwest::Response {
    browser
        .client
        .post(app.url("/auth/logout"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

/// The session token no longer works, as cookie-less bearer.
async fn assert_revoked(app: &App, token: &str) {
    let response = harness::api()
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the session lives on"
    );
}

fn clears_the_session(response: &reqwest::Response) -> bool {
    set_cookies(response)
        .iter()
        .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0"))
}

#[tokio::test]
async fn u1_idp_logout_ends_the_app_session_then_sends_the_browser_to_the_idp_logout() {
    let app = start(true, Duration::from_secs(3)).await;
    app.workos.set_logout_redirect(Some(&app.url("/public")));
    let (browser, token) = sign_in(&app, "org_01INITECH", "peter@initech.test").await;

    let answer = logout(&app, &browser, "text/html").await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(clears_the_session(&answer), "{:?}", set_cookies(&answer));
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let idp = location(&answer);
    assert!(
        idp.starts_with(&format!("{}/sso/logout?token=", app.workos.base_url())),
        "{idp}"
    );
    assert_revoked(&app, &token).await;

    // The browser follows: the IdP session ends and WorkOS sends it to the logout redirect.
    let (hops, page) = browser.follow(&idp).await;
    assert_eq!(hops.last().unwrap(), &app.url("/public"));
    assert_eq!(page.text().await.unwrap(), "public, anonymous");
    assert_eq!(app.workos.idp_logouts(), ["prof_01PETER"]);
    // The logout token is single use.
    assert_eq!(browser.get(&idp).await.status(), StatusCode::NOT_FOUND);

    // An API client gets the URL as JSON.
    let (browser, token) = sign_in(&app, "org_01INITECH", "peter@initech.test").await;
    let answer = logout(&app, &browser, "application/json").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(clears_the_session(&answer));
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["signed_out"], "idp");
    assert!(
        body["logout_url"]
            .as_str()
            .unwrap()
            .contains("/sso/logout?token=")
    );
    assert_revoked(&app, &token).await;
}

#[tokio::test]
async fn u1_where_workos_cannot_end_the_idp_session_logout_is_local_and_says_so() {
    let app = start(true, Duration::from_millis(700)).await;
    let faults = [
        ("unsupported connection", None),
        ("5xx", Some(Fault::status(500))),
        ("rate limited", Some(Fault::status(429))),
        (
            "malformed answer",
            Some(Fault::Body(b"{\"logout_url\":1}".to_vec())),
        ),
        (
            "not a URL",
            Some(Fault::Body(
                br#"{"logout_url":"javascript:alert(1)","logout_token":"t"}"#.to_vec(),
            )),
        ),
        ("hanging", Some(Fault::Hang)),
    ];
    for (case, fault) in faults {
        // Alice signs in through Acme's Okta SAML: WorkOS refuses SLO for it (connection_invalid).
        let (email, organization) = if fault.is_none() {
            ("alice@example.com", "org_01ACME")
        } else {
            ("peter@initech.test", "org_01INITECH")
        };
        app.workos.set_fault(Endpoint::LogoutAuthorize, fault);
        for accept in ["text/html", "application/json"] {
            let (browser, token) = sign_in(&app, organization, email).await;
            let answer = logout(&app, &browser, accept).await;
            assert_eq!(answer.status(), StatusCode::OK, "{case}");
            assert!(clears_the_session(&answer), "{case}");
            assert_eq!(answer.headers()["cache-control"], "no-store");
            if accept == "text/html" {
                let page = answer.text().await.unwrap();
                assert!(page.contains("Signed out of this app"), "{case}: {page}");
            } else {
                let body: serde_json::Value = answer.json().await.unwrap();
                assert_eq!(body["signed_out"], "local", "{case}");
            }
            assert_revoked(&app, &token).await;
            assert_eq!(
                browser.get(&app.url("/")).await.status(),
                StatusCode::SEE_OTHER
            );
        }
    }
    assert!(app.workos.idp_logouts().is_empty());
}

#[tokio::test]
async fn u1_the_app_session_is_revoked_before_workos_is_asked() {
    let app = start(true, Duration::from_secs(3)).await;
    let (browser, token) = sign_in(&app, "org_01INITECH", "peter@initech.test").await;
    app.workos
        .set_fault(Endpoint::LogoutAuthorize, Some(Fault::Hang));
    let request = {
        let client = browser.client.clone();
        let url = app.url("/auth/logout");
        let origin = app.base.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .header("origin", origin)
                .header("accept", "text/html")
                .send()
                .await
                .unwrap()
        })
    };
    // While WorkOS keeps the logout waiting, the session is already refused.
    let mut waited = 0;
    while app.workos.requests(Endpoint::LogoutAuthorize) == 0 {
        assert!(waited < 300, "the logout never reached WorkOS");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_revoked(&app, &token).await;
    let answer = request.await.unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "a timeout falls back to local logout"
    );
}

#[tokio::test]
async fn without_idp_logout_workos_is_never_asked() {
    let app = start(false, Duration::from_secs(3)).await;
    let (browser, token) = sign_in(&app, "org_01INITECH", "peter@initech.test").await;
    let answer = logout(&app, &browser, "text/html").await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], "/");
    assert_revoked(&app, &token).await;
    assert_eq!(app.workos.requests(Endpoint::LogoutAuthorize), 0);
    let anonymous = api_get_json(&app.url("/api/me")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn u1_logout_authorize_5xx_and_timeouts_end_the_app_session_locally_and_say_so() {
    let app = start(true, Duration::from_millis(500)).await;
    let faults = [
        Fault::status(502),
        Fault::status(503),
        Fault::status(504),
        Fault::Delay(Duration::from_secs(1)),
        Fault::Hang,
    ];
    for fault in faults {
        let case = format!("{fault:?}");
        app.workos.set_fault(Endpoint::LogoutAuthorize, Some(fault));
        let (browser, token) = sign_in(&app, "org_01INITECH", "peter@initech.test").await;
        let answer = logout(&app, &browser, "application/json").await;
        assert_eq!(answer.status(), StatusCode::OK, "{case}");
        assert!(clears_the_session(&answer), "{case}");
        assert_eq!(answer.headers()["cache-control"], "no-store");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["signed_out"], "local", "{case}");
        assert_eq!(body["idp_logout"], "unavailable", "{case}");
        assert!(body.get("logout_url").is_none(), "{case}");
        assert_revoked(&app, &token).await;
    }
    assert!(app.workos.idp_logouts().is_empty());
}

#[tokio::test]
async fn u1_a_failing_logout_redirect_at_workos_leaves_the_app_session_ended() {
    let app = start(true, Duration::from_secs(3)).await;
    for fault in [Fault::status(500), Fault::status(503), Fault::Hang] {
        let case = format!("{fault:?}");
        app.workos.set_fault(Endpoint::Logout, None);
        let (browser, token) = sign_in(&app, "org_01INITECH", "peter@initech.test").await;
        let answer = logout(&app, &browser, "text/html").await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{case}");
        assert!(clears_the_session(&answer), "{case}");
        let idp = location(&answer);

        // WorkOS fails the browser's visit: the app's session is gone all the same.
        app.workos.set_fault(Endpoint::Logout, Some(fault));
        let visit = browser
            .client
            .get(&idp)
            .timeout(Duration::from_millis(300))
            .send()
            .await;
        match visit {
            Ok(failed) => assert!(failed.status().is_server_error(), "{case}"),
            Err(error) => assert!(error.is_timeout(), "{case}: {error}"),
        }
        assert_revoked(&app, &token).await;
        assert_eq!(
            browser.get(&app.url("/")).await.status(),
            StatusCode::SEE_OTHER,
            "{case}: signed out of the app"
        );
    }
    assert!(app.workos.idp_logouts().is_empty());
    assert_eq!(app.workos.requests(Endpoint::Logout), 3);
}
