//! Fuzzing the readers and the compute entry point with proptest: damaged Parquet bytes,
//! valid Parquet holding extreme and NULL values in every column (the structured target:
//! flipped bytes never produce a date near the Date32 limits), and arbitrary date
//! arguments must give an error, never a panic.
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
        let _ = completeness::pipeline::compute::ComputeBuilder::new(&features, &games, &out).await;
        let _ = completeness::pipeline::compute::ComputeBuilder::new(&games, &features, &out).await;
    });
}

/// A key value: ordinary, empty, NULL, or one near the limits of its type.
fn day() -> impl Strategy<Value = Option<i32>> {
    prop_oneof![
        4 => (20_000i32..20_500).prop_map(Some),
        1 => Just(None),
        1 => Just(Some(i32::MIN)),
        1 => Just(Some(i32::MAX)),
        1 => Just(Some(i32::MIN + 365)),
        1 => Just(Some(i32::MAX - 60)),
        1 => any::<i32>().prop_map(Some),
    ]
}

fn player() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => "[a-c]{1,2}".prop_map(Some),
        1 => Just(None),
        1 => Just(Some(String::new())),
        1 => "\\PC{0,24}".prop_map(Some),
    ]
}

/// Valid Parquet with the given keys (and a struct of stored structs for `diff`).
fn keys_parquet(rows: &[(Option<String>, Option<i32>)]) -> Vec<u8> {
    let players: ArrayRef = Arc::new(StringArray::from(
        rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
    ));
    let days: ArrayRef = Arc::new(Date32Array::from(
        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_from_iter(vec![("player_lookup", players), ("game_date", days)]).unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

/// Compute and diff over extreme keys: Ok or Err, never a panic; an accepted input
/// holds only dates the tool supports.
fn extremes_survive(
    dir: &Path,
    features: &[(Option<String>, Option<i32>)],
    games: &[(Option<String>, Option<i32>)],
) {
    let (f, g, out) = (
        dir.join("f.parquet"),
        dir.join("g.parquet"),
        dir.join("out.parquet"),
    );
    std::fs::write(&f, keys_parquet(features)).unwrap();
    std::fs::write(&g, keys_parquet(games)).unwrap();
    let supported = |d: &Option<i32>| d.is_none_or(|d| (-25_567..=47_846).contains(&d));
    let ok = runtime().block_on(async {
        completeness::pipeline::compute::ComputeBuilder::new(&f, &g, &out)
            .await
            .is_ok()
    });
    if ok {
        assert!(
            features.iter().chain(games).all(|r| supported(&r.1)),
            "an extreme date was accepted"
        );
    }
}

fn dates_survive(text: &str, a: i32, b: i32) {
    let _ = completeness::model::dates::parse_date(text);
    let day = |n: i32| chrono::NaiveDate::from_num_days_from_ce_opt(n);
    if let (Some(start), Some(end)) = (day(a), day(b)) {
        let _ = completeness::model::dates::DateRange::new(start, end);
        let _ = completeness::ops::check::Summary::new(end, (b - a).unsigned_abs());
        let _ = completeness::ops::check::Cascade::new(start, a.unsigned_abs());
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

    #[test]
    fn fuzz_smoke_extreme_values(
        features in proptest::collection::vec((player(), day()), 0..12),
        games in proptest::collection::vec((player(), day()), 0..24),
    ) {
        let dir = tempfile::tempdir().unwrap();
        extremes_survive(dir.path(), &features, &games);
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
    fn fuzz_long_extreme_values(
        features in proptest::collection::vec((player(), day()), 0..12),
        games in proptest::collection::vec((player(), day()), 0..24),
    ) {
        let dir = tempfile::tempdir().unwrap();
        extremes_survive(dir.path(), &features, &games);
    }

    #[test]
    #[ignore = "long fuzz run: cargo test --test it fuzz_long -- --ignored"]
    fn fuzz_long_dates(text in date_text(), a in i32::MIN / 2..i32::MAX / 2, b in i32::MIN / 2..i32::MAX / 2) {
        dates_survive(&text, a, b);
    }
}
