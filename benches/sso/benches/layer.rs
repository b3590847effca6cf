//! The layer in process: each scenario's request through the bare app and through the layer (and,
//! on the public path, through a layer that does nothing), in the same run.
//!
//! ```text
//! cargo bench -p tower-workos-sso-benches --bench layer
//! cargo bench -p tower-workos-sso-benches --bench layer -- --warm-up-time 1 --measurement-time 2   # smoke
//! cargo run -p tower-workos-sso-benches --bin criterion-table                                        # the table
//! ```
//!
//! Each iteration's request is built outside the timed part (criterion's `iter_batched`); the
//! timed part is `Router::oneshot` and reading the whole body. Every target is checked once
//! before it is timed (see `Scenario::check`).

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tower_workos_sso_benches::fake::{CALLBACK_BARE, CALLBACK_OK, Callback};
use tower_workos_sso_benches::{scenarios, send};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn in_process(c: &mut Criterion) {
    let rt = runtime();
    for scenario in scenarios() {
        rt.block_on(scenario.check());
        let mut group = c.benchmark_group(scenario.group);
        group.throughput(Throughput::Elements(1));
        for target in &scenario.targets {
            group.bench_function(target.id, |b| {
                b.to_async(&rt).iter_batched(
                    || (target.app.clone(), (scenario.request)()),
                    |(app, request)| send(app, request),
                    BatchSize::SmallInput,
                );
            });
        }
        group.finish();
    }
}

fn callback(c: &mut Criterion) {
    let rt = runtime();
    let callback = rt.block_on(async { Callback::start() });
    rt.block_on(callback.check());
    let mut group = c.benchmark_group("callback");
    group.throughput(Throughput::Elements(1));
    for (id, app, expect) in [
        ("bare", &callback.bare, CALLBACK_BARE),
        ("sso", &callback.sso, CALLBACK_OK),
    ] {
        group.bench_function(id, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let callback = &callback;
                async move {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        // Untimed: the login and the visit to the fake that yields a fresh code.
                        let request = callback.prepare().await;
                        let app = app.clone();
                        let start = Instant::now();
                        let response = send(app, request).await;
                        timed += start.elapsed();
                        debug_assert_eq!(response.status(), expect.status);
                        drop(response);
                    }
                    timed
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, in_process, callback);
criterion_main!(benches);
