//! A3: the allow-list shortcuts and the app's hook decide before any session exists: a refusal
//! shows its reason escaped and sets no session; a hook that fails, panics or hangs gives no
//! session and the server carries on; the hook sees the full sign-in and its claims reach
//! handlers, while raw attributes and OAuth tokens never reach the session.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs};
use tower_workos_sso::{Decision, SignIn};

use super::app::{self, refused};
use crate::support::forge;
use crate::support::harness::{Browser, SESSION_COOKIE};

const ALICE: &str = "login_hint=alice%40example.com"; // Acme, admin, group Engineering
const BOB: &str = "login_hint=bob%40example.com"; // Acme, member, group Sales

#[tokio::test]
async fn a3_each_shortcut_refuses_with_its_fixed_reason_and_no_session() {
    type Configure = fn(tower_workos_sso::SsoConfigBuilder) -> tower_workos_sso::SsoConfigBuilder;
    // (shortcut, refused login, allowed login, the page's reason)
    let cases: [(Configure, &str, &str, &str); 5] = [
        (
            |b| b.allowed_email_domains(["globex.test", "Example.COM"]),
            "",
            ALICE,
            "",
        ),
        (
            |b| b.allowed_email_domains(["globex.test"]),
            ALICE,
            "organization=org_01GLOBEX&login_hint=carol%40globex.test",
            "Accounts of your email domain may not sign in here.",
        ),
        (
            |b| b.allowed_connection_types(["AzureSAML"]),
            ALICE,
            "organization=org_01GLOBEX&login_hint=dave%40globex.test",
            "This kind of sign-in may not be used here.",
        ),
        (
            |b| b.allowed_groups(["Sales", "Support"]),
            ALICE,
            BOB,
            "You are not in a group that may use this application.",
        ),
        (
            |b| b.allowed_roles(["admin"]),
            BOB,
            ALICE,
            "You do not have a role that may use this application.",
        ),
    ];
    for (shortcut, refused_login, allowed_login, reason) in cases {
        let workos = MockWorkOs::start().await.unwrap();
        let app = app::start(workos, |b| {
            shortcut(b.allowed_organizations(["org_01GLOBEX"]))
        })
        .await;
        if !refused_login.is_empty() {
            let (browser, response) = app.sign_in(refused_login).await;
            let body = refused(&app.base, &browser, response, StatusCode::FORBIDDEN).await;
            assert!(body.contains(&reason.replace('\'', "&#x27;")), "{body}");
            assert!(body.contains("Sign in again"), "a fresh login is offered");
            // The profile was fetched (the code exchanged) and refused after.
            assert_eq!(app.workos.requests(Endpoint::Token), 1);
            let me = browser.get(&app.url("/me")).await;
            assert_eq!(me.status(), StatusCode::SEE_OTHER, "not signed in");
        }
        let me = app.me(allowed_login).await;
        assert!(me["email"].is_string(), "{allowed_login} is let in");
    }

    // The email shortcut looks at the whole domain the IdP asserted.
    let workos = MockWorkOs::start().await.unwrap();
    let app = app::start(workos, |b| b.allowed_email_domains(["example.com"])).await;
    for email in [
        "mallory@example.com.evil.test",
        "mallory@evil-example.com",
        "mallory@sub.example.com",
        "example.com@evil.test",
        "mallory@example.com@evil.test",
        "mallory",
    ] {
        app.workos.set_fault(
            Endpoint::Token,
            Some(Fault::Profile(json!({
                "id": "prof_01M", "email": email, "organization_id": "org_01ACME",
                "connection_id": "conn_01ACMEOKTA", "connection_type": "OktaSAML"
            }))),
        );
        let (browser, response) = app.sign_in(ALICE).await;
        let body = refused(&app.base, &browser, response, StatusCode::FORBIDDEN).await;
        assert!(
            !body.contains("mallory") && !body.contains("evil"),
            "{email}: {body}"
        );
    }
}

#[tokio::test]
async fn a3_the_hooks_denial_is_shown_escaped_and_gives_no_session() {
    let reasons: Arc<Mutex<String>> = Arc::default();
    let reason = reasons.clone();
    let workos = MockWorkOs::start().await.unwrap();
    let app = app::start(workos, move |b| {
        b.authorize(move |_| {
            let reason = reason.lock().unwrap().clone();
            async move { Decision::deny(reason) }
        })
    })
    .await;
    for (reason, raw, escaped) in [
        (
            "<script>alert(document.cookie)</script>",
            Some("<script"),
            "&lt;script&gt;alert(document.cookie)&lt;/script&gt;",
        ),
        (
            "\"><img src=x onerror=alert(1)>",
            Some("<img"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
        ),
        (
            "Contractors use <a href='https://evil.test'>the portal</a> & more",
            Some("<a href"),
            "Contractors use &lt;a href=&#x27;https://evil.test&#x27;&gt;the portal&lt;/a&gt; &amp; more",
        ),
        (
            "line one\r\nSet-Cookie: x=y",
            Some("\r\n"),
            "line one  Set-Cookie: x=y",
        ),
        ("", None, "You may not sign in to this application."),
    ] {
        *reasons.lock().unwrap() = reason.to_owned();
        let (browser, response) = app.sign_in(ALICE).await;
        let body = refused(&app.base, &browser, response, StatusCode::FORBIDDEN).await;
        assert!(body.contains(escaped), "{reason:?}: {body}");
        let main = &body[body.find("<main>").unwrap()..body.find("</main>").unwrap()];
        if let Some(raw) = raw {
            assert!(!main.contains(raw), "{reason:?} raw in {main}");
        }
    }
}

#[tokio::test]
async fn a3_the_hook_sees_the_full_sign_in_and_only_its_claims_reach_the_session() {
    let seen: Arc<Mutex<Vec<SignIn>>> = Arc::default();
    let record = seen.clone();
    let workos = MockWorkOs::start().await.unwrap();
    let app = app::start(workos, move |b| {
        b.allowed_providers(["GoogleOAuth"])
            .authorize(move |sign_in: SignIn| {
                record.lock().unwrap().push(sign_in.clone());
                async move {
                    let provider = sign_in.oauth_tokens.as_ref().map(|t| t.provider.clone());
                    Decision::allow()
                        .with_claim("tenant", sign_in.profile.organization_id.clone())
                        .with_claim("admin", sign_in.profile.has_role("admin"))
                        .with_claim("raw_attribute_count", sign_in.raw_attributes.len())
                        .with_claim("oauth_provider", provider)
                        .with_claim("teams", ["red", "blue"])
                }
            })
    })
    .await;

    let (browser, page) = app.sign_in(ALICE).await;
    assert_eq!(page.status(), StatusCode::OK);
    let me: serde_json::Value = page.json().await.unwrap();
    let claims = &me["claims"];
    assert_eq!(claims["tenant"], "org_01ACME");
    assert_eq!(claims["admin"], true);
    assert_eq!(claims["teams"], json!(["red", "blue"]));
    assert!(claims["raw_attribute_count"].as_u64().unwrap() >= 5);
    assert_eq!(claims["oauth_provider"], json!(null));
    assert_eq!(
        me["session_claims"], me["claims"],
        "the extractor reads the session's"
    );
    assert_eq!(me["trimmed"], json!([]));
    // As a bearer token, the same claims.
    let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    let bearer: serde_json::Value = crate::support::harness::api()
        .get(app.url("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bearer["claims"], me["claims"]);

    let erin = app
        .me("provider=GoogleOAuth&login_hint=erin%40gmail.test")
        .await;
    assert_eq!(erin["claims"]["oauth_provider"], "GoogleOAuth");
    assert_eq!(erin["claims"]["tenant"], json!(null));

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let alice = &seen[0];
    assert_eq!(alice.profile.email, "alice@example.com");
    assert_eq!(alice.selector.organization_id(), Some("org_01ACME"));
    let assertion = alice.raw_attributes["saml_assertion_id"].as_str().unwrap();
    assert!(assertion.starts_with("_testkit_assertion_"));
    let tokens = seen[1]
        .oauth_tokens
        .as_ref()
        .expect("Google hands over tokens");
    let access = tokens.access_token.expose();
    let refresh = tokens.refresh_token.as_ref().unwrap().expose();
    assert!(access.starts_with("ya29.testkit-") && refresh.starts_with("1//testkit-"));
    assert!(tokens.expires_at.is_some() && tokens.scopes.contains(&"email".to_owned()));

    // Neither raw attributes nor tokens are in a session, a page, or a Debug print.
    let session = forge::payload(&token).to_string();
    for secret in [assertion, access, refresh] {
        assert!(!session.contains(secret), "{secret} in the session");
        assert!(!erin.to_string().contains(secret) && !me.to_string().contains(secret));
        assert!(!format!("{seen:?}").contains(secret), "{secret} in Debug");
    }
    assert!(format!("{tokens:?}").contains("<redacted>"));
}

#[tokio::test]
async fn a3_a_hook_that_errs_panics_or_hangs_gives_no_session_and_the_server_carries_on() {
    const ALLOW: u8 = 0;
    const PANIC: u8 = 1;
    const HANG: u8 = 2;
    const ERROR: u8 = 3;
    const PANIC_EARLY: u8 = 4;
    let mode = Arc::new(AtomicU8::new(ALLOW));
    let hook_mode = mode.clone();
    let workos = MockWorkOs::start().await.unwrap();
    let app = app::start(workos, move |b| {
        b.authorize_timeout(Duration::from_millis(500))
            .authorize(move |_| {
                let mode = hook_mode.load(Ordering::SeqCst);
                assert_ne!(mode, PANIC_EARLY, "a hook bug before its future");
                async move {
                    match mode {
                        PANIC => panic!("a hook bug"),
                        HANG => std::future::pending().await,
                        ERROR => Err(std::io::Error::other("the user database is down")),
                        _ => Ok(Decision::allow()),
                    }
                }
            })
    })
    .await;
    for (what, failing) in [
        ("panic", PANIC),
        ("hang", HANG),
        ("error", ERROR),
        ("panic before the future", PANIC_EARLY),
    ] {
        mode.store(failing, Ordering::SeqCst);
        let started = Instant::now();
        let (browser, response) = tokio::time::timeout(Duration::from_secs(5), app.sign_in(ALICE))
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer, the hook's deadline did not hold"));
        let body = refused(
            &app.base,
            &browser,
            response,
            StatusCode::INTERNAL_SERVER_ERROR,
        )
        .await;
        assert!(
            body.contains("could not complete the sign-in"),
            "{what}: {body}"
        );
        assert!(
            !body.contains("database") && !body.contains("hook bug"),
            "{body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{what}: the deadline holds"
        );
        // The server keeps serving, during and after.
        let public = Browser::new().get(&app.url("/public")).await;
        assert_eq!(public.text().await.unwrap(), "public", "{what}");
    }
    mode.store(ALLOW, Ordering::SeqCst);
    assert_eq!(app.me(ALICE).await["email"], "alice@example.com");
}
