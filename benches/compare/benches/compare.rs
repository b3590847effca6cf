//! The same authenticated request through the crate and the alternatives, beside the bare app,
//! in one run (see the contenders in `src/lib.rs`).
//!
//! ```text
//! cargo bench -p tower-workos-sso-compare --bench compare
//! cargo bench -p tower-workos-sso-compare --bench compare -- --warm-up-time 1 --measurement-time 2   # smoke
//! cargo run -p tower-workos-sso-benches --bin criterion-table                                          # the table
//! ```

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tower_workos_sso_benches::send;
use tower_workos_sso_compare::{GROUP, contenders};

fn compare(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let contenders = rt.block_on(contenders());
    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(1));
    for contender in &contenders {
        group.bench_function(contender.id, |b| {
            b.to_async(&rt).iter_batched(
                || (contender.app.clone(), contender.request()),
                |(app, request)| send(app, request),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
