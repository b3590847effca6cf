//! A6: a profile too large for the cookie. Authorization runs on the full profile; what the
//! session keeps is the app's choice (the hook's `keep_*`), else the documented default (custom
//! attributes, then groups, are dropped); handlers see that it happened; and a session that
//! cannot fit even so is refused.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs, Seed};
use tower_workos_sso::{Decision, SignIn};

use super::app::{self, refused};
use crate::support::forge;
use crate::support::harness::SESSION_COOKIE;

const ALICE: &str = "login_hint=alice%40example.com";
const BOB: &str = "login_hint=bob%40example.com";
/// The one group that matters, listed after hundreds of others.
const NEEDED: &str = "App-Users";
const GROUPS: usize = 400;

/// A fake where alice and bob are each in 400 groups (far more than a cookie holds); alice's
/// last one is [`NEEDED`].
async fn big_groups() -> MockWorkOs {
    let mut seed = Seed::default();
    let acme = &mut seed.connections[0];
    for (i, user) in acme.users.iter_mut().enumerate() {
        user.groups = (0..GROUPS)
            .map(|g| format!("Directory-Group-{g:03}"))
            .collect();
        if i == 0 {
            *user.groups.last_mut().unwrap() = NEEDED.to_owned();
        }
    }
    MockWorkOs::start_with(seed).await.unwrap()
}

#[tokio::test]
async fn a6_hundreds_of_groups_are_authorized_in_full_and_the_handler_sees_the_trim() {
    let seen = Arc::new(AtomicUsize::new(0));
    let record = seen.clone();
    let app = app::start(big_groups().await, move |b| {
        b.allowed_groups([NEEDED])
            .authorize(move |sign_in: SignIn| {
                record.store(sign_in.profile.groups.len(), Ordering::SeqCst);
                async { Decision::allow() }
            })
    })
    .await;
    // Alice's one qualifying group is the last of 400: found, so she is in.
    let me = app.me(ALICE).await;
    assert_eq!(
        seen.load(Ordering::SeqCst),
        GROUPS,
        "the hook saw every group"
    );
    assert_eq!(me["email"], "alice@example.com");
    // The default policy dropped the groups, and says so.
    assert_eq!(me["groups"], json!([]));
    assert_eq!(me["trimmed"], json!(["groups"]));
    assert_eq!(me["is_trimmed"], true);
    // Bob has as many groups, none of them qualifying.
    let (browser, response) = app.sign_in(BOB).await;
    let body = refused(&app.base, &browser, response, StatusCode::FORBIDDEN).await;
    assert!(body.contains("not in a group"), "{body}");
}

#[tokio::test]
async fn a6_the_hook_chooses_what_the_session_keeps() {
    let app = app::start(big_groups().await, |b| {
        b.authorize(|sign_in: SignIn| async move {
            let groups = &sign_in.profile.groups;
            let needed = groups.iter().any(|g| g == NEEDED);
            // Keep the group that matters, and move a summary of the rest into a claim.
            Decision::allow()
                .keep_groups([NEEDED])
                .with_claim("directory_groups", groups.len())
                .with_claim("app_user", needed)
        })
    })
    .await;
    let me = app.me(ALICE).await;
    assert_eq!(me["groups"], json!([NEEDED]));
    assert_eq!(me["trimmed"], json!(["groups"]));
    assert_eq!(me["claims"]["directory_groups"], GROUPS);
    assert_eq!(me["claims"]["app_user"], true);
    let bob = app.me(BOB).await;
    assert_eq!(bob["groups"], json!([]));
    assert_eq!(bob["claims"]["app_user"], false);

    // What fits is kept whole and not marked.
    let small = app::start(MockWorkOs::start().await.unwrap(), |b| {
        b.authorize(|_| async { Decision::allow().keep_groups(["Engineering"]) })
    })
    .await;
    let me = small.me(ALICE).await;
    assert_eq!(me["groups"], json!(["Engineering"]));
    assert_eq!(me["trimmed"], json!([]));
    assert_eq!(me["is_trimmed"], false);
}

#[tokio::test]
async fn a6_a_session_too_large_even_trimmed_fails_closed() {
    let extra: Arc<Mutex<usize>> = Arc::default();
    let size = extra.clone();
    let app = app::start(MockWorkOs::start().await.unwrap(), move |b| {
        b.authorize(move |_| {
            let size = *size.lock().unwrap();
            async move { Decision::allow().with_claim("blob", "x".repeat(size)) }
        })
    })
    .await;
    let acme = |extra: serde_json::Value| {
        let mut profile = json!({
            "id": "prof_01BIG", "email": "big@example.com", "organization_id": "org_01ACME",
            "connection_id": "conn_01ACMEOKTA", "connection_type": "OktaSAML",
            "groups": (0..300).map(|g| format!("Group-{g}")).collect::<Vec<_>>(),
            "custom_attributes": {"notes": "n".repeat(3000)},
        });
        profile
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        profile
    };
    // Large but trimmable: custom attributes and groups go, and the handler is told.
    app.workos
        .set_fault(Endpoint::Token, Some(Fault::Profile(acme(json!({})))));
    let me = app.me(ALICE).await;
    assert_eq!(me["email"], "big@example.com");
    assert_eq!(me["trimmed"], json!(["custom_attributes", "groups"]));
    assert_eq!(me["custom_attributes"], json!({}));

    // Too large with nothing left to drop: a name, a role list, or the app's own claims.
    let roles: Vec<_> = (0..300)
        .map(|r| json!({"slug": format!("role-{r}")}))
        .collect();
    for (what, profile, claim) in [
        ("name", acme(json!({"name": "n".repeat(5000)})), 0),
        ("roles", acme(json!({"roles": roles})), 0),
        ("claims", acme(json!({})), 5000),
    ] {
        app.workos
            .set_fault(Endpoint::Token, Some(Fault::Profile(profile)));
        *extra.lock().unwrap() = claim;
        let (browser, response) = app.sign_in(ALICE).await;
        let body = refused(&app.base, &browser, response, StatusCode::BAD_GATEWAY).await;
        assert!(
            body.contains("too large to keep in a session"),
            "{what}: {body}"
        );
        assert!(
            browser.cookie(&app.base, SESSION_COOKIE).is_none(),
            "{what}"
        );
    }

    // A session that fits carries no more than 4 KB.
    app.workos.set_fault(Endpoint::Token, None);
    *extra.lock().unwrap() = 100;
    let (browser, page) = app.sign_in(ALICE).await;
    assert_eq!(page.status(), StatusCode::OK);
    let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    assert!(token.len() < 4000);
    assert_eq!(
        forge::payload(&token)["ext"]["blob"]
            .as_str()
            .unwrap()
            .len(),
        100
    );
}
