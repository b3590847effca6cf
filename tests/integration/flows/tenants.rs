//! Tenants: a resolver tells each request's organization from its path, host or a header; the
//! login needs no query there, handlers get the `Tenant`, a session of another organization
//! is no session on a tenant's routes, and IdP-initiated sign-ins restart for the tenant.

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{
    IdpInitiatedLogin, Profile, Selector, SsoConfigBuilder, Tenant, TenantResolver,
};

use crate::support::forge::query_param;
use crate::support::harness::{self, App, Browser, SESSION_COOKIE, api, location, set_cookies};

fn org(id: &str) -> Selector {
    Selector::organization(id).unwrap()
}

/// `/t/{tenant}/` pages and APIs, and pages outside any tenant.
fn routes() -> Router {
    Router::new()
        .route(
            "/t/{slug}/",
            get(|p: Profile, t: Option<Tenant>| async move {
                let org = t.as_ref().and_then(Tenant::organization_id).unwrap_or("-");
                format!("{org} home of {}", p.email)
            }),
        )
        .route(
            "/t/{slug}/api",
            get(|p: Profile| async move { axum::Json(serde_json::json!({"email": p.email})) }),
        )
        .route(
            "/public/tenant",
            get(|t: Option<Tenant>| async move { format!("{t:?}") }),
        )
        .route(
            "/public/strict-tenant",
            get(|t: Tenant| async move { format!("{t:?}") }),
        )
}

fn tenants(builder: SsoConfigBuilder) -> SsoConfigBuilder {
    builder
        .allowed_organizations(["org_01ACME", "org_01GLOBEX"])
        .tenant_resolver(TenantResolver::by_path_prefix(
            "/t/",
            [("acme", org("org_01ACME")), ("globex", org("org_01GLOBEX"))],
        ))
}

async fn start(configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder) -> App {
    let workos = MockWorkOs::start().await.unwrap();
    harness::start_app(workos, routes(), |_, b| configure(tenants(b))).await
}

/// Signs `email` in on `path` of a tenant: the layer sends the browser to the tenant's login.
async fn sign_in_on(browser: &Browser, app: &App, path: &str, email: &str) -> reqwest::Response {
    let first = browser.get(&app.url(path)).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER, "{path}");
    let login = format!(
        "{}&login_hint={}",
        location(&first),
        email.replace('@', "%40")
    );
    browser.follow(&login).await.1
}

#[tokio::test]
async fn a_tenants_path_signs_in_to_that_tenant_without_a_query() {
    let app = start(|b| b).await;
    let browser = Browser::new();
    let first = browser.get(&app.url("/t/globex/")).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        first.headers()["location"],
        "/auth/login?organization=org_01GLOBEX&return_to=%2Ft%2Fglobex%2F"
    );
    let page = sign_in_on(&browser, &app, "/t/globex/", "carol@globex.test").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.text().await.unwrap(),
        "org_01GLOBEX home of carol@globex.test"
    );
}

#[tokio::test]
async fn a_session_of_another_tenant_is_no_session_on_its_routes() {
    let app = start(|b| b).await;
    let browser = Browser::new();
    let page = sign_in_on(&browser, &app, "/t/globex/", "carol@globex.test").await;
    assert_eq!(page.status(), StatusCode::OK);
    let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();

    // The browser is sent to sign in to Acme, its Globex session left as it is.
    let elsewhere = browser.get(&app.url("/t/acme/")).await;
    assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        elsewhere.headers()["location"],
        "/auth/login?organization=org_01ACME&return_to=%2Ft%2Facme%2F"
    );
    assert!(
        set_cookies(&elsewhere).is_empty(),
        "the other session is not cleared"
    );
    // An API client gets 401, invalid_token, with the cookie or as a bearer.
    let with_cookie = browser
        .client
        .get(app.url("/t/acme/api"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::UNAUTHORIZED);
    let bearer = api()
        .get(app.url("/t/acme/api"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    assert!(
        bearer.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let body: serde_json::Value = bearer.json().await.unwrap();
    assert_eq!(body["message"], "the session is for another organization");
    // On its own tenant's routes the session still works.
    let own = api()
        .get(app.url("/t/globex/api"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    // A forged tenant header or path trick does not help: the tenant is the path's.
    let tricked = api()
        .get(app.url("/t/acme/api?tenant=globex"))
        .bearer_auth(&token)
        .header("x-tenant", "globex")
        .send()
        .await
        .unwrap();
    assert_eq!(tricked.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn handlers_get_the_tenant_and_requests_outside_tenants_have_none() {
    let app = start(|b| b).await;
    let none = api().get(app.url("/public/tenant")).send().await.unwrap();
    assert_eq!(none.text().await.unwrap(), "None");
    let strict = api()
        .get(app.url("/public/strict-tenant"))
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_tenant_asked_for_without_a_resolver_is_a_setup_mistake_not_a_missing_tenant() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_app(workos, routes(), |_, b| {
        b.allowed_organizations(["org_01ACME"])
    })
    .await;
    let strict = api()
        .get(app.url("/public/strict-tenant"))
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(strict.headers()["content-type"], "application/json");
    let body: serde_json::Value = strict.json().await.unwrap();
    assert_eq!(body["error"], "tenant_resolver_missing");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("tenant_resolver"),
        "{body}"
    );
    // `Option<Tenant>` serves apps with and without tenants alike.
    let optional = api().get(app.url("/public/tenant")).send().await.unwrap();
    assert_eq!(optional.text().await.unwrap(), "None");
}

#[tokio::test]
async fn a_tenants_host_needs_no_query_to_sign_in() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_app(workos, routes(), |_, b| {
        b.allowed_organizations(["org_01ACME"])
            .tenant_resolver(TenantResolver::by_host([(
                "acme.localhost",
                org("org_01ACME"),
            )]))
    })
    .await;
    let login = api()
        .get(app.url("/auth/login?login_hint=alice%40example.com"))
        .header("host", "acme.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FOUND);
    let authorize = location(&login);
    assert_eq!(
        query_param(&authorize, "organization").as_deref(),
        Some("org_01ACME")
    );
    // Another host has no tenant, and here nothing else to sign in with.
    let elsewhere = api()
        .get(app.url("/auth/login"))
        .header("host", "globex.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unsolicited_callback_restarts_for_the_tenant_and_lands_where_the_hook_says() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_app(workos, routes(), |_, b| {
        b.allowed_organizations(["org_01ACME"])
            .tenant_resolver(TenantResolver::by_host([
                ("acme.localhost", org("org_01ACME")),
                ("globex.localhost", org("org_01GLOBEX")),
            ]))
            .idp_initiated_login(IdpInitiatedLogin::RestartWithTenant)
            .idp_landing(|profile| {
                let org = profile.organization_id.as_deref()?;
                (org == "org_01ACME").then(|| "/t/acme/".to_owned())
            })
    })
    .await;
    let code = app
        .workos
        .issue_code("alice@example.com", &app.url("/auth/callback"), None)
        .unwrap();
    let browser = Browser::new();
    let callback = |host: &'static str| {
        browser
            .client
            .get(app.url(&format!("/auth/callback?code={code}")))
            .header("accept", "text/html")
            .header("host", host)
            .send()
    };
    // The tenant's host: one fresh SP-initiated login for Acme; the code is never exchanged.
    let restarted = callback("acme.localhost").await.unwrap();
    assert_eq!(restarted.status(), StatusCode::FOUND);
    let authorize = location(&restarted);
    assert_eq!(
        query_param(&authorize, "organization").as_deref(),
        Some("org_01ACME")
    );
    assert!(query_param(&authorize, "state").is_some());
    // Sent by another site (the IdP's dashboard): the A4 confirmation first, no flow yet.
    let confirm = browser
        .client
        .get(app.url(&format!("/auth/callback?code={code}")))
        .header("accept", "text/html")
        .header("host", "acme.localhost")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), StatusCode::OK);
    assert!(set_cookies(&confirm).is_empty());
    let body = confirm.text().await.unwrap();
    assert!(
        body.contains("Confirm sign-in") && body.contains("org_01ACME"),
        "{body}"
    );
    assert!(
        body.contains("idp=1"),
        "the landing survives the confirmation: {body}"
    );
    // Globex resolves, but is not admitted; no host has no tenant: refused.
    assert_eq!(
        callback("globex.localhost").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        callback("other.localhost").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    // The restarted login lands where the hook says.
    let (hops, page) = browser
        .follow(&format!("{authorize}&login_hint=alice%40example.com"))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert!(hops.last().unwrap().ends_with("/t/acme/"), "{hops:?}");
    // (This app tells tenants by host; the test's requests go to 127.0.0.1.)
    assert_eq!(page.text().await.unwrap(), "- home of alice@example.com");
}

#[tokio::test]
async fn a_login_link_with_idp_1_does_not_reach_the_landing_hook_only_the_confirmation_does() {
    let app = harness::start(|b| b.idp_landing(|_| Some("/public".to_owned()))).await;
    let query = "login_hint=alice%40example.com&return_to=%2Fapi%2Fme&idp=1";
    // Any site can link here with `idp=1`: the sign-in lands on its `return_to`, not the hook's.
    let browser = Browser::new();
    let (hops, page) = browser.sign_in(&app, query).await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert!(hops.last().unwrap().ends_with("/api/me"), "{hops:?}");
    // The confirmation page's own same-origin POST (the layer's restart) does reach it.
    let confirmed = Browser::new();
    let started = confirmed
        .client
        .post(app.url(&format!("/auth/login?organization=org_01ACME&{query}")))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::FOUND);
    let (hops, page) = confirmed.follow(&location(&started)).await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert!(hops.last().unwrap().ends_with("/public"), "{hops:?}");
}

/// WorkOS's `idp_initiated_sso_disabled` for Globex's connection, restarted by the layer and
/// signed in as carol: the hops, and the last page.
async fn restarted_sign_in(app: &App) -> (Vec<String>, reqwest::Response) {
    let browser = Browser::new();
    let restart = browser
        .get(&app.url(
            "/auth/callback?error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA",
        ))
        .await;
    assert_eq!(restart.status(), StatusCode::FOUND);
    let authorize = format!("{}&login_hint=carol%40globex.test", location(&restart));
    browser.follow(&authorize).await
}

#[tokio::test]
async fn the_idp_initiated_sso_disabled_restart_lands_where_the_hook_says() {
    let app = harness::start(|b| {
        b.allowed_connections(["conn_01GLOBEXENTRA"])
            .idp_landing(|profile| {
                let org = profile.organization_id.as_deref()?;
                (org == "org_01GLOBEX").then(|| "/public".to_owned())
            })
    })
    .await;
    let (hops, page) = restarted_sign_in(&app).await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert_eq!(hops.last().unwrap(), &app.url("/public"), "{hops:?}");
    assert_eq!(
        page.text().await.unwrap(),
        "public, signed in as carol@globex.test"
    );
}

#[tokio::test]
async fn a_landing_the_hook_picks_off_this_site_is_replaced_by_the_default() {
    for elsewhere in [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/auth/login",
    ] {
        let app = harness::start(move |b| {
            b.allowed_connections(["conn_01GLOBEXENTRA"])
                .default_return_to("/public")
                .idp_landing(move |_| Some(elsewhere.to_owned()))
        })
        .await;
        let (hops, page) = restarted_sign_in(&app).await;
        assert_eq!(page.status(), StatusCode::OK, "{elsewhere}: {hops:?}");
        assert_eq!(hops.last().unwrap(), &app.url("/public"), "{elsewhere}");
        assert!(hops.iter().all(|hop| !hop.contains("evil")), "{hops:?}");
    }
}
