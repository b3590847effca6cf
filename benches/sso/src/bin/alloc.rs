//! Allocations per request for each scenario of the `layer` benchmark, on the measuring thread.
//!
//! ```text
//! cargo run --release -p tower-workos-sso-benches --bin alloc [-- REQUESTS]   (default 2000)
//! ```
//!
//! For each scenario and target: the request is checked, sent 100 times to warm up (pools,
//! lazily built state), then REQUESTS requests are built beforehand and each one's
//! `oneshot` plus body read is counted, with whatever the runtime runs meanwhile on this thread
//! (`block_on` itself costs none: see the bare rows). The figure is the total divided by
//! REQUESTS. The callback's fake WorkOS runs on another thread and is not counted; the layer's
//! own HTTP client is (its connection task runs on the measuring thread's runtime).

use tower_workos_sso_benches::alloc::{Counting, Counts, counted, is_counting};
use tower_workos_sso_benches::fake::Callback;
use tower_workos_sso_benches::{scenarios, send};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const WARM_UP: usize = 100;

fn main() {
    let requests: u64 = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("REQUESTS is a number"))
        .unwrap_or(2000);
    assert!(is_counting(), "the counting allocator is not installed");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    println!("allocations per request ({requests} requests each, after {WARM_UP} to warm up)");
    println!();
    println!(
        "| {:<20} | {:<10} | {:>10} | {:>10} | {:>12} |",
        "scenario", "target", "allocs/req", "bytes/req", "allocs − bare"
    );
    println!(
        "|{:-<22}|{:-<12}|{:->12}|{:->12}|{:->15}|",
        "", "", "", "", ""
    );

    for scenario in scenarios() {
        rt.block_on(scenario.check());
        let mut bare = None;
        for target in &scenario.targets {
            for _ in 0..WARM_UP {
                rt.block_on(send(target.app.clone(), (scenario.request)()));
            }
            let prepared: Vec<_> = (0..requests).map(|_| (scenario.request)()).collect();
            let mut total = Counts::default();
            for request in prepared {
                let app = target.app.clone();
                let (response, counts) = counted(|| rt.block_on(send(app, request)));
                drop(response);
                total += counts;
            }
            row(scenario.group, target.id, total, requests, &mut bare);
        }
    }

    let callback = rt.block_on(async { Callback::start() });
    rt.block_on(callback.check());
    let mut bare = None;
    for (id, app) in [("bare", &callback.bare), ("sso", &callback.sso)] {
        let mut total = Counts::default();
        for i in 0..(WARM_UP as u64 + requests) {
            let request = rt.block_on(callback.prepare());
            let app = app.clone();
            let (response, counts) = counted(|| rt.block_on(send(app, request)));
            drop(response);
            if i >= WARM_UP as u64 {
                total += counts;
            }
        }
        row("callback", id, total, requests, &mut bare);
    }
}

fn row(group: &str, id: &str, total: Counts, requests: u64, bare: &mut Option<f64>) {
    let per = total.allocations as f64 / requests as f64;
    let bytes = total.bytes as f64 / requests as f64;
    let delta = match *bare {
        None => {
            *bare = Some(per);
            "—".to_owned()
        }
        Some(b) => format!("{:+.1}", per - b),
    };
    println!("| {group:<20} | {id:<10} | {per:>10.1} | {bytes:>10.0} | {delta:>13} |");
}
