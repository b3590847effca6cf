//! Allocations per request of each contender of the comparison, on the measuring thread.
//!
//! ```text
//! cargo run --release -p tower-workos-sso-compare --bin alloc-compare [-- REQUESTS]   (default 2000)
//! ```
//!
//! As the crate's `alloc` binary: checked, 100 requests to warm up, then REQUESTS requests built
//! beforehand, each one's `oneshot` plus body read counted; the total divided by REQUESTS.

use tower_workos_sso_benches::alloc::{Counting, Counts, counted, is_counting};
use tower_workos_sso_benches::send;
use tower_workos_sso_compare::{GROUP, contenders};

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
    let contenders = rt.block_on(contenders());

    println!(
        "{GROUP}: allocations per request ({requests} requests each, after {WARM_UP} to warm up)"
    );
    println!();
    println!(
        "| {:<18} | {:>10} | {:>10} | {:>13} |",
        "contender", "allocs/req", "bytes/req", "allocs − bare"
    );
    println!("|{:-<20}|{:->12}|{:->12}|{:->15}|", "", "", "", "");
    let mut bare = None;
    for contender in &contenders {
        for _ in 0..WARM_UP {
            rt.block_on(send(contender.app.clone(), contender.request()));
        }
        let prepared: Vec<_> = (0..requests).map(|_| contender.request()).collect();
        let mut total = Counts::default();
        for request in prepared {
            let app = contender.app.clone();
            let (response, counts) = counted(|| rt.block_on(send(app, request)));
            drop(response);
            total += counts;
        }
        let per = total.allocations as f64 / requests as f64;
        let bytes = total.bytes as f64 / requests as f64;
        let delta = match bare {
            None => {
                bare = Some(per);
                "—".to_owned()
            }
            Some(b) => format!("{:+.1}", per - b),
        };
        println!(
            "| {:<18} | {per:>10.1} | {bytes:>10.0} | {delta:>13} |",
            contender.id
        );
    }
}
