//! A1: a login naming an organization, connection or provider the app does not admit is
//! refused with a page before any redirect to WorkOS, and no flow cookie is set.

use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use tower_workos_sso::testkit::{Endpoint, MockWorkOs};

use crate::support::forge::query_param;
use crate::support::harness::{self, Browser, location, set_cookies, signed_in};

const NOT_ADMITTED: &str = "does not accept sign-ins through that organization";

/// Every way to name something other than Acme's organization (the only one admitted), and
/// the status it gets: 403 when it is a well-formed selector not admitted, 400 when it is not
/// a selector at all.
const NOT_ACME: &[(&str, u16)] = &[
    ("organization=org_01GLOBEX", 403),
    (
        "organization=org_01GLOBEX&login_hint=carol%40globex.test",
        403,
    ),
    (
        "login_hint=carol%40globex.test&organization=org_01GLOBEX&return_to=%2F",
        403,
    ),
    ("organization=org_01NOSUCHORG", 403),
    // Acme's own connection, by id: admitting an organization does not admit it.
    ("connection=conn_01ACMEOKTA", 403),
    ("connection=conn_01GLOBEXENTRA", 403),
    ("connection=conn_01GOOGLE", 403),
    ("provider=GoogleOAuth", 403),
    ("provider=GoogleOAuth&login_hint=erin%40gmail.test", 403),
    ("provider=MicrosoftOAuth", 403),
    // Connection types the fake would route to Acme's or Globex's IdP.
    ("provider=OktaSAML", 403),
    ("provider=AzureSAML", 403),
    // Case variants of the admitted id and of a provider.
    ("organization=org_01acme", 403),
    ("organization=org_01Acme", 403),
    ("provider=GOOGLEOAUTH", 403),
    ("provider=GoogleOauth", 403),
    // Percent-encoded spellings decode to a selector that is checked like any other.
    ("organization=org_01%47LOBEX", 403),
    ("provider=Google%4FAuth", 403),
    ("%6Frganization=org_01GLOBEX", 403),
    // Not selectors at all.
    ("organization=ORG_01ACME", 400),
    ("organization=org_01ACME%00", 400),
    ("organization=+org_01ACME", 400),
    ("provider=googleOAuth", 400),
    ("Organization=org_01GLOBEX", 400),
    ("PROVIDER=GoogleOAuth", 400),
    ("Connection=conn_01ACMEOKTA", 400),
    // Several selectors, one of them admitted.
    ("organization=org_01ACME&organization=org_01GLOBEX", 400),
    ("organization=org_01GLOBEX&organization=org_01ACME", 400),
    ("organization=org_01ACME&provider=GoogleOAuth", 400),
    ("connection=conn_01GLOBEXENTRA&organization=org_01ACME", 400),
    ("organization=org_01ACME&Organization=org_01GLOBEX", 400),
];

/// The refusal every case above must get: the page, no cookie, no redirect, nothing echoed.
async fn assert_refused_before_workos(response: reqwest::Response, query: &str, status: u16) {
    assert_eq!(response.status().as_u16(), status, "{query}");
    assert!(
        set_cookies(&response).is_empty(),
        "{query}: a cookie was set"
    );
    assert!(response.headers().get("location").is_none(), "{query}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{query}"
    );
    let body = response.text().await.unwrap();
    for echoed in [
        "GLOBEX", "Globex", "carol", "Google", "Oauth", "NOSUCH", "acme",
    ] {
        assert!(!body.contains(echoed), "{query}: {echoed} echoed in {body}");
    }
    if status == 403 {
        assert!(body.contains(NOT_ADMITTED), "{query}: {body}");
    }
}

#[tokio::test]
async fn a1_every_way_to_name_a_selector_not_admitted_is_refused_before_workos() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    for &(query, status) in NOT_ACME {
        let url = app.url(&format!("/auth/login?{query}"));
        assert_refused_before_workos(browser.get(&url).await, query, status).await;
        // HEAD is answered like GET.
        let head = browser.client.head(&url).send().await.unwrap();
        assert_eq!(head.status().as_u16(), status, "HEAD {query}");
        assert!(set_cookies(&head).is_empty() && head.headers().get("location").is_none());
    }
    assert_eq!(
        app.workos.requests(Endpoint::Authorize),
        0,
        "the browser was never sent to WorkOS"
    );
    let jar = browser.jar.cookies(&app.base.parse().unwrap());
    assert!(jar.is_none(), "no flow cookie: {jar:?}");
    // The admitted default still signs in, with or without naming it.
    signed_in(&app).await;
    let named = browser
        .get(&app.url("/auth/login?organization=org_01ACME"))
        .await;
    assert_eq!(named.status(), StatusCode::FOUND);
    assert!(location(&named).starts_with(&app.workos.base_url()));
}

#[tokio::test]
async fn a1_allow_any_organization_admits_other_organizations_but_not_connections_or_providers() {
    let app = harness::start(|b| b.allow_any_organization()).await;
    let browser = Browser::new();
    let (hops, page) = browser
        .sign_in(
            &app,
            "organization=org_01GLOBEX&login_hint=carol%40globex.test",
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert_eq!(page.text().await.unwrap(), "home of carol@globex.test");
    // Any organization id goes to WorkOS (which decides whether it exists).
    let unknown = Browser::new()
        .get(&app.url("/auth/login?organization=org_01NOSUCHORG"))
        .await;
    assert_eq!(unknown.status(), StatusCode::FOUND);
    assert_eq!(
        query_param(&location(&unknown), "organization").as_deref(),
        Some("org_01NOSUCHORG")
    );
    let authorize_requests = app.workos.requests(Endpoint::Authorize);
    for query in [
        "connection=conn_01GLOBEXENTRA",
        "connection=conn_01ACMEOKTA",
        "provider=GoogleOAuth",
        "provider=AzureSAML&login_hint=carol%40globex.test",
    ] {
        let response = Browser::new()
            .get(&app.url(&format!("/auth/login?{query}")))
            .await;
        assert_refused_before_workos(response, query, 403).await;
    }
    assert_eq!(app.workos.requests(Endpoint::Authorize), authorize_requests);

    // Listed, they are admitted too.
    let listed = harness::start(|b| {
        b.allow_any_organization()
            .allowed_providers(["GoogleOAuth"])
            .allowed_connections(["conn_01GLOBEXENTRA"])
    })
    .await;
    for (query, email) in [
        ("provider=GoogleOAuth&login_hint=erin%40gmail.test", "erin"),
        (
            "connection=conn_01GLOBEXENTRA&login_hint=dave%40globex.test",
            "dave",
        ),
    ] {
        let (_, page) = Browser::new().sign_in(&listed, query).await;
        assert!(page.text().await.unwrap().contains(email), "{query}");
    }
}

#[tokio::test]
async fn a1_without_a_default_selector_or_allow_list_nothing_is_admitted() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_with(workos, |b| b).await;
    for query in [
        "organization=org_01ACME",
        "connection=conn_01ACMEOKTA",
        "provider=GoogleOAuth",
    ] {
        let response = Browser::new()
            .get(&app.url(&format!("/auth/login?{query}")))
            .await;
        assert_refused_before_workos(response, query, 403).await;
    }
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);
}

#[tokio::test]
async fn a1_an_idp_initiated_restart_obeys_the_admitted_set() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    // Globex's connection is of an organization not admitted, Google's of none. (Acme's own
    // connection restarts through the default organization: S11b.)
    for connection in ["conn_01GLOBEXENTRA", "conn_01GOOGLE"] {
        let response = browser
            .get(&app.url(&format!(
                "/auth/callback?error=idp_initiated_sso_disabled&connection_id={connection}"
            )))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{connection}");
        assert!(response.headers().get("location").is_none());
        assert!(set_cookies(&response).is_empty(), "no flow cookie");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert!(response.text().await.unwrap().contains(NOT_ADMITTED));
    }
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);

    // Admitted, the same callback restarts a login for that connection.
    let listed = harness::start(|b| b.allowed_connections(["conn_01GLOBEXENTRA"])).await;
    let response = browser
        .get(&listed.url(
            "/auth/callback?error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA",
        ))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        query_param(&location(&response), "connection").as_deref(),
        Some("conn_01GLOBEXENTRA")
    );
}
