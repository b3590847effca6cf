//! SECURITY.md V4-V8: several instances share one truth through `RedisStore`, against a real
//! `redis-server` of each test's own. A revocation on one instance (a logout, a user, an
//! organization) is enforced by every other within a second; a login state is used once across instances; Redis down at start, down
//! mid-run, restarted empty or slow never lets a revoked session back in for long, never
//! blocks public paths, never holds a request, and login states fail closed.

use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use tower_workos_sso::Profile;
use tower_workos_sso::store::{RedisStore, Revocation, SessionRef, SessionStore};
use tower_workos_sso::testkit::{MockWorkOs, WebhookEvent};

use super::app::{self, App, Use};
use crate::support::redis::RedisServer;

/// What a test allows for a revocation to reach every instance (the issue's bound).
const WITHIN: Duration = Duration::from_secs(1);

/// Each store's command deadline: generous, so a loaded CI machine's slow answer is not taken
/// for a slow Redis.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Longer than anything bounded may take here, even on a loaded machine: what is not done by
/// then was held by a Redis that does not answer.
const HANG: Duration = Duration::from_secs(15);

/// A store on `url`, as each instance would make its own.
fn store(url: &str) -> RedisStore {
    RedisStore::builder(url)
        .timeout(STORE_TIMEOUT)
        .start()
        .expect("a valid Redis URL")
}

/// The webhook endpoint's secret of every instance.
const WEBHOOK_SECRET: &[u8] = b"whsec_shared_store_test";

/// An instance of the app with its own store on `url`, connected, and the webhook route on.
async fn instance(url: &str) -> (App, RedisStore) {
    let store = store(url);
    let app = app::start({
        let store = store.clone();
        |b| b.session_store(store).workos_webhooks(WEBHOOK_SECRET)
    })
    .await;
    assert!(store.wait_connected(Duration::from_secs(5)).await);
    (app, store)
}

/// How long until `token` stops opening `app`; panics past `limit`.
async fn refused_within(app: &App, token: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    while app.opens(token, Use::Cookie).await {
        assert!(
            start.elapsed() < limit,
            "{} still accepts the token",
            app.base
        );
    }
    start.elapsed()
}

/// What `future` gives; a panic naming `what` if it is not done within [`HANG`].
async fn unheld<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HANG, future)
        .await
        .unwrap_or_else(|_| panic!("{what} waited on a stalled Redis"))
}

/// Waits until every store is connected again after Redis came back.
async fn reconnected(stores: &[&RedisStore]) {
    for store in stores {
        assert!(store.wait_connected(Duration::from_secs(5)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_a_logout_on_one_instance_is_enforced_on_every_other_within_a_second() {
    let mut redis = RedisServer::start().await;
    let (a, store_a) = instance(&redis.url()).await;
    let (b, store_b) = instance(&redis.url()).await;
    let (c, store_c) = instance(&redis.url()).await;

    // Signed in on A, the session works on B and C.
    let first = a.sign_in("login_hint=alice%40example.com").await;
    let second = a.sign_in("login_hint=bob%40example.com").await;
    for app in [&a, &b, &c] {
        assert!(app.opens(&first, Use::Cookie).await, "{}", app.base);
        assert!(app.opens(&second, Use::Bearer).await, "{}", app.base);
    }
    // Logged out on B, refused on B at once and on A and C within a second.
    assert_eq!(
        b.log_out(&first, Use::Cookie).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(!b.opens(&first, Use::Cookie).await);
    for app in [&a, &c] {
        let took = refused_within(app, &first, WITHIN).await;
        eprintln!("revocation reached {} in {took:?}", app.base);
    }

    // Redis dies: every instance keeps serving from its view, the revoked session stays out.
    redis.kill();
    for app in [&a, &b, &c] {
        assert!(!app.opens(&first, Use::Cookie).await, "{}", app.base);
        assert!(app.opens(&second, Use::Cookie).await, "{}", app.base);
    }
    // A logout during the outage is enforced where it happened, at once.
    assert_eq!(
        c.log_out(&second, Use::Cookie).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(!c.opens(&second, Use::Cookie).await);
    // Signing in needs Redis (the login state is used once everywhere): it fails closed.
    let (hops, page, _) = a.browse("/auth/login?login_hint=alice%40example.com").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "{hops:?}");
    assert!(hops.last().unwrap().contains("/auth/callback"), "{hops:?}");

    // Redis is back, empty (nothing was saved): the outage's logout reaches A and B, and the
    // first logout holds everywhere, also on an instance started after the restart.
    redis.restart().await;
    reconnected(&[&store_a, &store_b, &store_c]).await;
    for app in [&a, &b] {
        refused_within(app, &second, WITHIN).await;
    }
    let (d, _store_d) = instance(&redis.url()).await;
    for app in [&a, &b, &c, &d] {
        assert!(!app.opens(&first, Use::Cookie).await, "{}", app.base);
        assert!(!app.opens(&second, Use::Bearer).await, "{}", app.base);
    }
    // And signing in works again, on every instance.
    let third = a.sign_in("login_hint=alice%40example.com").await;
    for app in [&b, &c, &d] {
        assert!(app.opens(&third, Use::Cookie).await, "{}", app.base);
    }
}

#[tokio::test]
async fn v5_a_login_state_is_used_once_across_instances() {
    let redis = RedisServer::start().await;
    let (one, two) = (store(&redis.tcp_url()), store(&redis.tcp_url()));
    assert!(one.wait_connected(Duration::from_secs(5)).await);
    assert!(two.wait_connected(Duration::from_secs(5)).await);
    let until = std::time::SystemTime::now() + Duration::from_secs(600);
    assert!(one.consume_login_state("flow-1", until).await.unwrap());
    assert!(!two.consume_login_state("flow-1", until).await.unwrap());
    assert!(!one.consume_login_state("flow-1", until).await.unwrap());
    assert!(two.consume_login_state("flow-2", until).await.unwrap());
    // Remembered in Redis until the flow's end, not longer.
    let ttl: i64 = redis
        .command(&["PTTL", "tower-workos-sso:state:flow-1"])
        .await
        .trim_start_matches(':')
        .parse()
        .unwrap();
    assert!((590_000..=600_000).contains(&ttl), "{ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v6_with_redis_down_at_start_sessions_fail_closed_and_public_paths_are_served() {
    let mut redis = RedisServer::start().await;
    redis.kill();
    let store = store(&redis.url());
    let app = app::start({
        let store = store.clone();
        |b| b.session_store(store)
    })
    .await;
    let token = app
        .layer
        .issue_session_token(&crate::support::harness::alice())
        .unwrap();
    let token = token.expose();
    let client = app.client();
    // Nothing is known of other instances' revocations yet: a session is not let in.
    let started = Instant::now();
    let me = Use::Bearer.send(client, &app.url("/api/me"), token).await;
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE);
    let public = client.get(app.url("/public")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::OK);
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    // A public path is served to a caller with a session too, as to an anonymous one.
    let public = Use::Bearer.send(client, &app.url("/public"), token).await;
    assert_eq!(public.status(), StatusCode::OK);
    assert_eq!(public.text().await.unwrap(), "public, anonymous");
    // Signing in fails closed too, and quickly.
    let (hops, page, _) = app
        .browse("/auth/login?login_hint=alice%40example.com")
        .await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "{hops:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Once Redis answers, the instance connects by itself.
    redis.restart().await;
    assert!(store.wait_connected(Duration::from_secs(5)).await);
    assert!(app.opens(token, Use::Bearer).await);
    app.sign_in("login_hint=alice%40example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v7_a_stalled_redis_holds_no_request_and_a_logout_made_meanwhile_still_spreads() {
    let redis = RedisServer::start().await;
    let (a, _store_a) = instance(&redis.tcp_url()).await;
    let (b, _store_b) = instance(&redis.tcp_url()).await;
    let token = a.sign_in("login_hint=alice%40example.com").await;
    assert!(b.opens(&token, Use::Cookie).await);

    // Redis stops answering until the test lets it go on: a request that waited for it would
    // wait until then, so each one below must be done while it is still stopped.
    redis.pause().await;
    // Sessions are checked from the local view, without waiting on Redis even for a deadline.
    let started = Instant::now();
    assert!(unheld("a session check", b.opens(&token, Use::Cookie)).await);
    assert!(started.elapsed() < STORE_TIMEOUT, "{:?}", started.elapsed());
    // A logout waits at most the deadline and is enforced here at once.
    let out = unheld("a logout", a.log_out(&token, Use::Cookie)).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(!a.opens(&token, Use::Cookie).await);
    // A callback cannot use its login state: 503 within the deadline, not a hang.
    let login = b.browse("/auth/login?login_hint=bob%40example.com");
    let (hops, page, _) = unheld("a callback", login).await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "{hops:?}");

    // When Redis answers again, the logout reaches B.
    redis.resume().await;
    refused_within(&b, &token, HANG).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v8_a_webhook_received_by_one_instance_ends_the_sessions_on_every_other() {
    let redis = RedisServer::start().await;
    let (a, _store_a) = instance(&redis.tcp_url()).await;
    let (b, _store_b) = instance(&redis.tcp_url()).await;
    let token = a.sign_in("login_hint=alice%40example.com").await;
    assert!(b.opens(&token, Use::Cookie).await);
    let workos = MockWorkOs::start().await.unwrap();
    let event = WebhookEvent::connection_deleted("conn_01ACMEOKTA").with_created_at(a.now() * 1000);
    let url = |app: &App| app.url("/auth/webhooks/workos");
    // Signed on the apps' clocks, which stand still: the wall clock may have left the window.
    let answer = workos
        .send_webhook_at(&url(&a), WEBHOOK_SECRET, &event, a.now() * 1000)
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    refused_within(&b, &token, WITHIN).await;
    // The same event delivered to the other instance is known there as a replay.
    let again = workos
        .send_webhook_at(&url(&b), WEBHOOK_SECRET, &event, b.now() * 1000)
        .await
        .unwrap();
    let answer: serde_json::Value = again.json().await.unwrap();
    assert_eq!(answer["status"], "replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v7_a_redis_silent_for_less_than_three_health_checks_keeps_its_connection() {
    // A missed health check on a loaded machine is not a dead Redis: dropping the connection
    // for one would make every callback meanwhile a 503 while Redis is fine.
    let redis = RedisServer::start().await;
    let deadline = Duration::from_millis(300);
    let store = RedisStore::builder(&redis.tcp_url())
        .timeout(deadline)
        .start()
        .unwrap();
    assert!(store.wait_connected(HANG).await);
    // Silent for two seconds: a health check a second, each with a 300 ms deadline, misses
    // one or two, never three.
    redis.pause().await;
    let silent = Instant::now();
    let mut every = tokio::time::interval(Duration::from_millis(20));
    while silent.elapsed() < Duration::from_secs(2) {
        every.tick().await;
        assert!(store.is_connected(), "dropped after {:?}", silent.elapsed());
    }
    redis.resume().await;
    assert!(store.is_connected());
    let until = std::time::SystemTime::now() + Duration::from_secs(600);
    assert!(
        store
            .consume_login_state("after-silence", until)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v7_a_query_made_while_the_store_reconnects_waits_for_it() {
    let redis = RedisServer::start().await;
    // A deadline well past the pause below, so the reconnect is done within it.
    let store = RedisStore::builder(&redis.url())
        .timeout(Duration::from_secs(10))
        .start()
        .unwrap();
    assert!(store.wait_connected(HANG).await);
    // The store's subscription is cut, and Redis holds every command (the reconnect's too)
    // for three seconds.
    let replies = redis
        .transaction(&[
            &["CLIENT", "KILL", "TYPE", "pubsub"],
            &["CLIENT", "PAUSE", "3000", "ALL"],
        ])
        .await;
    assert_eq!(replies, [":1", "+OK"]);
    let (cut, mut every) = (
        Instant::now(),
        tokio::time::interval(Duration::from_millis(5)),
    );
    while store.is_connected() {
        assert!(cut.elapsed() < HANG, "the store never noticed");
        every.tick().await;
    }
    // A callback's query now waits for the reconnect (within its deadline) rather than fail.
    let until = std::time::SystemTime::now() + Duration::from_secs(600);
    let mut query = std::pin::pin!(store.consume_login_state("during-reconnect", until));
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(query.as_mut().poll(cx))).await;
    assert!(first.is_pending(), "answered at once: {first:?}");
    assert!(query.await.unwrap(), "answered once reconnected");
    assert!(store.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_a_key_revoked_again_counts_once_against_max_revocations() {
    let redis = RedisServer::start().await;
    let bounded = |max: usize| {
        RedisStore::builder(&redis.tcp_url())
            .timeout(STORE_TIMEOUT)
            .max_revocations(max)
            .start()
            .unwrap()
    };
    let one = bounded(2);
    assert!(one.wait_connected(HANG).await);
    let now = SystemTime::now();
    let until = now + Duration::from_secs(3600);
    let alice = Revocation::User("prof_01ALICE".into());
    // One user revoked at three moments: one key, three records in Redis.
    for back in [3, 2, 1] {
        let at = now - Duration::from_secs(back);
        one.revoke(alice.clone(), at, until).await.unwrap();
    }
    let key = "tower-workos-sso:revocations";
    assert_eq!(redis.command(&["ZCARD", key]).await, ":3");
    // Another instance loads them: one revocation, which a view of two holds.
    let two = bounded(2);
    assert!(two.wait_connected(HANG).await);
    let signed_in = now - Duration::from_secs(10);
    let session = |sid, user| SessionRef::new(sid, user, signed_in);
    let answer = |store: &RedisStore, sid, user| store.is_revoked_now(&session(sid, user)).unwrap();
    assert!(answer(&two, "sid-1", "prof_01ALICE").unwrap());
    assert!(!answer(&two, "sid-2", "prof_01BOB").unwrap());
    // Three keys do not fit in two: such a view fails closed.
    let wide = bounded(10);
    assert!(wide.wait_connected(HANG).await);
    for other in ["prof_01BOB", "prof_01CAROL"] {
        let other = Revocation::User(other.into());
        wide.revoke(other, now, until).await.unwrap();
    }
    let three = bounded(2);
    assert!(three.wait_connected(HANG).await);
    assert!(answer(&three, "sid-2", "prof_01DAVE").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_a_user_or_an_organization_revoked_on_one_instance_is_refused_on_every_other_within_a_second()
 {
    let redis = RedisServer::start().await;
    let (a, _store_a) = instance(&redis.tcp_url()).await;
    let (b, _store_b) = instance(&redis.tcp_url()).await;
    let (c, _store_c) = instance(&redis.tcp_url()).await;
    // Alice and Bob of Acme signed in on A; Carol of Globex holds a token minted on A.
    let alice = a.sign_in("login_hint=alice%40example.com").await;
    let bob = a.sign_in("login_hint=bob%40example.com").await;
    let carol = Profile::new("prof_01CAROL", "carol@globex.test").with_organization("org_01GLOBEX");
    let carol = a.layer.issue_session_token(&carol).unwrap();
    let carol = carol.expose();
    for app in [&a, &b, &c] {
        assert!(app.opens(&alice, Use::Cookie).await, "{}", app.base);
        assert!(app.opens(&bob, Use::Bearer).await, "{}", app.base);
        assert!(app.opens(carol, Use::Bearer).await, "{}", app.base);
    }

    // A user, revoked on B: refused there at once, on A and C within a second; Bob untouched.
    b.layer.revoke_user("prof_01ALICE").await.unwrap();
    assert!(!b.opens(&alice, Use::Bearer).await);
    for app in [&a, &c] {
        let took = refused_within(app, &alice, WITHIN).await;
        eprintln!("the user's revocation reached {} in {took:?}", app.base);
        assert!(app.opens(&bob, Use::Cookie).await, "{}", app.base);
    }

    // An organization, revoked on C: refused there at once, on A and B within a second; Carol
    // (another organization) untouched.
    c.layer.revoke_organization("org_01ACME").await.unwrap();
    assert!(!c.opens(&bob, Use::Bearer).await);
    for app in [&a, &b] {
        let took = refused_within(app, &bob, WITHIN).await;
        eprintln!(
            "the organization's revocation reached {} in {took:?}",
            app.base
        );
        assert!(app.opens(carol, Use::Bearer).await, "{}", app.base);
    }

    // A sign-in after both (a second past the latest instance's clock) works everywhere.
    let later = [&a, &b, &c].iter().map(|app| app.now()).max().unwrap() + 1;
    for app in [&a, &b, &c] {
        app.advance_to(later);
    }
    let again = a.sign_in("login_hint=alice%40example.com").await;
    for app in [&b, &c] {
        assert!(app.opens(&again, Use::Cookie).await, "{}", app.base);
    }
}
