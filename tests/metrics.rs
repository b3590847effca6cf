//! The metrics the README names, counted as a real app over HTTP on 127.0.0.1 produces them:
//! a sign-in, sessions verified (cookie and bearer) and refused, a logout, WorkOS calls with
//! their latency and outcome (ok and failed), a WorkOS error at the callback, webhook
//! deliveries, a store that is down, and a `RedisStore`'s health against a real
//! `redis-server`; and nothing at all for anonymous requests.
//!
//! Its own test binary: it installs a process-wide recorder, which would count other tests'
//! requests in the shared binary.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, StatusCode};
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs, WebhookEvent};
use tower_workos_sso::{Profile, Selector, SsoConfig, SsoConfigBuilder, SsoLayer};

/// The integration tests' `redis-server` helper; this binary uses part of it.
#[cfg(feature = "redis")]
#[allow(dead_code)]
#[path = "integration/support/redis.rs"]
mod redis_server;

/// The integration tests' store that is down.
#[path = "integration/support/down.rs"]
mod down;
use down::Down;

/// Every series by name and labels (`name{a=x,b=y}`): a counter's total, or a histogram's
/// number of samples.
#[derive(Default)]
struct Counts(Mutex<BTreeMap<String, Arc<AtomicU64>>>);

impl Counts {
    fn series(&self, key: &Key) -> Arc<AtomicU64> {
        let mut labels: Vec<String> = key
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().unwrap().entry(name).or_default().clone()
    }

    fn get(&self, series: &str) -> u64 {
        let map = self.0.lock().unwrap();
        map.get(series)
            .map_or(0, |value| value.load(Ordering::SeqCst))
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        let map = self.0.lock().unwrap();
        map.iter()
            .map(|(name, value)| (name.clone(), value.load(Ordering::SeqCst)))
            .collect()
    }
}

struct Series(Arc<AtomicU64>);

impl metrics::CounterFn for Series {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::SeqCst);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::SeqCst);
    }
}

impl metrics::GaugeFn for Series {
    fn increment(&self, _: f64) {}
    fn decrement(&self, _: f64) {}
    fn set(&self, value: f64) {
        self.0.store(value as u64, Ordering::SeqCst);
    }
}

impl metrics::HistogramFn for Series {
    fn record(&self, value: f64) {
        assert!(
            (0.0..60.0).contains(&value),
            "a latency in seconds: {value}"
        );
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct Recording(Arc<Counts>);

impl Recorder for Recording {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Series(self.0.series(key))))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Series(self.0.series(key))))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Series(self.0.series(key))))
    }
}

const SECRET: &[u8] = b"metrics-test-session-secret-0123456789abcdef";
const WEBHOOK_SECRET: &[u8] = b"whsec_metrics_test";

#[tokio::test]
async fn the_documented_metrics_count_what_happened_and_anonymous_requests_count_nothing() {
    let counts = Arc::new(Counts::default());
    metrics::set_global_recorder(Recording(counts.clone())).expect("the only recorder");

    let workos = MockWorkOs::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = app_config(&workos, &base)
        .optional_paths(["/public"])
        .workos_webhooks(WEBHOOK_SECRET)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/", get(|p: Profile| async move { p.email.clone() }))
        .route("/public", get(|| async { "public" }))
        .layer(SsoLayer::new(config));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = |path: &str| format!("{base}{path}");

    // Anonymous requests, public or not, count nothing.
    let plain = Client::new();
    for path in ["/public", "/"] {
        plain.get(url(path)).send().await.unwrap();
    }
    assert_eq!(counts.snapshot(), BTreeMap::new());

    // A sign-in: started, the code exchanged with WorkOS (timed), completed, then the session
    // is verified on the home page.
    let jar = Arc::new(Jar::default());
    let browser = Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let home = browser
        .get(url("/auth/login?login_hint=alice%40example.com"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(home.text().await.unwrap(), "alice@example.com");
    assert_eq!(counts.get("workos_sso_logins_started_total{}"), 1);
    assert_eq!(counts.get("workos_sso_logins_completed_total{}"), 1);
    let token_call = "{call=token,outcome=ok}";
    assert_eq!(
        counts.get(&format!("workos_sso_workos_requests_total{token_call}")),
        1
    );
    assert_eq!(
        counts.get(&format!(
            "workos_sso_workos_request_duration_seconds{token_call}"
        )),
        1
    );
    assert_eq!(
        counts.get("workos_sso_sessions_verified_total{source=cookie}"),
        1
    );

    // The same session as a bearer token, as an API client sends it.
    let api = plain
        .get(url("/"))
        .bearer_auth(session_cookie(&jar, &base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    assert_eq!(
        counts.get("workos_sso_sessions_verified_total{source=bearer}"),
        1
    );

    // A token that does not verify.
    let bad = plain
        .get(url("/"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        counts.get("workos_sso_sessions_refused_total{reason=invalid}"),
        1
    );

    // WorkOS's error at the callback, by its code; unknown codes are `other`.
    for code in ["access_denied", "made_up_<code>"] {
        browser
            .get(url(&format!("/auth/callback?error={code}")))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        counts.get("workos_sso_callback_errors_total{code=access_denied}"),
        1
    );
    assert_eq!(
        counts.get("workos_sso_callback_errors_total{code=other}"),
        1
    );
    assert_eq!(
        counts.get("workos_sso_logins_refused_total{reason=idp_error}"),
        2
    );

    // WorkOS failing the code exchange: the call is counted and timed by its outcome.
    workos.set_fault(Endpoint::Token, Some(Fault::status(500)));
    let failed = fresh_browser()
        .get(url("/auth/login?login_hint=bob%40example.com"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(failed.status().is_server_error(), "{}", failed.status());
    workos.set_fault(Endpoint::Token, None);
    let failed_call = "{call=token,outcome=server_error}";
    assert_eq!(
        counts.get(&format!("workos_sso_workos_requests_total{failed_call}")),
        1
    );
    assert_eq!(
        counts.get(&format!(
            "workos_sso_workos_request_duration_seconds{failed_call}"
        )),
        1
    );
    assert_eq!(
        counts.get("workos_sso_logins_refused_total{reason=exchange_failed}"),
        1
    );

    // A webhook refused, then one that revokes.
    let hook = url("/auth/webhooks/workos");
    let event = WebhookEvent::connection_deleted("conn_01UNKNOWN");
    workos
        .send_webhook(&hook, b"whsec_wrong", &event)
        .await
        .unwrap();
    workos
        .send_webhook(&hook, WEBHOOK_SECRET, &event)
        .await
        .unwrap();
    assert_eq!(
        counts.get("workos_sso_webhook_deliveries_total{outcome=bad_signature}"),
        1
    );
    assert_eq!(
        counts.get("workos_sso_webhook_deliveries_total{outcome=revoked}"),
        1
    );
    assert_eq!(
        counts.get("workos_sso_revocations_total{by=webhook,scope=connection}"),
        1
    );

    // A logout revokes the session; the session's cookie copy is then refused as revoked.
    let cookie = session_cookie(&jar, &base);
    let once = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let out = once
        .post(url("/auth/logout"))
        .header("origin", &base)
        .header("cookie", format!("sso_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        counts.get("workos_sso_revocations_total{by=logout,scope=session}"),
        1
    );
    let again = plain
        .get(url("/"))
        .header("cookie", format!("sso_session={cookie}"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        counts.get("workos_sso_sessions_refused_total{reason=revoked}"),
        1
    );
    server.abort();

    // A store that is down: a session on a protected path is refused for it, a logout cannot
    // record its revocation, a callback cannot use its login state.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = |path: &str| format!("{base}{path}");
    let sso = SsoLayer::new(
        app_config(&workos, &base)
            .session_store(Down)
            .build()
            .unwrap(),
    );
    let app = Router::new()
        .route("/", get(|p: Profile| async move { p.email.clone() }))
        .layer(sso.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let alice = Profile::new("prof_01ALICE", "alice@example.com").with_organization("org_01ACME");
    let token = sso.issue_session_token(&alice).unwrap();
    let refused = plain
        .get(url("/"))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        counts.get("workos_sso_sessions_refused_total{reason=store_unavailable}"),
        1
    );
    let out = once
        .post(url("/auth/logout"))
        .header("origin", &base)
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(counts.get("workos_sso_store_errors_total{op=revoke}"), 1);
    let login = fresh_browser()
        .get(url("/auth/login?login_hint=alice%40example.com"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        counts.get("workos_sso_store_errors_total{op=login_state}"),
        1
    );
    assert_eq!(
        counts.get("workos_sso_logins_refused_total{reason=store_unavailable}"),
        1
    );
    server.abort();

    #[cfg(feature = "redis")]
    redis_health(&counts).await;
}

/// `workos_sso_store_connected` follows a `RedisStore`'s connection to a real `redis-server`,
/// and a failed connection attempt counts as a store error.
#[cfg(feature = "redis")]
async fn redis_health(counts: &Counts) {
    use std::time::{Duration, Instant};
    use tower_workos_sso::store::RedisStore;

    /// Waits until `series` reads `value`, polling; panics after ten seconds.
    async fn reaches(counts: &Counts, series: &str, value: impl Fn(u64) -> bool) {
        let (start, mut every) = (
            Instant::now(),
            tokio::time::interval(Duration::from_millis(5)),
        );
        while !value(counts.get(series)) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{series}: {}",
                counts.get(series)
            );
            every.tick().await;
        }
    }

    let mut redis = redis_server::RedisServer::start().await;
    let store = RedisStore::builder(&redis.url())
        .timeout(Duration::from_secs(2))
        .start()
        .unwrap();
    assert!(store.wait_connected(Duration::from_secs(10)).await);
    reaches(counts, "workos_sso_store_connected{}", |up| up == 1).await;
    let errors = counts.get("workos_sso_store_errors_total{op=connect}");
    redis.kill();
    reaches(counts, "workos_sso_store_connected{}", |up| up == 0).await;
    reaches(counts, "workos_sso_store_errors_total{op=connect}", |n| {
        n > errors
    })
    .await;
}

/// A browser that keeps cookies and follows redirects.
fn fresh_browser() -> Client {
    Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .build()
        .unwrap()
}

/// The app at `base`, against the fake `workos`.
fn app_config(workos: &MockWorkOs, base: &str) -> SsoConfigBuilder {
    SsoConfig::builder()
        .api_key(workos.api_key())
        .client_id(workos.client_id())
        .api_base_url(workos.base_url())
        .redirect_uri(format!("{base}/auth/callback"))
        .session_secret(SECRET.to_vec())
        .default_selector(Selector::organization("org_01ACME").unwrap())
}

/// The session cookie `jar` holds for `base`.
fn session_cookie(jar: &Jar, base: &str) -> String {
    let header = jar.cookies(&base.parse().unwrap()).expect("cookies");
    let header = header.to_str().unwrap();
    header
        .split("; ")
        .find_map(|pair| pair.strip_prefix("sso_session="))
        .expect("a session cookie")
        .to_owned()
}
