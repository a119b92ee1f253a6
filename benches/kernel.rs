//! The window kernel alone (keys already in memory): `compute::compute_batches` on the
//! sample league at scales 1 and 4. The end-to-end comparison with DuckDB is
//! `scripts/bench` (see BENCHMARKS.md).

use chrono::NaiveDate;
use completeness::samples::{SampleOptions, generate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn inputs(
    scale: u32,
) -> (
    Vec<arrow::array::RecordBatch>,
    Vec<arrow::array::RecordBatch>,
) {
    let data = generate(&SampleOptions {
        seed: 42,
        scale,
        start: NaiveDate::from_ymd_opt(2024, 11, 6).unwrap(),
        end: NaiveDate::from_ymd_opt(2026, 1, 22).unwrap(),
    });
    (data.features, data.games)
}

fn kernel(c: &mut Criterion) {
    let mut group = c.benchmark_group("compute_batches");
    group.sample_size(20);
    for scale in [1, 4] {
        let (features, games) = inputs(scale);
        let records: usize = features.iter().map(|b| b.num_rows()).sum();
        group.throughput(Throughput::Elements(records as u64));
        group.bench_function(format!("scale {scale} ({records} records)"), |b| {
            b.iter(|| {
                completeness::pipeline::compute::compute_batches(
                    &features,
                    &games,
                    (None, None),
                    ("f", "g"),
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
