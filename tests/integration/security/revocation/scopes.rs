//! V2: one call revokes every session of a user, an organization or a connection. Every token
//! signed in before it is refused (browser cookies, bearer use, CLI and service tokens, and a
//! token minted later for such a session) until none could verify any more; sessions of others
//! are untouched, a fresh sign-in afterwards works, and instances sharing a store agree.

use std::sync::Arc;
use std::time::Duration;

use tower_workos_sso::store::{MemoryStore, Revocation};
use tower_workos_sso::{Profile, Selector};

use super::app::{self, App, Use, claims, seconds};
use crate::support::harness::alice;

/// A token and whether the revocation under test must refuse it.
struct Held {
    what: String,
    token: String,
    refused: bool,
}

fn minted(app: &App, what: &str, profile: &Profile, refused: bool) -> Held {
    let token = app.layer.issue_session_token(profile).unwrap();
    Held {
        what: what.to_owned(),
        token: token.expose().to_owned(),
        refused,
    }
}

async fn browser(app: &App, who: &str, refused: bool) -> (Held, String) {
    let token = app.sign_in(&format!("login_hint={who}")).await;
    let cli = app.cli_token(&token).await;
    (
        Held {
            what: format!("{who}'s browser"),
            token,
            refused,
        },
        cli,
    )
}

/// Checks every held token, as cookie (browser sessions only) and as bearer: once `revoked`,
/// the ones to refuse are refused, and the others still open the app.
async fn check(app: &App, held: &[Held], revoked: bool, when: &str) {
    for Held {
        what,
        token,
        refused,
    } in held
    {
        let hows: &[Use] = if claims(token)["typ"] == "session" {
            &Use::BOTH
        } else {
            &[Use::Bearer]
        };
        for how in hows {
            let open = !(revoked && *refused);
            assert_eq!(
                app.opens(token, *how).await,
                open,
                "{when}: {what} as {how:?}"
            );
        }
    }
}

/// Signs in the browsers of `users` (login hints), their CLI tokens, and the given minted
/// tokens; revokes with `revoke`; then checks refusals now, later, near the absolute end, and
/// that `again` (a login hint of a refused user) may sign in afresh.
async fn scenario(
    app: App,
    users: &[(&str, bool)],
    mut held: Vec<Held>,
    revoke: Revocation,
    again: &str,
) {
    let mut sids = Vec::new();
    for (who, refused) in users {
        let (browser, cli) = browser(&app, who, *refused).await;
        sids.push((
            claims(&browser.token)["sid"].as_str().unwrap().to_owned(),
            *refused,
        ));
        held.push(Held {
            what: format!("{who}'s CLI token"),
            token: cli,
            refused: *refused,
        });
        held.push(browser);
    }
    let signed_in = seconds(&held.last().unwrap().token, "auth_time");
    check(&app, &held, false, "before").await;

    let what = format!("{revoke:?}");
    app.layer.revoke(revoke).await.unwrap();
    check(&app, &held, true, &format!("{what}, at once")).await;

    // A fresh sign-in afterwards works, and leaves the others as they were.
    app.advance(Duration::from_secs(1));
    let (fresh, fresh_cli) = browser(&app, again, false).await;
    assert_ne!(claims(&fresh.token)["sid"], claims(&held[0].token)["sid"]);
    held.push(fresh);
    held.push(Held {
        what: "the fresh CLI token".into(),
        token: fresh_cli,
        refused: false,
    });
    check(&app, &held, true, &format!("{what}, after a fresh sign-in")).await;

    // Near the absolute end, a token minted for a revoked session is still refused, while one
    // minted for a session that was not revoked opens the app to its last second.
    let absolute_end = signed_in + 8 * 3600;
    app.advance_to(absolute_end - 60);
    let late: Vec<Held> = sids
        .iter()
        .map(|(sid, refused)| Held {
            what: format!("a late token of {sid}"),
            token: app.mint_for(sid),
            refused: *refused,
        })
        .collect();
    app.advance_to(absolute_end + 30);
    check(
        &app,
        &late,
        true,
        &format!("{what}, at the end plus leeway"),
    )
    .await;
}

#[tokio::test]
async fn v2_revoking_a_user_ends_every_session_they_signed_in_before() {
    let app = app::start(|b| b).await;
    let held = vec![
        minted(&app, "a new session of alice", &alice(), true),
        minted(
            &app,
            "alice's id under another organization",
            &Profile::new("prof_01ALICE", "alice@other.test").with_organization("org_01OTHER"),
            true,
        ),
        minted(
            &app,
            "a service account",
            &Profile::new("prof_01CIBOT", "ci@example.com").with_organization("org_01ACME"),
            false,
        ),
    ];
    let users = [
        ("alice%40example.com", true),
        ("bob%40example.com", false),
        ("alice%40example.com", true),
    ];
    let revoke = Revocation::User("prof_01ALICE".into());
    scenario(app, &users, held, revoke, "alice%40example.com").await;
}

#[tokio::test]
async fn v2_revoking_an_organization_ends_every_session_of_its_members() {
    // Globex's members sign in through the default selector; others get minted tokens.
    let app =
        app::start(|b| b.default_selector(Selector::organization("org_01GLOBEX").unwrap())).await;
    let erin = Profile::new("prof_01ERIN", "erin@gmail.test")
        .with_connection("conn_01GOOGLE", "GoogleOAuth");
    let held = vec![
        minted(&app, "alice of Acme", &alice(), false),
        minted(&app, "erin, in no organization", &erin, false),
        minted(
            &app,
            "a Globex service account",
            &Profile::new("prof_01GLOBEXBOT", "bot@globex.test").with_organization("org_01GLOBEX"),
            true,
        ),
    ];
    let users = [("carol%40globex.test", true), ("dave%40globex.test", true)];
    let revoke = Revocation::Organization("org_01GLOBEX".into());
    scenario(app, &users, held, revoke, "dave%40globex.test").await;
}

#[tokio::test]
async fn v2_revoking_a_connection_ends_every_session_signed_in_through_it() {
    let app = app::start(|b| b).await;
    let held = vec![
        minted(
            &app,
            "an Acme member through another connection",
            &Profile::new("prof_01ZED", "zed@example.com")
                .with_organization("org_01ACME")
                .with_connection("conn_01ACMEGOOGLE", "GoogleOAuth"),
            false,
        ),
        minted(
            &app,
            "carol of Globex",
            &Profile::new("prof_01CAROL", "carol@globex.test")
                .with_organization("org_01GLOBEX")
                .with_connection("conn_01GLOBEXENTRA", "AzureSAML"),
            false,
        ),
        minted(&app, "alice's service token", &alice(), true),
    ];
    let users = [("alice%40example.com", true), ("bob%40example.com", true)];
    let revoke = Revocation::Connection("conn_01ACMEOKTA".into());
    scenario(app, &users, held, revoke, "bob%40example.com").await;
}

#[tokio::test]
async fn v2_the_shorthands_revoke_the_same_and_instances_sharing_a_store_agree() {
    let shared = Arc::new(MemoryStore::new());
    let one = app::start(|b| b.session_store(shared.clone())).await;
    let two = app::start(|b| b.session_store(shared.clone())).await;
    // A third instance with its own store (none configured) knows nothing of the others'.
    let alone = app::start(|b| b).await;
    let alice_token = one.sign_in("login_hint=alice%40example.com").await;
    let bob_token = one.sign_in("login_hint=bob%40example.com").await;
    let zed = Profile::new("prof_01ZED", "zed@example.com")
        .with_organization("org_01ACME")
        .with_connection("conn_01ACMEGOOGLE", "GoogleOAuth");
    let zed_token = one.layer.issue_session_token(&zed).unwrap();
    let zed_token = zed_token.expose();
    for app in [&one, &two, &alone] {
        for token in [&alice_token, &bob_token] {
            assert!(app.opens(token, Use::Bearer).await);
        }
    }

    two.layer.revoke_user("prof_01ALICE").await.unwrap();
    for app in [&one, &two] {
        assert!(!app.opens(&alice_token, Use::Cookie).await);
        assert!(app.opens(&bob_token, Use::Cookie).await);
    }
    assert!(
        alone.opens(&alice_token, Use::Bearer).await,
        "no shared store"
    );

    let bob_sid = claims(&bob_token)["sid"].as_str().unwrap().to_owned();
    one.layer.revoke_session(&bob_sid).await.unwrap();
    assert!(!two.opens(&bob_token, Use::Bearer).await);
    assert!(two.opens(zed_token, Use::Bearer).await);

    two.layer
        .revoke_connection("conn_01ACMEGOOGLE")
        .await
        .unwrap();
    assert!(!one.opens(zed_token, Use::Bearer).await);
    // A second later on both instances' clocks.
    one.advance(Duration::from_secs(1));
    two.advance(Duration::from_secs(1));
    let fresh = one.sign_in("login_hint=bob%40example.com").await;
    one.layer.revoke_organization("org_01GLOBEX").await.unwrap();
    assert!(two.opens(&fresh, Use::Bearer).await, "another organization");
    two.layer.revoke_organization("org_01ACME").await.unwrap();
    assert!(!one.opens(&fresh, Use::Cookie).await);

    // An empty id revokes nothing and says so.
    assert!(one.layer.revoke_user("").await.is_err());
    assert!(alone.opens(&bob_token, Use::Bearer).await);
}
