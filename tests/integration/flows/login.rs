//! The login flow end to end: each selector kind, the authorization URL, the sign-in page,
//! return_to, logout and session fixation.

use std::collections::HashMap;

use reqwest::StatusCode;
use tower_workos_sso::testkit::Endpoint;

use crate::support::harness::{self, Browser, SESSION_COOKIE, location, set_cookies, signed_in};

fn query_of(url: &str) -> HashMap<String, String> {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn organization_connection_and_provider_logins_each_reach_the_app() {
    let app = harness::start(|b| {
        b.allowed_connections(["conn_01GLOBEXENTRA"])
            .allowed_providers(["GoogleOAuth"])
    })
    .await;
    let cases = [
        (
            "organization=org_01ACME&login_hint=bob%40example.com",
            "bob@example.com",
            Some("org_01ACME"),
            "OktaSAML",
        ),
        (
            "connection=conn_01GLOBEXENTRA&login_hint=carol%40globex.test",
            "carol@globex.test",
            Some("org_01GLOBEX"),
            "AzureSAML",
        ),
        (
            "provider=GoogleOAuth&login_hint=erin%40gmail.test",
            "erin@gmail.test",
            None,
            "GoogleOAuth",
        ),
    ];
    for (query, email, organization, connection_type) in cases {
        let browser = Browser::new();
        let (hops, page) = browser
            .sign_in(&app, &format!("{query}&return_to=/api/me"))
            .await;
        assert_eq!(page.status(), StatusCode::OK, "{query}: {hops:?}");
        assert!(hops.last().unwrap().ends_with("/api/me"), "{hops:?}");
        let me: serde_json::Value = page.json().await.unwrap();
        assert_eq!(me["email"], email);
        assert_eq!(me["organization_id"].as_str(), organization);
        assert_eq!(me["connection_type"], connection_type);
        assert_eq!(me["source"], "Cookie");
    }
    assert_eq!(app.workos.requests(Endpoint::Token), 3);
}

#[tokio::test]
async fn login_redirects_to_workos_with_state_pkce_and_a_flow_cookie() {
    let app = harness::start(|b| b.allowed_connections(["conn_01ACMEOKTA"])).await;
    let browser = Browser::new();
    let response = browser
        .get(&app.url("/auth/login?connection=conn_01ACMEOKTA&login_hint=alice%40example.com&domain_hint=example.com"))
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let target = location(&response);
    assert!(target.starts_with(&format!("{}/sso/authorize?", app.workos.base_url())));
    let params = query_of(&target);
    assert_eq!(params["client_id"], app.workos.client_id());
    assert_eq!(params["redirect_uri"], app.url("/auth/callback"));
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["connection"], "conn_01ACMEOKTA");
    assert_eq!(params["login_hint"], "alice@example.com");
    assert_eq!(params["domain_hint"], "example.com");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert!(params["state"].len() >= 43);
    assert!(!params.contains_key("organization"));
    assert!(
        !target.contains(app.workos.api_key()),
        "the API key never travels in a URL"
    );

    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1);
    let flow = &cookies[0];
    assert!(flow.starts_with("sso_session_flow_"), "{flow}");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=600"] {
        assert!(flow.contains(attribute), "{flow} lacks {attribute}");
    }
    assert!(
        !flow.contains(&params["state"]),
        "the state itself is not in the cookie name"
    );
}

#[tokio::test]
async fn the_fake_sign_in_page_lets_a_user_click_to_sign_in() {
    let app = harness::start(|b| b.allowed_organizations(["org_01GLOBEX"])).await;
    let browser = Browser::new();
    let (hops, page) = browser.sign_in(&app, "organization=org_01GLOBEX").await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    let html = page.text().await.unwrap();
    assert!(html.contains("carol@globex.test") && html.contains("dave@globex.test"));
    assert!(
        !html.contains("alice@example.com"),
        "only the organization's users"
    );
    // The first user's link, as a click would follow it.
    let start = html.find("href=\"").unwrap() + 6;
    let href = html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let link = reqwest::Url::parse(hops.last().unwrap())
        .unwrap()
        .join(&href)
        .unwrap();
    let (_, home) = browser.follow(link.as_str()).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert_eq!(home.text().await.unwrap(), "home of carol@globex.test");
}

#[tokio::test]
async fn login_requests_must_name_exactly_one_valid_selector() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    for query in [
        "organization=org_01ACME&connection=conn_01ACMEOKTA",
        "organization=org_01ACME&organization=org_01GLOBEX",
        "organization=https://evil.test",
        "connection=conn_01<script>",
        "provider=Google OAuth",
    ] {
        let response = browser.get(&app.url(&format!("/auth/login?{query}"))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(set_cookies(&response).is_empty());
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("<script>") && !body.contains("evil.test"),
            "{body}"
        );
    }
    let workos = tower_workos_sso::testkit::MockWorkOs::start()
        .await
        .unwrap();
    let no_default = harness::start_with(workos, |b| b).await;
    let response = browser
        .get(&no_default.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("organization=org_"));
}

#[tokio::test]
async fn return_to_is_followed_when_local_and_replaced_when_not() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    let (hops, page) = browser
        .sign_in(
            &app,
            "login_hint=alice%40example.com&return_to=%2Fpublic%3Fx%3D1",
        )
        .await;
    assert!(hops.last().unwrap().ends_with("/public?x=1"), "{hops:?}");
    assert_eq!(
        page.text().await.unwrap(),
        "public, signed in as alice@example.com"
    );

    for evil in [
        "https%3A%2F%2Fevil.test%2F",
        "%2F%2Fevil.test",
        "%2F%5Cevil.test",
        "%2Fauth%2Flogin",
        "%2Fa%0D%0ASet-Cookie%3Ax%3Dy",
        "%09%2F%2Fevil.test",
    ] {
        let browser = Browser::new();
        let (hops, page) = browser
            .sign_in(
                &app,
                &format!("login_hint=alice%40example.com&return_to={evil}"),
            )
            .await;
        assert_eq!(hops.last().unwrap(), &app.url("/"), "{evil}");
        assert_eq!(page.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_protected_page_sends_the_browser_through_login_and_back() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    // No login_hint: the default organization's sign-in page is where the browser stops.
    let (hops, page) = browser.follow(&app.url("/api/me?view=full")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        hops[1].starts_with(&app.url("/auth/login?return_to=")),
        "{hops:?}"
    );
    assert!(page.text().await.unwrap().contains("alice@example.com"));
}

#[tokio::test]
async fn logout_clears_the_session_and_only_accepts_same_origin_posts() {
    let app = harness::start(|b| b).await;
    let (browser, _) = signed_in(&app).await;

    let get = browser.get(&app.url("/auth/logout")).await;
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let cross = browser
        .client
        .post(app.url("/auth/logout"))
        .header("origin", "https://evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let cross = browser
        .client
        .post(app.url("/auth/logout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get(&app.url("/")).await.status(),
        StatusCode::OK,
        "still signed in"
    );

    let logout = browser
        .client
        .post(app.url("/auth/logout"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(logout.headers()["location"], "/");
    assert_eq!(logout.headers()["cache-control"], "no-store");
    let cleared = set_cookies(&logout);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0"))
    );
    let after = browser.get(&app.url("/")).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(location(&after).starts_with(&app.url("/auth/login")));
}

#[tokio::test]
async fn every_sign_in_gets_a_fresh_session_id() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    // A cookie planted before login (session fixation) is replaced, not adopted.
    browser.jar.add_cookie_str(
        &format!("{SESSION_COOKIE}=planted-by-attacker; Path=/"),
        &app.base.parse().unwrap(),
    );
    let (_, page) = browser
        .sign_in(&app, "login_hint=alice%40example.com&return_to=/api/me")
        .await;
    let first: serde_json::Value = page.json().await.unwrap();
    assert_ne!(
        browser.cookie(&app.base, SESSION_COOKIE).unwrap(),
        "planted-by-attacker"
    );
    let (_, page) = browser
        .sign_in(&app, "login_hint=alice%40example.com&return_to=/api/me")
        .await;
    let second: serde_json::Value = page.json().await.unwrap();
    assert_ne!(first["sid"], second["sid"]);
}
