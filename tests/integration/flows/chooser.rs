//! The sign-in chooser and domain routing: `GET /auth/login` with nothing to sign in with asks
//! for an email, routes its domain (a static map, or the WorkOS API through the fake's
//! `GET /connections`), and goes on as a login with the email as `login_hint`.

use std::time::Duration;

use reqwest::StatusCode;
use tower_workos_sso::domains::{DomainLookupError, DomainRouter};
use tower_workos_sso::store::BoxFuture;
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs, Seed, SeedConnection};
use tower_workos_sso::{Selector, SsoConfigBuilder};

use crate::support::forge::query_param;
use crate::support::harness::{self, App, Browser, SESSION_COOKIE, location, set_cookies};

fn org(id: &str) -> Selector {
    Selector::organization(id).unwrap()
}

/// No default selector; Acme and Globex admitted, and Google OAuth.
fn admitted(builder: SsoConfigBuilder) -> SsoConfigBuilder {
    builder
        .allowed_organizations(["org_01ACME", "org_01GLOBEX"])
        .allowed_providers(["GoogleOAuth"])
}

/// An app whose chooser routes through WorkOS (the fake).
async fn through_workos(
    workos: MockWorkOs,
    configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder,
) -> App {
    harness::start_with(workos, |b| {
        configure(admitted(b).route_domains_through_workos())
    })
    .await
}

/// The default seed, plus Initech, whose only connection is inactive.
fn seed_with_inactive() -> Seed {
    let mut seed = Seed::default();
    let mut initech: SeedConnection = seed.connections[1].clone();
    initech.id = "conn_01INITECH".into();
    initech.organization_id = Some("org_01INITECH".into());
    initech.organization_name = Some("Initech".into());
    initech.domains = vec!["initech.test".into()];
    initech.state = "inactive".into();
    for user in &mut initech.users {
        user.email = user.email.replace("globex.test", "initech.test");
    }
    seed.connections.push(initech);
    seed
}

/// The chooser's submission of `email`, as a browser sends it from the page itself.
async fn submit(browser: &Browser, app: &App, email: &str) -> reqwest::Response {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("return_to", "/api/me")
        .finish();
    browser
        .client
        .get(app.url(&format!("/auth/login?{query}")))
        .header("accept", "text/html")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn without_a_default_the_login_shows_the_chooser_with_an_email_box_and_providers() {
    let app = through_workos(MockWorkOs::start().await.unwrap(), |b| b).await;
    let page = Browser::new()
        .get(&app.url("/auth/login?return_to=/api/me"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(set_cookies(&page).is_empty(), "the chooser starts no flow");
    let body = page.text().await.unwrap();
    assert!(
        body.contains(r#"<form method="get" action="/auth/login">"#),
        "{body}"
    );
    assert!(body.contains(r#"name="email" type="email""#), "{body}");
    assert!(
        body.contains(r#"name="return_to" value="/api/me""#),
        "{body}"
    );
    assert!(
        body.contains("/auth/login?provider=GoogleOAuth&amp;return_to=%2Fapi%2Fme"),
        "{body}"
    );
    assert!(body.contains("Continue with Google"), "{body}");
    assert_eq!(app.workos.requests(Endpoint::Connections), 0);
}

#[tokio::test]
async fn an_email_is_routed_through_workos_and_signs_in_with_it_as_login_hint() {
    let app = through_workos(MockWorkOs::start().await.unwrap(), |b| b).await;
    let browser = Browser::new();
    for (email, who) in [
        ("alice@example.com", "org_01ACME"),
        ("Carol@GLOBEX.test", "org_01GLOBEX"),
    ] {
        let started = submit(&browser, &app, email).await;
        assert_eq!(started.status(), StatusCode::FOUND, "{email}");
        assert_eq!(started.headers()["referrer-policy"], "no-referrer");
        let authorize = location(&started);
        assert_eq!(
            query_param(&authorize, "organization").as_deref(),
            Some(who)
        );
        assert_eq!(
            query_param(&authorize, "login_hint").as_deref(),
            Some(email),
            "the email goes on as login_hint"
        );
        assert!(query_param(&authorize, "code_challenge").is_some());
        let (_, page) = browser.follow(&authorize).await;
        assert_eq!(page.status(), StatusCode::OK);
        let me: serde_json::Value = page.json().await.unwrap();
        assert_eq!(me["organization_id"], who, "the same return_to, signed in");
    }
    assert!(browser.cookie(&app.base, SESSION_COOKIE).is_some());
}

#[tokio::test]
async fn a_static_map_routes_without_calling_workos_and_only_to_what_is_admitted() {
    let app = harness::start_with(MockWorkOs::start().await.unwrap(), |b| {
        admitted(b).route_domains([
            ("example.com", org("org_01ACME")),
            ("umbrella.test", org("org_01UMBRELLA")),
        ])
    })
    .await;
    let browser = Browser::new();
    let started = submit(&browser, &app, "bob@Example.com").await;
    assert_eq!(started.status(), StatusCode::FOUND);
    let authorize = location(&started);
    assert_eq!(
        query_param(&authorize, "organization").as_deref(),
        Some("org_01ACME")
    );
    // Mapped, but not admitted: the same answer as a domain without single sign-on.
    let refused = submit(&browser, &app, "x@umbrella.test").await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert!(set_cookies(&refused).is_empty());
    let body = refused.text().await.unwrap();
    assert!(body.contains("Single sign-on is not set up for this email domain"));
    assert_eq!(app.workos.requests(Endpoint::Connections), 0);
}

#[tokio::test]
async fn an_unknown_domain_or_a_bad_email_gets_a_clear_message_on_the_chooser() {
    let app = through_workos(MockWorkOs::start().await.unwrap(), |b| b).await;
    let browser = Browser::new();
    let unknown = submit(&browser, &app, "zoe@nowhere.test").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(set_cookies(&unknown).is_empty(), "no flow starts");
    let body = unknown.text().await.unwrap();
    assert!(body.contains(r#"role="alert""#) && body.contains("not set up for this email domain"));
    assert!(
        body.contains(r#"value="zoe@nowhere.test""#),
        "what was typed stays"
    );
    assert!(
        body.contains(r#"name="email""#),
        "the same page, to try again"
    );
    for bad in [
        "zoe",
        "zoe@",
        "@nowhere.test",
        "zoe@nowhere",
        "zoe@bad domain.test",
    ] {
        let refused = submit(&browser, &app, bad).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Enter a valid email address")
        );
    }
    assert_eq!(
        app.workos.requests(Endpoint::Connections),
        1,
        "bad emails never reach WorkOS"
    );
}

#[tokio::test]
async fn an_inactive_connection_routes_nowhere() {
    let workos = MockWorkOs::start_with(seed_with_inactive()).await.unwrap();
    let app = through_workos(workos, |b| b.allowed_organizations(["org_01INITECH"])).await;
    let refused = submit(&Browser::new(), &app, "carol@initech.test").await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert!(set_cookies(&refused).is_empty());
    assert_eq!(app.workos.requests(Endpoint::Authorize), 0);
}

#[tokio::test]
async fn a_domain_whose_connections_span_several_pages_is_routed_from_the_last() {
    // Bigco's one active connection is its oldest; 120 inactive ones for the same domain come
    // first in WorkOS's default order (newest first), so it is on the second page of 100.
    let mut seed = Seed::default();
    let mut bigco: SeedConnection = seed.connections[1].clone();
    bigco.id = "conn_01BIGCO".into();
    bigco.organization_id = Some("org_01BIGCO".into());
    bigco.organization_name = Some("Bigco".into());
    bigco.domains = vec!["bigco.test".into()];
    seed.connections.push(bigco.clone());
    for i in 0..120 {
        let mut old = bigco.clone();
        old.id = format!("conn_01BIGCOOLD{i}");
        old.organization_id = Some(format!("org_01BIGCOOLD{i}"));
        old.state = "inactive".into();
        seed.connections.push(old);
    }
    let workos = MockWorkOs::start_with(seed).await.unwrap();
    let app = through_workos(workos, |b| b.allowed_organizations(["org_01BIGCO"])).await;
    let started = submit(&Browser::new(), &app, "dana@bigco.test").await;
    assert_eq!(started.status(), StatusCode::FOUND);
    assert_eq!(
        query_param(&location(&started), "organization").as_deref(),
        Some("org_01BIGCO")
    );
    assert_eq!(
        app.workos.requests(Endpoint::Connections),
        2,
        "both pages read"
    );
}

#[tokio::test]
async fn a_workos_outage_during_the_look_up_gives_a_clear_page_not_a_hang() {
    let app = through_workos(MockWorkOs::start().await.unwrap(), |b| {
        b.domain_lookup_timeout(Duration::from_millis(300))
    })
    .await;
    let browser = Browser::new();
    for (fault, status) in [
        (Fault::status(500), StatusCode::SERVICE_UNAVAILABLE),
        (Fault::status(429), StatusCode::SERVICE_UNAVAILABLE),
        (
            Fault::Body(b"{not json".to_vec()),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (Fault::Hang, StatusCode::GATEWAY_TIMEOUT),
    ] {
        app.workos
            .set_fault(Endpoint::Connections, Some(fault.clone()));
        let started = std::time::Instant::now();
        let page = submit(&browser, &app, "alice@example.com").await;
        assert!(started.elapsed() < Duration::from_secs(2), "{fault:?} hung");
        assert_eq!(page.status(), status, "{fault:?}");
        assert!(set_cookies(&page).is_empty());
        let body = page.text().await.unwrap();
        assert!(body.contains("unavailable right now"), "{fault:?}: {body}");
        assert!(!body.contains("MockWorkOs"), "WorkOS's text is never shown");
    }
    // Errors are not remembered: once WorkOS is back, the same email goes through.
    app.workos.set_fault(Endpoint::Connections, None);
    assert_eq!(
        submit(&browser, &app, "alice@example.com").await.status(),
        StatusCode::FOUND
    );
    // The rest of the app never waited.
    assert_eq!(
        harness::api_get_json(&app.url("/public")).await.status(),
        StatusCode::OK
    );
}

/// A router that never answers.
struct Silent;

impl DomainRouter for Silent {
    fn route<'a>(
        &'a self,
        _: &'a str,
    ) -> BoxFuture<'a, Result<Option<Selector>, DomainLookupError>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn the_look_up_deadline_holds_for_the_apps_own_router_too() {
    let app = harness::start_with(MockWorkOs::start().await.unwrap(), |b| {
        admitted(b)
            .domain_router(Silent)
            .domain_lookup_timeout(Duration::from_millis(300))
    })
    .await;
    let started = std::time::Instant::now();
    let browser = Browser::new();
    let page = tokio::time::timeout(
        Duration::from_secs(5),
        submit(&browser, &app, "alice@example.com"),
    )
    .await
    .expect("the chooser hung");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the chooser hung"
    );
    assert_eq!(page.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(set_cookies(&page).is_empty());
    let body = page.text().await.unwrap();
    assert!(body.contains("unavailable right now"), "{body}");
    assert!(
        body.contains(r#"name="email""#),
        "the chooser, to try again"
    );
}

#[tokio::test]
async fn a_burst_of_logins_from_one_domain_calls_workos_once() {
    let workos = MockWorkOs::start().await.unwrap();
    workos.set_fault(
        Endpoint::Connections,
        Some(Fault::Delay(Duration::from_millis(200))),
    );
    let app = through_workos(workos, |b| b).await;
    let logins = (0..25).map(|_| async {
        let browser = Browser::new();
        submit(&browser, &app, "alice@example.com").await.status()
    });
    for status in futures_join(logins).await {
        assert_eq!(status, StatusCode::FOUND);
    }
    assert_eq!(app.workos.requests(Endpoint::Connections), 1);
    // Unknown domains are remembered too.
    for _ in 0..3 {
        submit(&Browser::new(), &app, "x@nowhere.test").await;
    }
    assert_eq!(app.workos.requests(Endpoint::Connections), 2);
}

#[tokio::test]
async fn the_cache_holds_at_most_its_capacity() {
    let app = through_workos(MockWorkOs::start().await.unwrap(), |b| {
        b.domain_cache(2, Duration::from_secs(300), Duration::from_secs(30))
    })
    .await;
    let browser = Browser::new();
    let calls = || app.workos.requests(Endpoint::Connections);
    for email in ["a@example.com", "c@globex.test"] {
        submit(&browser, &app, email).await;
    }
    assert_eq!(calls(), 2);
    submit(&browser, &app, "b@example.com").await;
    assert_eq!(calls(), 2, "example.com is remembered");
    // A third domain pushes the one expiring first out: the cache holds two.
    submit(&browser, &app, "x@nowhere.test").await;
    assert_eq!(calls(), 3);
    submit(&browser, &app, "x@nowhere.test").await;
    submit(&browser, &app, "c@globex.test").await;
    assert_eq!(calls(), 3, "the two newest stay");
    submit(&browser, &app, "a@example.com").await;
    assert_eq!(calls(), 4, "the evicted domain is asked for again");
}

#[tokio::test]
async fn cached_answers_expire_and_workos_is_asked_again() {
    let app = through_workos(MockWorkOs::start().await.unwrap(), |b| {
        b.domain_cache(8, Duration::from_secs(2), Duration::from_secs(2))
    })
    .await;
    let browser = Browser::new();
    let calls = || app.workos.requests(Endpoint::Connections);
    let routed = [
        ("a@example.com", StatusCode::FOUND),
        ("x@nowhere.test", StatusCode::NOT_FOUND),
    ];
    for (email, status) in routed {
        assert_eq!(submit(&browser, &app, email).await.status(), status);
    }
    assert_eq!(calls(), 2);
    for (email, status) in routed {
        assert_eq!(submit(&browser, &app, email).await.status(), status);
    }
    assert_eq!(calls(), 2, "remembered");
    // Once the lifetime is over (the cache reads the monotonic clock, not the app's), the
    // same email asks WorkOS again, and gets the same answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for (email, status) in routed {
        let before = calls();
        while calls() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "{email}: never expired"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(submit(&browser, &app, email).await.status(), status);
        }
        assert_eq!(calls(), before + 1, "{email}");
    }
}

/// What this test's thread logs (the app and the fake run on its one-thread runtime).
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_domain_without_a_connection_logs_the_operator_hint_without_the_email() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);
    let app = harness::start_with(MockWorkOs::start().await.unwrap(), |b| {
        admitted(b).route_domains([("umbrella.test", org("org_01UMBRELLA"))])
    })
    .await;
    for (email, hint) in [
        ("zoe.marker@nowhere.test", "domain is verified"),
        ("zoe.marker@umbrella.test", "does not admit"),
    ] {
        let refused = submit(&Browser::new(), &app, email).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        let domain = email.split_once('@').unwrap().1;
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let line = text
            .lines()
            .find(|line| line.contains("no connection for this domain") && line.contains(domain))
            .unwrap_or_else(|| panic!("no operator hint for {domain}:\n{text}"));
        assert!(line.contains(hint), "{line}");
        assert!(!text.contains("zoe.marker"), "the email is logged:\n{text}");
    }
}

/// Runs the futures at once, in this task.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::new();
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut done: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *out = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(done.into_iter().map(Option::unwrap));
    outputs
}
