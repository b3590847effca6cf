//! The sign-in chooser and tenants (SECURITY.md M1-M5): the chooser reveals nothing of which
//! tenants exist, cannot be used by another site to start a login silently, keeps its work
//! bounded; a session of another tenant is none on a tenant's routes; the session route never
//! hands out a token.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs, Seed};
use tower_workos_sso::{Selector, TenantResolver};

use crate::support::harness::{self, App, Browser, SESSION_COOKIE, api, set_cookies, signed_in};

/// Globex and Google admitted, no default; Acme's domain is known to WorkOS but not admitted,
/// Initech's connection is inactive, Hooli's domain has two admitted tenants.
async fn start() -> App {
    let mut seed = Seed::default();
    let mut initech = seed.connections[1].clone();
    initech.id = "conn_01INITECH".into();
    initech.organization_id = Some("org_01INITECH".into());
    initech.domains = vec!["initech.test".into()];
    initech.state = "inactive".into();
    let mut hooli = seed.connections[1].clone();
    hooli.id = "conn_01HOOLI".into();
    hooli.organization_id = Some("org_01HOOLI".into());
    hooli.domains = vec!["hooli.test".into(), "globex.test".into()];
    seed.connections.extend([initech, hooli]);
    let workos = MockWorkOs::start_with(seed).await.unwrap();
    harness::start_with(workos, |b| {
        b.allowed_organizations(["org_01GLOBEX", "org_01INITECH", "org_01HOOLI"])
            .allowed_providers(["GoogleOAuth"])
            .route_domains_through_workos()
    })
    .await
}

async fn get(browser: &Browser, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = browser.client.get(url).header("accept", "text/html");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn submission(app: &App, email: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .finish();
    app.url(&format!("/auth/login?{query}"))
}

#[tokio::test]
async fn m1_the_chooser_never_lists_tenants_and_every_domain_without_sso_gets_one_answer() {
    let app = start().await;
    let browser = Browser::new();
    let chooser = get(&browser, &app.url("/auth/login"), &[]).await;
    assert_eq!(chooser.status(), StatusCode::OK);
    let body = chooser.text().await.unwrap();
    for secret in [
        "org_",
        "conn_",
        "Globex",
        "Initech",
        "Hooli",
        "Acme",
        "globex.test",
    ] {
        assert!(!body.contains(secret), "the chooser names {secret}");
    }
    // Unknown, known but not admitted (Acme), inactive (Initech), shared by two tenants
    // (globex.test is Globex's and Hooli's): one status, one page, the typed email aside.
    let mut answers = Vec::new();
    for email in [
        "eve@nowhere.test",
        "eve@example.com",
        "eve@initech.test",
        "eve@globex.test",
        "eve@EXAMPLE.com",
    ] {
        let answer = get(&browser, &submission(&app, email), &[]).await;
        let status = answer.status();
        assert!(set_cookies(&answer).is_empty(), "{email}: starts a flow");
        let text = answer.text().await.unwrap().replace(email, "EMAIL");
        answers.push((status, text));
    }
    for (status, text) in &answers {
        assert_eq!(*status, StatusCode::NOT_FOUND);
        assert_eq!(text, &answers[0].1, "the answers differ");
        for secret in [
            "org_", "conn_", "Globex", "Initech", "Hooli", "Acme", "inactive",
        ] {
            assert!(!text.contains(secret), "an answer names {secret}");
        }
    }
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);
    // A routable domain does go on: Hooli's own.
    let hooli = get(&browser, &submission(&app, "gavin@hooli.test"), &[]).await;
    assert_eq!(hooli.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn m2_a_chooser_submission_another_site_makes_stops_at_the_confirmation() {
    let app = start().await;
    let browser = Browser::new();
    let url = submission(&app, "gavin@hooli.test");
    for headers in [
        &[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
        ][..],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://attacker.example")],
        &[("referer", "https://attacker.example/phish")],
    ] {
        let answer = get(&browser, &url, headers).await;
        assert_eq!(answer.status(), StatusCode::OK, "{headers:?}");
        assert!(answer.headers().get("location").is_none(), "{headers:?}");
        assert!(
            set_cookies(&answer).is_empty(),
            "{headers:?}: a flow starts"
        );
        assert_eq!(
            answer.headers()["content-security-policy"],
            "frame-ancestors 'none'"
        );
        let body = answer.text().await.unwrap();
        assert!(body.contains("Confirm sign-in"), "{headers:?}: {body}");
        assert!(body.contains(r#"<form method="post""#), "{headers:?}");
    }
    // Its button goes on only as a same-origin POST.
    let action = "/auth/login?organization=org_01HOOLI&login_hint=gavin%40hooli.test&return_to=%2F";
    let forged = browser
        .client
        .post(app.url(action))
        .header("origin", "https://attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let confirmed = browser
        .client
        .post(app.url(action))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    // The chooser itself cannot be framed by another site.
    let chooser = get(&browser, &app.url("/auth/login"), &[]).await;
    assert_eq!(
        chooser.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);
}

#[tokio::test]
async fn m2_what_the_user_typed_is_shown_escaped_and_never_as_markup() {
    let app = start().await;
    let browser = Browser::new();
    for email in [
        "\"><script>alert(1)</script>@x.test",
        "<img src=x onerror=alert(1)>",
        "a@b.test' autofocus onfocus='alert(1)",
    ] {
        let answer = get(&browser, &submission(&app, email), &[]).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{email}");
        let body = answer.text().await.unwrap();
        assert!(
            !body.contains("<script>") && !body.contains("<img"),
            "{body}"
        );
        assert!(!body.contains("' autofocus"), "{body}");
    }
}

#[tokio::test]
async fn m3_the_chooser_bounds_its_work() {
    let app = start().await;
    let browser = Browser::new();
    // Emails past 320 bytes are refused before any look-up.
    let long = format!("{}@globex.test", "a".repeat(400));
    let answer = get(&browser, &submission(&app, &long), &[]).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(
        !answer.text().await.unwrap().contains("aaaa"),
        "not shown back either"
    );
    assert_eq!(app.workos.requests(Endpoint::Connections), 0);
    // A directory that never ends its pages: at most five are read, and a listing cut off
    // there is no answer ("try again"), never a remembered "no single sign-on".
    app.workos.set_fault(
        Endpoint::Connections,
        Some(Fault::Body(
            br#"{"object":"list","data":[],"list_metadata":{"before":null,"after":"conn_next"}}"#
                .to_vec(),
        )),
    );
    let answer = get(&browser, &submission(&app, "x@endless.test"), &[]).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(set_cookies(&answer).is_empty());
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("unavailable right now")
    );
    assert_eq!(app.workos.requests(Endpoint::Connections), 5);
    let again = get(&browser, &submission(&app, "x@endless.test"), &[]).await;
    assert_eq!(again.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.workos.requests(Endpoint::Connections),
        10,
        "not remembered"
    );
}

#[tokio::test]
async fn m3_look_ups_above_the_cap_are_answered_at_once() {
    let workos = MockWorkOs::start().await.unwrap();
    workos.set_fault(Endpoint::Connections, Some(Fault::Hang));
    let app = harness::start_with(workos, |b| {
        b.allow_any_organization()
            .route_domains_through_workos()
            .domain_lookup_timeout(Duration::from_secs(2))
    })
    .await;
    // Sixteen hanging look-ups of different domains take every slot.
    let hanging: Vec<_> = (0..16)
        .map(|i| {
            let url = submission(&app, &format!("x@d{i}.test"));
            tokio::spawn(async move { api().get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    while app.workos.requests(Endpoint::Connections) < 16 {
        tokio::task::yield_now().await;
    }
    let started = std::time::Instant::now();
    let busy = api()
        .get(submission(&app, "y@other.test"))
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(app.workos.requests(Endpoint::Connections), 16);
    for task in hanging {
        assert_eq!(task.await.unwrap().unwrap(), StatusCode::GATEWAY_TIMEOUT);
    }
}

/// An app serving Acme and Globex as tenants, told apart by the `x-tenant` header.
async fn two_tenants() -> harness::App {
    let workos = MockWorkOs::start().await.unwrap();
    let org = |id: &str| Selector::organization(id).unwrap();
    harness::start_with(workos, |b| {
        b.default_selector(org("org_01ACME"))
            .allowed_organizations(["org_01GLOBEX"])
            .tenant_resolver(TenantResolver::by_header(
                "x-tenant",
                [("acme", org("org_01ACME")), ("globex", org("org_01GLOBEX"))],
            ))
    })
    .await
}

#[tokio::test]
async fn m4_a_session_is_only_ever_its_own_tenants() {
    let app = two_tenants().await;
    let (browser, token) = signed_in(&app).await;
    let me = |tenant: &'static str| {
        api()
            .get(app.url("/api/me"))
            .bearer_auth(&token)
            .header("x-tenant", tenant)
            .send()
    };
    assert_eq!(me("acme").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        me("globex").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // A browser on Globex's routes is sent to Globex's login, not let in.
    let page = browser
        .client
        .get(app.url("/"))
        .header("accept", "text/html")
        .header("x-tenant", "globex")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .contains("organization=org_01GLOBEX")
    );
    // On a public path the session is simply absent.
    let public = browser
        .client
        .get(app.url("/public"))
        .header("x-tenant", "globex")
        .send()
        .await
        .unwrap();
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    // The session route agrees.
    let session = api()
        .get(app.url("/auth/session"))
        .bearer_auth(&token)
        .header("x-tenant", "globex")
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), StatusCode::UNAUTHORIZED);
    assert!(browser.cookie(&app.base, SESSION_COOKIE).is_some());
}

#[tokio::test]
async fn m4_a_grpc_call_with_another_tenants_session_is_unauthenticated() {
    let app = two_tenants().await;
    let (_, token) = signed_in(&app).await;
    let call = |tenant: &'static str| {
        api()
            .post(app.url("/api/echo"))
            .bearer_auth(&token)
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("x-tenant", tenant)
            .send()
    };
    // Another tenant's session: gRPC's UNAUTHENTICATED, over HTTP 200, never a redirect.
    let refused = call("globex").await.unwrap();
    assert_eq!(refused.status(), StatusCode::OK);
    assert_eq!(refused.headers()["grpc-status"], "16");
    assert!(refused.headers().get("location").is_none());
    let message = refused.headers()["grpc-message"].to_str().unwrap();
    assert!(message.contains("another"), "{message}");
    assert!(refused.bytes().await.unwrap().is_empty(), "no body");
    // The same session on its own tenant's calls reaches the service.
    let own = call("acme").await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert!(own.headers().get("grpc-status").is_none());
    assert_eq!(own.text().await.unwrap(), "alice@example.com");
}
