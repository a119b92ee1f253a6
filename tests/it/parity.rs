//! Property tests: the fast path equals the naive oracle on random data.

use std::future::IntoFuture;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::{Duration, NaiveDate};
use completeness::model::completeness_column::CompletenessColumn;
use completeness::model::{date_to_days, days_to_date};
use completeness::pipeline::compute::compute_batches;
use proptest::prelude::*;

use crate::oracle::{GameRow, oracle};

const PLAYERS: [&str; 4] = ["aaron", "bob", "carl", "dave"];

fn base() -> NaiveDate {
    // Spans the 2024 leap day.
    NaiveDate::from_ymd_opt(2023, 6, 1).unwrap()
}

fn keys_batch(rows: &[GameRow]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("player_lookup", DataType::Utf8, true),
        Field::new("game_date", DataType::Date32, true),
        Field::new("ignored", DataType::Utf8, true),
    ]));
    let players: ArrayRef = Arc::new(StringArray::from(
        rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
    ));
    let dates: ArrayRef = Arc::new(Date32Array::from(
        rows.iter()
            .map(|r| r.1.map(date_to_days))
            .collect::<Vec<_>>(),
    ));
    let extra: ArrayRef = Arc::new(StringArray::from(vec![Some("x"); rows.len()]));
    RecordBatch::try_new(schema, vec![players, dates, extra]).unwrap()
}

/// Run the fast path and decode its output.
fn fast(features: &[(String, NaiveDate)], games: &[GameRow]) -> Vec<Record> {
    let f: Vec<GameRow> = features
        .iter()
        .map(|(p, d)| (Some(p.clone()), Some(*d)))
        .collect();
    // Split games over two batches to exercise multi-batch input.
    let (g1, g2) = games.split_at(games.len() / 2);
    let out = compute_batches(
        &[keys_batch(&f)],
        &[keys_batch(g1), keys_batch(g2)],
        (None, None),
        ("features", "games"),
    )
    .unwrap();
    decode(&out)
}

type Record = (
    String,
    NaiveDate,
    completeness::model::HistoricalCompleteness,
);

/// The records of `compute` output batches, in their order.
fn decode(out: &[RecordBatch]) -> Vec<Record> {
    let out =
        arrow::compute::concat_batches(&completeness::pipeline::compute::results_schema(), out)
            .unwrap();
    let players = out
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let dates = out
        .column(1)
        .as_any()
        .downcast_ref::<Date32Array>()
        .unwrap();
    let structs = CompletenessColumn::try_new(out.column(2).as_ref(), "out").unwrap();
    (0..out.num_rows())
        .map(|i| {
            (
                players.value(i).to_string(),
                days_to_date(dates.value(i)),
                structs.get(i).expect("never NULL"),
            )
        })
        .collect()
}

/// The `compute` command's path: Parquet inputs (games over two files of tiny row groups,
/// looked up as each is decoded), output streamed in row groups of `rows_per_group`.
fn fast_from_files(
    features: &[(String, NaiveDate)],
    games: &[GameRow],
    rows_per_group: usize,
) -> Vec<Record> {
    let dir = tempfile::tempdir().unwrap();
    let f: Vec<GameRow> = features
        .iter()
        .map(|(p, d)| (Some(p.clone()), Some(*d)))
        .collect();
    write(&dir.path().join("features.parquet"), &keys_batch(&f));
    std::fs::create_dir(dir.path().join("games")).unwrap();
    let (g1, g2) = games.split_at(games.len() / 3);
    write(&dir.path().join("games/a.parquet"), &keys_batch(g1));
    write(&dir.path().join("games/b.parquet"), &keys_batch(g2));
    let out = dir.path().join("out.parquet");
    let builder = completeness::pipeline::compute::ComputeBuilder::new(
        dir.path().join("features.parquet"),
        dir.path().join("games"),
        &out,
    )
    .with_rows_per_group(rows_per_group);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(builder.into_future())
        .unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&out).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    decode(&reader.collect::<Result<Vec<_>, _>>().unwrap())
}

/// `batch` as a Parquet file of row groups of 7 rows.
fn write(path: &std::path::Path, batch: &RecordBatch) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(7))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// The oracle's answer: one row per distinct key, sorted by (game_date, player_lookup).
fn naive(features: &[(String, NaiveDate)], games: &[GameRow]) -> Vec<Record> {
    let mut keys: Vec<(NaiveDate, String)> =
        features.iter().map(|(p, d)| (*d, p.clone())).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(d, p)| {
            let v = oracle(&p, d, games);
            (p, d, v)
        })
        .collect()
}

fn player() -> impl Strategy<Value = String> {
    proptest::sample::select(PLAYERS.to_vec()).prop_map(str::to_string)
}

fn date(span: i64) -> impl Strategy<Value = NaiveDate> {
    (0..span).prop_map(|k| base() + Duration::days(k))
}

fn game_row() -> impl Strategy<Value = GameRow> {
    (
        proptest::option::weighted(0.95, player()),
        proptest::option::weighted(0.95, date(900)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fast_path_equals_oracle(
        features in proptest::collection::vec((player(), date(900)), 0..60),
        games in proptest::collection::vec(game_row(), 0..400),
    ) {
        prop_assert_eq!(fast(&features, &games), naive(&features, &games));
    }

    /// The command's path (files in, row groups out) agrees too, whatever the row-group
    /// size: the output order survives being cut into waves of row groups.
    #[test]
    fn command_path_equals_oracle(
        features in proptest::collection::vec((player(), date(900)), 0..60),
        games in proptest::collection::vec(game_row(), 0..400),
        rows_per_group in 1usize..20,
    ) {
        prop_assert_eq!(fast_from_files(&features, &games, rows_per_group), naive(&features, &games));
    }

    /// Dense games around the exact 60- and 365-day edges, with duplicates on one date.
    #[test]
    fn boundaries_and_duplicate_dates(
        d in date(900),
        offsets in proptest::collection::vec(prop_oneof![Just(0i64), Just(1), Just(59), Just(60), Just(61), Just(364), Just(365), Just(366), 1i64..400], 0..40),
        dup in 0usize..3,
    ) {
        let mut games: Vec<GameRow> = offsets.iter().map(|k| (Some("aaron".to_string()), Some(d - Duration::days(*k)))).collect();
        for _ in 0..dup {
            if let Some(first) = games.first().cloned() { games.push(first); }
        }
        let features = vec![("aaron".to_string(), d), ("bob".to_string(), d)];
        prop_assert_eq!(fast(&features, &games), naive(&features, &games));
    }
}

#[test]
fn player_with_no_games_gets_an_empty_list_not_null() {
    let features = vec![("zed".to_string(), base())];
    let out = fast(&features, &[]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].2.contributing_game_dates, Vec::<NaiveDate>::new());
    assert_eq!((out[0].2.games_found, out[0].2.games_expected), (0, 0));
    assert!(out[0].2.is_complete && out[0].2.is_bootstrap);
}

/// semantics.md step 5: the processor looks the 365-day count up only for players with a
/// row in the 60-day window, so a player back from a long absence (rows 61..365 days
/// ago, none in the last 60) is 0/0, complete, bootstrap — not a data gap.
#[test]
fn no_game_in_60_days_is_zero_of_zero_whatever_the_year_holds() {
    let d = base() + Duration::days(400);
    let games: Vec<GameRow> = [61i64, 70, 90, 120, 150, 200, 250, 300, 330, 350, 364]
        .iter()
        .map(|k| (Some("aaron".to_string()), Some(d - Duration::days(*k))))
        .collect();
    let out = fast(&[("aaron".to_string(), d)], &games);
    let hc = &out[0].2;
    assert_eq!((hc.games_found, hc.games_expected), (0, 0));
    assert!(hc.is_complete && hc.is_bootstrap, "{hc:?}");
    assert!(hc.contributing_game_dates.is_empty());
    // One game back inside the window: the year's count applies again (1 of 10).
    let mut back = games.clone();
    back.push((Some("aaron".to_string()), Some(d - Duration::days(3))));
    let hc = &fast(&[("aaron".to_string(), d)], &back)[0].2;
    assert_eq!((hc.games_found, hc.games_expected), (1, 10));
    assert!(!hc.is_complete && !hc.is_bootstrap, "{hc:?}");
}
