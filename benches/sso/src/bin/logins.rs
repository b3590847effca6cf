//! Completed sign-ins per second over loopback: the app (axum + `SsoLayer`) and the crate's fake
//! WorkOS each serve on 127.0.0.1 on a thread and runtime of their own, and CONCURRENCY browsers
//! on a third sign in over and over: `GET /auth/login`, the fake's authorize endpoint (which
//! answers at once with a code), `GET /auth/callback` with the flow cookie, whose code the layer
//! exchanges with the fake through its pooled client. A sign-in counts when the callback answers
//! 303 with a session cookie; anything else stops the run.
//!
//! ```text
//! cargo run --release -p tower-workos-sso-benches --bin logins [-- SECONDS [CONCURRENCY]]
//! ```
//!
//! Defaults: 10 seconds after 2 of warm-up, 32 browsers. Targets only 127.0.0.1, stops by
//! itself. The three threads share the machine's cores, so the figure is for the whole system
//! (browser, app and identity provider on one machine), not for the layer alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::{Client, StatusCode, header};
use tower_workos_sso::SsoLayer;
use tower_workos_sso::store::MemoryStore;
use tower_workos_sso_benches::fake::FakeWorkOs;
use tower_workos_sso_benches::with_sso;

const WARM_UP: Duration = Duration::from_secs(2);

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(10, |s| s.parse().expect("SECONDS"));
    let concurrency: usize = args.next().map_or(32, |s| s.parse().expect("CONCURRENCY"));

    let fake = FakeWorkOs::start();
    // Each used login state is remembered until its flow would expire (10 minutes), so the
    // store is sized for the run: at 5 000 sign-ins a second the default 100 000 last 20 s.
    let store = MemoryStore::with_capacity(MemoryStore::DEFAULT_CAPACITY, 4_000_000);
    let config = fake
        .config(SystemTime::now())
        .clock(SystemTime::now)
        .max_concurrent_exchanges(concurrency.max(32))
        .session_store(store)
        .build()
        .expect("a valid configuration");
    let app = with_sso(SsoLayer::new(config));
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("app".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        })
        .expect("a thread");
    let base = format!("http://{}", address_rx.recv().expect("the app is bound"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (completed, latencies) = runtime.block_on(run(&base, seconds, concurrency));
    let mut latencies = latencies;
    latencies.sort_unstable();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{completed} sign-ins in {seconds} s with {concurrency} browsers: {:.0} sign-ins/s; \
         per sign-in p50 {:.2} ms, p99 {:.2} ms",
        completed as f64 / seconds as f64,
        p(0.50).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
    );
    drop(fake);
}

/// Runs the browsers: warm-up, then `seconds` counted; the sign-ins completed and each one's
/// duration.
async fn run(base: &str, seconds: u64, concurrency: usize) -> (u64, Vec<Duration>) {
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicU64::new(0));
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency * 2)
        .build()
        .expect("a client");
    let browsers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, base) = (client.clone(), base.to_owned());
            let (counting, stop, completed) = (counting.clone(), stop.clone(), completed.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    sign_in(&client, &base).await;
                    if counting.load(Ordering::Relaxed) {
                        completed.fetch_add(1, Ordering::Relaxed);
                        latencies.push(started.elapsed());
                    }
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(WARM_UP).await;
    counting.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    counting.store(false, Ordering::Relaxed);
    let counted = completed.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for browser in browsers {
        latencies.extend(browser.await.expect("a browser task"));
    }
    (counted, latencies)
}

/// One browser's sign-in; panics on anything but the expected answers.
async fn sign_in(client: &Client, base: &str) {
    let login = client
        .get(format!(
            "{base}/auth/login?login_hint=alice%40example.com&return_to=%2Fapp"
        ))
        .header(header::ACCEPT, "text/html")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("the app answers");
    assert_eq!(login.status(), StatusCode::FOUND, "login");
    let flow = cookie_pair(&login).expect("a flow cookie");
    let authorize = location(&login);

    let back = client
        .get(authorize)
        .send()
        .await
        .expect("the fake answers");
    assert_eq!(back.status(), StatusCode::FOUND, "authorize");
    let callback = location(&back);
    let path = callback
        .find("/auth/callback?")
        .map(|at| &callback[at..])
        .expect("a callback URL");

    let done = client
        .get(format!("{base}{path}"))
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, flow)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("the app answers");
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "callback");
    let session = cookie_pair(&done).expect("a session cookie");
    assert!(session.starts_with("__Host-sso_session="), "{session}");
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .expect("a Location")
        .to_owned()
}

/// The `name=value` of the first `Set-Cookie` that sets a value.
fn cookie_pair(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|line| line.split(';').next())
        .find(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
        .map(str::to_owned)
}
