//! Fuzzing the readers and the compute entry point with proptest: damaged Parquet bytes
//! and arbitrary date arguments must give an error, never a panic.
//!
//! The default run is a smoke test (a few dozen cases); the long run is
//! `cargo test --test it fuzz_long -- --ignored` (see TESTING.md for how long it ran
//! and what it found).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray};
use proptest::prelude::*;

use crate::support::runtime;

/// A small valid features file, as bytes.
fn valid_parquet() -> Vec<u8> {
    let players: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "a", "c"]));
    let days: ArrayRef = Arc::new(Date32Array::from(vec![20_100, 20_101, 20_150, 20_151]));
    let batch =
        RecordBatch::try_from_iter(vec![("player_lookup", players), ("game_date", days)]).unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

/// Damage: truncate, then overwrite some bytes.
fn damaged() -> impl Strategy<Value = Vec<u8>> {
    let len = valid_parquet().len();
    (
        0..=len,
        proptest::collection::vec((0..len, any::<u8>()), 0..16),
    )
        .prop_map(|(cut, edits)| {
            let mut bytes = valid_parquet();
            for (i, b) in edits {
                bytes[i] = b;
            }
            bytes.truncate(cut.max(1));
            bytes
        })
}

/// Compute with `bytes` as features and as games; Ok or Err, never a panic.
fn compute_survives(dir: &Path, bytes: &[u8]) {
    let (features, out) = (dir.join("f.parquet"), dir.join("out.parquet"));
    std::fs::write(&features, bytes).unwrap();
    let games = dir.join("g.parquet");
    std::fs::write(&games, valid_parquet()).unwrap();
    runtime().block_on(async {
        let _ = completeness::compute::ComputeBuilder::new(&features, &games, &out).await;
        let _ = completeness::compute::ComputeBuilder::new(&games, &features, &out).await;
    });
}

fn dates_survive(text: &str, a: i32, b: i32) {
    let _ = completeness::dates::parse_date(text);
    let day = |n: i32| chrono::NaiveDate::from_num_days_from_ce_opt(n);
    if let (Some(start), Some(end)) = (day(a), day(b)) {
        let _ = completeness::dates::DateRange::new(start, end);
        let _ = completeness::check::Summary::new(end, (b - a).unsigned_abs());
        let _ = completeness::check::Cascade::new(start, a.unsigned_abs());
    }
}

fn date_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,16}",
        "[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}",
        Just("today".to_string()),
        Just("yesterday".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fuzz_smoke_damaged_parquet(bytes in damaged()) {
        let dir = tempfile::tempdir().unwrap();
        compute_survives(dir.path(), &bytes);
    }

    #[test]
    fn fuzz_smoke_dates(text in date_text(), a in -1_000_000i32..1_000_000, b in -1_000_000i32..1_000_000) {
        dates_survive(&text, a, b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(50_000))]

    #[test]
    #[ignore = "long fuzz run: cargo test --test it fuzz_long -- --ignored"]
    fn fuzz_long_damaged_parquet(bytes in damaged()) {
        let dir = tempfile::tempdir().unwrap();
        compute_survives(dir.path(), &bytes);
    }

    #[test]
    #[ignore = "long fuzz run: cargo test --test it fuzz_long -- --ignored"]
    fn fuzz_long_dates(text in date_text(), a in i32::MIN / 2..i32::MAX / 2, b in i32::MIN / 2..i32::MAX / 2) {
        dates_survive(&text, a, b);
    }
}
