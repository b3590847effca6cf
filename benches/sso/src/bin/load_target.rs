//! The server `scripts/load` puts under load: one port on 127.0.0.1, six routes.
//!
//! ```text
//! load-target [--port PORT] [--workers N]     (PORT 0, the default, picks a free one)
//! ```
//!
//! - `/bare`: the bare handler, not behind the layer (added after `.layer`, so it skips it);
//! - `/bare-300ns`: the same, after a busy wait of 300 ns: what 300 ns more work per request
//!   reads as under the load, beside what the layer's work reads as;
//! - `/noop`: the bare handler behind a layer that does nothing, mounted the same way;
//! - `/public`: a public path behind the layer (no session read);
//! - `/optional`: an optional path behind the layer (the session read, the handler ignores it);
//! - `/app`: protected, the handler takes `Profile`.
//!
//! `/bare` and `/app` answer the same text. At start-up it signs a browser in through the
//! crate's fake WorkOS (stopped before serving) and prints, once bound, two lines and nothing
//! more:
//!
//! ```text
//! cookie: <the Cookie header a signed-in browser sends: 8 site cookies and the session>
//! listening: http://127.0.0.1:PORT
//! ```
//!
//! The layer's clock stands still at start-up, so however long the load lasts no response
//! renews the session (see `tower_workos_sso_benches::config`). It never binds anything but
//! 127.0.0.1.

use std::io::Write;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use axum::routing::get;
use tower_workos_sso::SsoLayer;
use tower_workos_sso_benches::fake::Fake;
use tower_workos_sso_benches::{NoopLayer, SESSION_COOKIE, cookie_header, hello_fixed, with_sso};

fn main() {
    let mut port = 0u16;
    let mut workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or_else(|| usage(&format!("{name} needs a number")))
        };
        match arg.as_str() {
            "--port" => port = value("--port") as u16,
            "--workers" => workers = value("--workers").max(1),
            _ => usage(&format!("unknown argument {arg}")),
        }
    }

    // A browser session needs a sign-in: through the fake WorkOS, in process, before serving.
    let fake = Fake::start();
    let layer = SsoLayer::new(
        fake.config(SystemTime::now())
            .build()
            .expect("a valid configuration"),
    );
    let sso = with_sso(layer);
    let session = fake.sign_in_blocking(&sso);
    drop(fake);
    // `/noop`: the bare handler behind a do-nothing layer mounted as the SSO layer is, so the
    // load shows what mounting any layer costs beside what the SSO layer costs.
    let noop = axum::Router::new()
        .route("/noop", get(hello_fixed))
        .layer(NoopLayer);
    let app = sso
        .route("/bare", get(hello_fixed))
        .route("/bare-300ns", get(hello_after_300ns))
        .merge(noop);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("a local address");
        let cookie = cookie_header(&[(SESSION_COOKIE, &session)]);
        let mut out = std::io::stdout().lock();
        writeln!(out, "cookie: {}", cookie.to_str().expect("ASCII")).expect("stdout");
        writeln!(out, "listening: http://{addr}").expect("stdout");
        out.flush().expect("stdout");
        drop(out);
        axum::serve(listener, app).await.expect("serve");
    });
}

/// The bare handler after at least 300 ns of busy waiting (the clock read included, ~20 ns a
/// read), not a sleep: the server's CPU stays as busy as the layer would keep it.
async fn hello_after_300ns() -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_nanos(300) {
        std::hint::spin_loop();
    }
    hello_fixed().await
}

fn usage(problem: &str) -> ! {
    eprintln!("load-target: {problem}\nusage: load-target [--port PORT] [--workers N]");
    std::process::exit(2);
}
