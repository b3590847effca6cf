//! Admin Portal links: an admin-only route generates one for the admin's own organization;
//! members never reach it, and WorkOS's refusals map to errors.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_workos_sso::client::{PortalIntent, WorkOsClient, WorkOsError};
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs};
use tower_workos_sso::{Guard, Profile, SsoLayer};

use super::app;
use crate::support::harness::{Browser, location};

/// `GET /admin/portal`: the Admin Portal of the signed-in admin's organization.
async fn portal(State(workos): State<WorkOsClient>, profile: Profile) -> Response {
    let Some(organization) = profile.organization_id.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match workos
        .generate_portal_link(
            organization,
            PortalIntent::Sso,
            Some("http://localhost:3000/admin"),
        )
        .await
    {
        Ok(link) => Redirect::to(link.url()).into_response(),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

fn routes(sso: &SsoLayer) -> Router {
    Router::new()
        .route("/admin/portal", get(portal))
        .route_layer(sso.require(Guard::role("admin")))
        .with_state(sso.workos().clone())
}

#[tokio::test]
async fn only_a_guarded_admin_gets_an_admin_portal_link_for_their_organization() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = app::start(workos, |b| b, routes).await;

    let member = Browser::new();
    member
        .follow(&app.url("/auth/login?login_hint=bob%40example.com"))
        .await;
    let refused = member.get(&app.url("/admin/portal")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.workos.requests(Endpoint::Portal), 0);

    let admin = Browser::new();
    admin
        .follow(&app.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    let answer = admin.get(&app.url("/admin/portal")).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let link = location(&answer);
    assert!(
        link.starts_with(&format!("{}/portal/launch?secret=", app.workos.base_url())),
        "{link}"
    );
    assert!(link.contains("intent=sso"));
    assert_eq!(app.workos.requests(Endpoint::Portal), 1);
}

#[tokio::test]
async fn portal_link_refusals_map_to_errors_and_links_stay_out_of_debug() {
    let fake = MockWorkOs::start().await.unwrap();
    let workos = WorkOsClient::with_api_key(fake.api_key(), &fake.base_url()).unwrap();
    let link = workos
        .generate_portal_link("org_01GLOBEX", PortalIntent::Sso, None)
        .await
        .unwrap();
    assert!(!format!("{link:?}").contains("secret"));
    assert_eq!(
        workos
            .generate_portal_link("org_01NOBODY", PortalIntent::Sso, None)
            .await
            .unwrap_err(),
        WorkOsError::NotFound
    );
    let bad_return = workos
        .generate_portal_link(
            "org_01GLOBEX",
            PortalIntent::Sso,
            Some("javascript:alert(1)"),
        )
        .await;
    assert!(matches!(bad_return, Err(WorkOsError::InvalidInput(_))));
    let stranger = WorkOsClient::with_api_key("sk_test_nobody", &fake.base_url()).unwrap();
    let refused = stranger
        .generate_portal_link("org_01GLOBEX", PortalIntent::Sso, None)
        .await
        .unwrap_err();
    assert!(matches!(refused, WorkOsError::Rejected { status: 401, .. }));
}

#[tokio::test]
async fn each_admin_s_portal_link_is_asked_for_their_own_organization() {
    let workos = MockWorkOs::start_with(app::seed_with_oidc()).await.unwrap();
    let app = app::start(
        workos,
        |b| b.allowed_organizations(["org_01INITECH"]),
        routes,
    )
    .await;
    for (query, organization) in [
        ("login_hint=alice%40example.com", "org_01ACME"),
        (
            "organization=org_01INITECH&login_hint=peter%40initech.test",
            "org_01INITECH",
        ),
    ] {
        let admin = Browser::new();
        admin
            .follow(&app.url(&format!("/auth/login?{query}")))
            .await;
        let answer = admin.get(&app.url("/admin/portal")).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{organization}");
        let asked = app.workos.portal_requests();
        let last = asked.last().unwrap();
        assert_eq!(last.organization, organization);
        assert_eq!(last.intent, "sso");
        assert_eq!(
            last.return_url.as_deref(),
            Some("http://localhost:3000/admin")
        );
    }
    assert_eq!(app.workos.portal_requests().len(), 2);
}

#[tokio::test]
async fn portal_link_faults_map_to_errors_that_leak_nothing() {
    let fake = MockWorkOs::start().await.unwrap();
    let config = crate::support::harness::config_for(&fake, "http://localhost:3000")
        .workos_timeouts(Duration::from_millis(300), Duration::from_millis(300))
        .build()
        .unwrap();
    let workos = WorkOsClient::new(&config);
    let leaky = serde_json::json!({
        "error": "server_error",
        "link": "https://portal.test/launch?secret=LEAKED-PORTAL-SECRET",
        "error_description": "LEAKED-DESCRIPTION",
    })
    .to_string();
    let cases = [
        (
            Fault::Status {
                status: 500,
                headers: Vec::new(),
                body: leaky.clone(),
            },
            WorkOsError::ServerError { status: 500 },
        ),
        (Fault::status(502), WorkOsError::ServerError { status: 502 }),
        (Fault::status(503), WorkOsError::ServerError { status: 503 }),
        (Fault::Hang, WorkOsError::Timeout),
        (Fault::Delay(Duration::from_secs(1)), WorkOsError::Timeout),
        (
            Fault::Body(b"{\"link\":".to_vec()),
            WorkOsError::BadResponse("the portal answer is not the expected JSON"),
        ),
    ];
    for (fault, expected) in cases {
        let case = format!("{fault:?}");
        fake.set_fault(Endpoint::Portal, Some(fault));
        let error = workos
            .generate_portal_link("org_01ACME", PortalIntent::Sso, None)
            .await
            .unwrap_err();
        assert_eq!(error, expected, "{case}");
        let shown = format!("{error} {error:?} {:?}", error.hint());
        for secret in ["LEAKED", fake.api_key(), "secret="] {
            assert!(!shown.contains(secret), "{case}: {shown}");
        }
    }
    assert!(
        fake.portal_requests().is_empty(),
        "no fault reached the handler"
    );

    // The app's admin route answers its own error, with nothing of WorkOS's answer.
    let app = app::start(fake, |b| b, routes).await;
    app.workos.set_fault(
        Endpoint::Portal,
        Some(Fault::Status {
            status: 500,
            headers: Vec::new(),
            body: leaky,
        }),
    );
    let admin = Browser::new();
    admin
        .follow(&app.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    let answer = admin.get(&app.url("/admin/portal")).await;
    assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
    assert!(!answer.text().await.unwrap().contains("LEAKED"));
}
