//! SECURITY.md S11b: an `idp_initiated_sso_disabled` callback for a connection not listed by id
//! restarts only when WorkOS says (`GET /connections/{id}`) it is an active connection of an
//! admitted organization; the answer is cached, the look-ups at once are capped and each has a
//! deadline. Everything else, an unknown or inactive connection included, gets the 403 page.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs, Seed, SeedConnection};

use crate::support::forge::query_param;
use crate::support::harness::{self, App, Browser, SESSION_COOKIE, location, set_cookies};

const NOT_ADMITTED: &str = "does not accept sign-ins through that organization";

/// How an identity provider's redirect reaches the callback: a cross-site navigation.
const FROM_THE_IDP: [(&str, &str); 2] = [
    ("sec-fetch-site", "cross-site"),
    ("sec-fetch-mode", "navigate"),
];

/// `GET` the restart callback for `connection`, with `headers`.
async fn restart(
    app: &App,
    browser: &Browser,
    connection: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = browser
        .client
        .get(app.url(&format!(
            "/auth/callback?error=idp_initiated_sso_disabled&connection_id={connection}"
        )))
        .header("accept", "text/html");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The authorize URL a restart redirected to, checked to be WorkOS's.
fn authorize_url(app: &App, response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::FOUND);
    let url = location(response);
    assert!(
        url.starts_with(&format!("{}/sso/authorize?", app.workos.base_url())),
        "{url}"
    );
    url
}

/// A refused restart: the 403 page, no redirect, no cookie, not cached.
async fn assert_not_admitted(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    assert!(response.headers().get("location").is_none(), "{what}");
    assert!(set_cookies(&response).is_empty(), "{what}: no flow cookie");
    assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let body = response.text().await.unwrap();
    assert!(body.contains(NOT_ADMITTED), "{what}: {body}");
}

#[tokio::test]
async fn s11b_a_connection_of_the_default_organization_restarts_and_signs_in() {
    // Only the default organization (Acme) is admitted: its Okta connection is not listed.
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let response = restart(&app, &browser, "conn_01ACMEOKTA", &FROM_THE_IDP).await;
    let authorize = authorize_url(&app, &response);
    assert_eq!(
        query_param(&authorize, "connection").as_deref(),
        Some("conn_01ACMEOKTA"),
        "a login for that connection"
    );
    assert_eq!(query_param(&authorize, "organization"), None);
    assert_eq!(response.headers()["cache-control"], "no-store");

    // The restarted flow completes like any other.
    let (hops, page) = browser
        .follow(&format!("{authorize}&login_hint=alice%40example.com"))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
    assert!(browser.cookie(&app.base, SESSION_COOKIE).is_some());

    // WorkOS answering the restarted flow (its own state, in the browser that holds its flow)
    // with the same error does not restart it again.
    let other = Browser::new();
    let again = restart(&app, &other, "conn_01ACMEOKTA", &[]).await;
    let state = query_param(&authorize_url(&app, &again), "state").unwrap();
    let looped = other
        .get(&app.url(&format!(
            "/auth/callback?error=idp_initiated_sso_disabled&connection_id=conn_01ACMEOKTA&state={state}"
        )))
        .await;
    assert!(looped.headers().get("location").is_none());
    assert_eq!(looped.status(), StatusCode::BAD_REQUEST);

    // The connection's organization was asked of WorkOS once: the answer is remembered.
    assert_eq!(app.workos.requests(Endpoint::Connections), 1);
}

#[tokio::test]
async fn s11b_a_listed_organizations_connection_is_confirmed_naming_the_organization() {
    let app = harness::start(|b| b.allowed_organizations(["org_01GLOBEX"])).await;
    let browser = Browser::new();
    let page = restart(&app, &browser, "conn_01GLOBEXENTRA", &FROM_THE_IDP).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers().get("location").is_none());
    assert!(
        set_cookies(&page).is_empty(),
        "no flow before the confirmation"
    );
    let body = page.text().await.unwrap();
    assert!(body.contains("Confirm sign-in"), "{body}");
    assert!(body.contains("org_01GLOBEX"), "{body}");
    let start = body.find(r#"action=""#).unwrap() + r#"action=""#.len();
    let end = start + body[start..].find('"').unwrap();
    let action = app.url(&body[start..end].replace("&amp;", "&"));
    assert_eq!(
        query_param(&action, "organization").as_deref(),
        Some("org_01GLOBEX")
    );

    // Confirmed on the page itself, it signs in with Globex.
    let accepted = browser
        .client
        .post(&action)
        .header("origin", app.base.as_str())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    let authorize = authorize_url(&app, &accepted);
    let (_, home) = browser
        .follow(&format!("{authorize}&login_hint=carol%40globex.test"))
        .await;
    assert_eq!(home.text().await.unwrap(), "home of carol@globex.test");

    // Not started by another site (no browser headers), it goes straight to the connection.
    let direct = restart(&app, &Browser::new(), "conn_01GLOBEXENTRA", &[]).await;
    assert_eq!(
        query_param(&authorize_url(&app, &direct), "connection").as_deref(),
        Some("conn_01GLOBEXENTRA")
    );
}

#[tokio::test]
async fn s11b_unknown_inactive_and_unadmitted_connections_get_the_403_page() {
    let mut seed = Seed::default();
    let acme = seed.connections[0].clone();
    assert_eq!(acme.organization_id.as_deref(), Some("org_01ACME"));
    seed.connections.push(SeedConnection {
        id: "conn_01ACMEOLDIDP".into(),
        state: "inactive".into(),
        domains: Vec::new(),
        ..acme
    });
    let workos = MockWorkOs::start_with(seed).await.unwrap();
    let app = harness::start_with(workos, |b| {
        b.default_selector(tower_workos_sso::Selector::organization("org_01ACME").unwrap())
    })
    .await;
    let browser = Browser::new();
    for connection in [
        "conn_01NOSUCHCONNECTION", // unknown to WorkOS
        "conn_01ACMEOLDIDP",       // Acme's, but inactive
        "conn_01GLOBEXENTRA",      // active, of an organization not admitted
        "conn_01GOOGLE",           // active, of no organization
    ] {
        for headers in [&FROM_THE_IDP[..], &[]] {
            let response = restart(&app, &browser, connection, headers).await;
            assert_not_admitted(response, connection).await;
        }
    }
    assert_eq!(browser.cookie(&app.base, SESSION_COOKIE), None);
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);
    // Each was asked once; the refusals are remembered too.
    assert_eq!(app.workos.requests(Endpoint::Connections), 4);

    // Without any organization admitted, nothing is asked.
    let listed = harness::start_with(MockWorkOs::start().await.unwrap(), |b| {
        b.allowed_connections(["conn_01GLOBEXENTRA"])
    })
    .await;
    let response = restart(&listed, &browser, "conn_01ACMEOKTA", &[]).await;
    assert_not_admitted(response, "no organization admitted").await;
    assert_eq!(listed.workos.requests(Endpoint::Connections), 0);
}

#[tokio::test]
async fn s11b_a_slow_or_failing_connections_api_gets_a_503_and_is_not_remembered() {
    let app = harness::start(|b| b.domain_lookup_timeout(Duration::from_millis(300))).await;
    let browser = Browser::new();
    for fault in [Fault::Hang, Fault::status(500), Fault::status(429)] {
        app.workos
            .set_fault(Endpoint::Connections, Some(fault.clone()));
        let response = restart(&app, &browser, "conn_01ACMEOKTA", &FROM_THE_IDP).await;
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{fault:?}"
        );
        assert!(response.headers().get("location").is_none());
        assert!(set_cookies(&response).is_empty());
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);
    // WorkOS back: the failures were not remembered.
    app.workos.set_fault(Endpoint::Connections, None);
    let response = restart(&app, &browser, "conn_01ACMEOKTA", &FROM_THE_IDP).await;
    authorize_url(&app, &response);
}

#[tokio::test]
async fn s11b_look_ups_at_once_are_capped() {
    // The cap is the domain look-ups' (16). Sixteen restarts for different connections hang at
    // WorkOS; the seventeenth is answered at once and never reaches it.
    let app = harness::start(|b| b.domain_lookup_timeout(Duration::from_secs(60))).await;
    app.workos
        .set_fault(Endpoint::Connections, Some(Fault::Hang));
    let hung: Vec<_> = (0..16)
        .map(|i| {
            let url = app.url(&format!(
                "/auth/callback?error=idp_initiated_sso_disabled&connection_id=conn_01HUNG{i:02}"
            ));
            tokio::spawn(async move { Browser::new().get(&url).await.status() })
        })
        .collect();
    while app.workos.requests(Endpoint::Connections) < 16 {
        tokio::task::yield_now().await;
    }
    let response = restart(&app, &Browser::new(), "conn_01ACMEOKTA", &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("location").is_none());
    assert_eq!(app.workos.requests(Endpoint::Connections), 16);
    for task in hung {
        assert!(!task.is_finished(), "still waiting for WorkOS");
        task.abort();
    }
}
