//! SECURITY.md S10-S12: callbacks that carry no flow of this browser. `?error=` callbacks never
//! render WorkOS's description (S10), `idp_initiated_sso_disabled` restarts once for a valid
//! connection (S11), and unsolicited IdP-initiated codes are refused unless opted in (S12).
//!
//! Each test drives the real layer over HTTP with the testkit fake as WorkOS, and checks three
//! things on every refusal: the status, that no session cookie was set, and (where the property
//! says so) that WorkOS was never called.

use reqwest::StatusCode;
use tower_workos_sso::IdpInitiatedLogin;
use tower_workos_sso::testkit::Endpoint;

use crate::support::callback::{assert_refused, callback_with, sets_a_session};
use crate::support::forge::{assert_no_store_if_cookie, query_param, start_login};
use crate::support::harness::{self, Browser, SESSION_COOKIE, location};

#[tokio::test]
async fn s10_error_callbacks_never_render_the_description_and_set_no_session() {
    let app = harness::start(|b| b.allowed_organizations(["org_01GLOBEX"])).await;
    let descriptions = [
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        "javascript%3Aalert(document.cookie)",
        "Call%20us%20at%20555-0100%0D%0ASet-Cookie%3A%20x%3Dy",
        "%E2%80%AEevil%20%F0%9F%98%88%20text",
        "UNIQUE-MARKER-7d1f",
    ];
    let browser = Browser::new();
    for (i, description) in descriptions.iter().enumerate() {
        // Half of them carry the browser's own state, as WorkOS would.
        let login = start_login(
            &app,
            &browser,
            "login_hint=carol%40globex.test&organization=org_01GLOBEX",
        )
        .await;
        let mut query = format!("error=access_denied&error_description={description}");
        if i % 2 == 0 {
            query.push_str(&format!("&state={}", login.state));
        }
        let response = browser.get(&callback_with(&app, &query)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{description}");
        assert!(!sets_a_session(&response));
        assert!(response.headers().get("location").is_none());
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        let body = response.text().await.unwrap();
        for raw in [
            "<script",
            "onerror",
            "javascript:",
            "555-0100",
            "Set-Cookie",
            "evil",
            "UNIQUE-MARKER",
        ] {
            assert!(!body.contains(raw), "{raw} rendered in {body}");
        }
        if i % 2 == 0 {
            // A retry of the same kind of login is offered.
            assert!(body.contains("organization=org_01GLOBEX"), "{body}");
        }
    }
    // Malformed error values get the generic page, never reflected.
    for error in ["%3Cb%3Ebold%3C%2Fb%3E", "a%0Ab", &"x".repeat(3000)] {
        let response = browser
            .get(&callback_with(&app, &format!("error={error}")))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = response.text().await.unwrap();
        assert!(!body.contains("<b>") && !body.contains("xxxx"), "{body}");
    }
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
}

#[tokio::test]
async fn s11_idp_initiated_disabled_restarts_once_for_a_valid_connection_and_never_loops() {
    let app = harness::start(|b| b.allowed_connections(["conn_01GLOBEXENTRA"])).await;
    let browser = Browser::new();
    let response = browser
        .get(&callback_with(
            &app,
            "error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA",
        ))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_no_store_if_cookie(&response, "restart");
    let authorize = location(&response);
    assert!(authorize.starts_with(&format!("{}/sso/authorize?", app.workos.base_url())));
    assert_eq!(
        query_param(&authorize, "connection").as_deref(),
        Some("conn_01GLOBEXENTRA")
    );
    assert_eq!(query_param(&authorize, "organization"), None);
    // WorkOS answering the restarted flow (its own state) with the same error does not
    // restart again: a page, not another redirect.
    let state = query_param(&authorize, "state").unwrap();
    let again = browser
        .get(&callback_with(
            &app,
            &format!(
                "error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA&state={state}"
            ),
        ))
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.headers().get("location").is_none());
    // The id is validated before it goes anywhere.
    for bad in [
        "conn_01%22%3E%3Cscript%3E",
        "conn_",
        "org_01ACME",
        "https%3A%2F%2Fevil.test",
        "conn_01%26organization%3Dorg_01ACME",
        "",
    ] {
        let response = browser
            .get(&callback_with(
                &app,
                &format!("error=idp_initiated_sso_disabled&connection_id={bad}"),
            ))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(response.headers().get("location").is_none());
    }
    // The restarted flow completes like any other.
    let (_, page) = browser.follow(&authorize).await;
    assert_eq!(page.status(), StatusCode::OK, "the sign-in page for Globex");
    assert!(page.text().await.unwrap().contains("carol@globex.test"));
}

#[tokio::test]
async fn s12_unsolicited_codes_are_rejected_by_default_and_restarted_only_when_opted_in() {
    let app = harness::start(|b| b).await;
    let code = app
        .workos
        .issue_code("alice@example.com", &app.url("/auth/callback"), None)
        .unwrap();
    let browser = Browser::new();
    assert_refused(
        browser
            .get(&callback_with(&app, &format!("code={code}")))
            .await,
        "IdP-initiated, default policy",
    )
    .await;
    assert_eq!(app.workos.requests(Endpoint::Token), 0);
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);

    // Opted in: the code is discarded and a fresh SP-initiated login (with state and PKCE)
    // starts; completing it signs the user in.
    let opted =
        harness::start(|b| b.idp_initiated_login(IdpInitiatedLogin::RestartWithDefaultSelector))
            .await;
    let code = opted
        .workos
        .issue_code("alice@example.com", &opted.url("/auth/callback"), None)
        .unwrap();
    let browser = Browser::new();
    let restart = browser
        .get(&opted.url(&format!("/auth/callback?code={code}")))
        .await;
    assert_eq!(restart.status(), StatusCode::FOUND);
    assert_no_store_if_cookie(&restart, "restart");
    let authorize = location(&restart);
    assert_eq!(
        query_param(&authorize, "organization").as_deref(),
        Some("org_01ACME")
    );
    assert!(query_param(&authorize, "state").is_some());
    assert!(query_param(&authorize, "code_challenge").is_some());
    assert_eq!(opted.workos.requests(Endpoint::Token), 0, "never exchanged");
    // The user picks who they are at the IdP (here: the fake's login_hint shortcut).
    let with_hint = format!("{authorize}&login_hint=alice%40example.com");
    let (_, page) = browser.follow(&with_hint).await;
    assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
    assert_eq!(opted.workos.requests(Endpoint::Token), 1);

    // Opted in but with no default selector: nothing to restart with, so refused.
    let bare = harness::start_with(
        tower_workos_sso::testkit::MockWorkOs::start()
            .await
            .unwrap(),
        |b| b.idp_initiated_login(IdpInitiatedLogin::RestartWithDefaultSelector),
    )
    .await;
    let code = bare
        .workos
        .issue_code("alice@example.com", &bare.url("/auth/callback"), None)
        .unwrap();
    assert_refused(
        Browser::new()
            .get(&bare.url(&format!("/auth/callback?code={code}")))
            .await,
        "no default selector",
    )
    .await;
    assert_eq!(bare.workos.requests(Endpoint::Token), 0);
}
