//! A2: a profile of another organization, connection or provider than the flow asked for (an
//! edited authorize URL, a misbehaving identity provider) gets no session, even when what it
//! comes from is admitted too.

use reqwest::{StatusCode, Url};
use serde_json::json;
use tower_workos_sso::testkit::{Endpoint, Fault};

use super::app::refused;
use crate::support::forge::start_login;
use crate::support::harness::{self, App, Browser, SESSION_COOKIE, location, set_cookies};

/// Starts a login for `login` in a fresh browser, lets the browser follow the authorize URL
/// with its selector and hint replaced by `edit` (state, PKCE and redirect URI untouched, as an
/// attacker editing the address bar would), and returns the browser and the callback's answer.
async fn edited_login(
    app: &App,
    login: &str,
    edit: &[(&str, &str)],
) -> (Browser, reqwest::Response) {
    let browser = Browser::new();
    let to_workos = browser.get(&app.url(&format!("/auth/login?{login}"))).await;
    assert_eq!(to_workos.status(), StatusCode::FOUND, "{login}");
    let mut authorize = Url::parse(&location(&to_workos)).unwrap();
    let kept: Vec<(String, String)> = authorize
        .query_pairs()
        .into_owned()
        .filter(|(name, _)| {
            !["organization", "connection", "provider", "login_hint"].contains(&name.as_str())
        })
        .collect();
    authorize
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .extend_pairs(edit);
    let back = browser.get(authorize.as_str()).await;
    assert_eq!(
        back.status(),
        StatusCode::FOUND,
        "the fake signs in at once: {edit:?}"
    );
    let callback = location(&back);
    assert!(
        callback.starts_with(&app.url("/auth/callback?code=")),
        "{callback}"
    );
    let response = browser.get(&callback).await;
    (browser, response)
}

/// Profiles of other organizations, connections and providers than Acme's organization,
/// reached by editing its authorize URL.
const OTHERS: &[&[(&str, &str)]] = &[
    &[
        ("organization", "org_01GLOBEX"),
        ("login_hint", "carol@globex.test"),
    ],
    &[
        ("connection", "conn_01GLOBEXENTRA"),
        ("login_hint", "dave@globex.test"),
    ],
    &[
        ("provider", "GoogleOAuth"),
        ("login_hint", "erin@gmail.test"),
    ],
    &[
        ("connection", "conn_01GOOGLE"),
        ("login_hint", "erin@gmail.test"),
    ],
    &[
        ("provider", "AzureSAML"),
        ("login_hint", "carol@globex.test"),
    ],
];

async fn assert_no_session(app: &App, browser: &Browser, response: reqwest::Response, what: &str) {
    let body = refused(&app.base, browser, response, StatusCode::FORBIDDEN).await;
    assert!(
        body.contains("cannot sign in to this application"),
        "{what}: {body}"
    );
    // The retry link repeats the flow's own login; nothing else names anyone.
    let (before, rest) = body.split_once(r#"href=""#).expect("a retry link");
    let (retry, after) = rest.split_once('"').unwrap();
    assert!(retry.starts_with("/auth/login"), "{retry}");
    let body = format!("{before}{after}");
    for detail in [
        "globex", "Globex", "gmail", "GLOBEX", "GOOGLE", "carol", "erin", "dave",
    ] {
        assert!(!body.contains(detail), "{what}: {detail} in {body}");
    }
    // The flow is used up: its cookie is cleared, and nothing is signed in.
    assert!(
        browser.cookie(&app.base, SESSION_COOKIE).is_none(),
        "{what}: a session"
    );
    let home = browser.get(&app.url("/")).await;
    assert_eq!(
        home.status(),
        StatusCode::SEE_OTHER,
        "{what}: still signed out"
    );
}

#[tokio::test]
async fn a2_an_edited_authorize_url_brings_back_another_profile_and_no_session() {
    let app = harness::start(|b| b).await;
    for edit in OTHERS {
        let (browser, response) = edited_login(&app, "login_hint=alice%40example.com", edit).await;
        let cleared = set_cookies(&response)
            .iter()
            .any(|c| c.starts_with("sso_session_flow_") && c.contains("Max-Age=0"));
        assert!(cleared, "{edit:?}: the flow cookie is cleared");
        assert_no_session(&app, &browser, response, &format!("{edit:?}")).await;
    }
    assert_eq!(
        app.workos.requests(Endpoint::Token),
        OTHERS.len(),
        "each code was exchanged, and its profile refused after"
    );
}

#[tokio::test]
async fn a2_the_profile_is_bound_to_its_flow_even_when_everything_is_admitted() {
    let app = harness::start(|b| {
        b.allow_any_organization()
            .allowed_connections(["conn_01GLOBEXENTRA", "conn_01GOOGLE", "conn_01ACMEOKTA"])
            .allowed_providers(["GoogleOAuth", "AzureSAML"])
    })
    .await;
    // A flow for Acme's organization completed elsewhere.
    for edit in OTHERS {
        let (browser, response) = edited_login(&app, "login_hint=alice%40example.com", edit).await;
        assert_no_session(&app, &browser, response, &format!("Acme flow, {edit:?}")).await;
    }
    // A flow for Google completed through Acme's IdP, and one for Globex's connection
    // completed through Acme's.
    for (login, edit) in [
        (
            "provider=GoogleOAuth",
            &[
                ("organization", "org_01ACME"),
                ("login_hint", "alice@example.com"),
            ][..],
        ),
        (
            "connection=conn_01GLOBEXENTRA",
            &[
                ("connection", "conn_01ACMEOKTA"),
                ("login_hint", "bob@example.com"),
            ][..],
        ),
        (
            "organization=org_01GLOBEX",
            &[
                ("provider", "GoogleOAuth"),
                ("login_hint", "erin@gmail.test"),
            ][..],
        ),
    ] {
        let (browser, response) = edited_login(&app, login, edit).await;
        assert_no_session(&app, &browser, response, &format!("{login}, {edit:?}")).await;
    }
    // Unedited, each of them signs in.
    for login in [
        "organization=org_01GLOBEX&login_hint=carol%40globex.test",
        "provider=GoogleOAuth&login_hint=erin%40gmail.test",
        "connection=conn_01ACMEOKTA&login_hint=bob%40example.com",
    ] {
        let (_, page) = Browser::new().sign_in(&app, login).await;
        assert_eq!(page.status(), StatusCode::OK, "{login}");
    }
}

#[tokio::test]
async fn a2_a_misbehaving_identity_provider_returning_another_profile_gets_no_session() {
    let app = harness::start(|b| {
        b.allowed_connections(["conn_01GLOBEXENTRA"])
            .allowed_providers(["GoogleOAuth"])
    })
    .await;
    let acme = |organization: serde_json::Value| {
        json!({
            "id": "prof_01MALLORY", "email": "mallory@example.com",
            "organization_id": organization, "connection_id": "conn_01ACMEOKTA",
            "connection_type": "OktaSAML"
        })
    };
    // (login, profile WorkOS returns for it)
    let cases = [
        (
            "login_hint=alice%40example.com",
            acme(json!("org_01GLOBEX")),
        ),
        ("login_hint=alice%40example.com", acme(json!(null))),
        ("login_hint=alice%40example.com", acme(json!("org_01acme"))),
        ("login_hint=alice%40example.com", acme(json!("org_01ACME "))),
        ("login_hint=alice%40example.com", acme(json!(""))),
        (
            "login_hint=alice%40example.com",
            json!({"id": "prof_01X", "email": "x@example.com"}),
        ),
        (
            "connection=conn_01GLOBEXENTRA&login_hint=carol%40globex.test",
            acme(json!("org_01GLOBEX")),
        ),
        (
            "provider=GoogleOAuth&login_hint=erin%40gmail.test",
            json!({"id": "prof_01E", "email": "e@gmail.test", "connection_id": "conn_01GOOGLE",
                   "connection_type": "googleoauth"}),
        ),
        (
            "provider=GoogleOAuth&login_hint=erin%40gmail.test",
            json!({"id": "prof_01E", "email": "e@gmail.test", "connection_id": "conn_01GOOGLE",
                   "connection_type": "GoogleSAML"}),
        ),
    ];
    for (login, profile) in cases {
        app.workos
            .set_fault(Endpoint::Token, Some(Fault::Profile(profile.clone())));
        let browser = Browser::new();
        let started = start_login(&app, &browser, login).await;
        let response = browser.get(&started.callback).await;
        assert_no_session(&app, &browser, response, &format!("{login}: {profile}")).await;
    }
    // The same app still signs in what its flows asked for.
    app.workos.set_fault(Endpoint::Token, None);
    harness::signed_in(&app).await;
}
