//! Runs one scenario's requests through one target in a loop, for a profiler to look at.
//!
//! ```text
//! cargo build --release -p tower-workos-sso-benches --bin profile
//! valgrind --tool=callgrind --toggle-collect='profile::run*' \
//!     --callgrind-out-file=auth_cookie.out target/release/profile auth_cookie sso 2000
//! callgrind_annotate --inclusive=yes auth_cookie.out | head -60
//! perf record -g target/release/profile auth_cookie sso 200000   # where perf works
//! ```
//!
//! `profile SCENARIO TARGET [REQUESTS]` (default 10000): SCENARIO is a group of the `layer`
//! benchmark but `callback`, TARGET one of its ids (`bare`, `noop_layer`, `sso`). The request
//! is checked first, and each one is built before the measured loop (`run`), which is all that
//! callgrind collects with `--toggle-collect='profile::run*'`; without it, start-up (the first
//! random draw, the sign-in through the fake) is in the profile too.

use std::time::Instant;

use axum::body::Body;
use http::Request;
use tower_workos_sso_benches::{scenarios, send};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(group), Some(id)) = (args.next(), args.next()) else {
        eprintln!("usage: profile SCENARIO TARGET [REQUESTS]");
        std::process::exit(2);
    };
    let requests: usize = args
        .next()
        .map(|n| n.parse().expect("REQUESTS is a number"))
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let all = scenarios();
    let Some(scenario) = all.iter().find(|s| s.group == group) else {
        let groups: Vec<_> = all.iter().map(|s| s.group).collect();
        eprintln!("no scenario {group}; scenarios: {}", groups.join(", "));
        std::process::exit(2);
    };
    let Some(target) = scenario.targets.iter().find(|t| t.id == id) else {
        eprintln!("no target {id} in {group}");
        std::process::exit(2);
    };
    rt.block_on(scenario.check());
    let prepared: Vec<_> = (0..requests).map(|_| (scenario.request)()).collect();
    let start = Instant::now();
    run(&rt, &target.app, prepared);
    let elapsed = start.elapsed();
    println!(
        "{group}/{id}: {requests} requests in {elapsed:.2?}, {:.2?} each",
        elapsed / requests as u32
    );
}

/// The measured loop, on its own so that a profiler can collect it alone:
/// `valgrind --tool=callgrind --toggle-collect='profile::run*' ...` leaves out start-up, the
/// sign-in, minting and building the requests.
#[inline(never)]
fn run(rt: &tokio::runtime::Runtime, app: &axum::Router, prepared: Vec<Request<Body>>) {
    rt.block_on(async {
        for request in prepared {
            std::hint::black_box(send(app.clone(), request).await);
        }
    });
}
