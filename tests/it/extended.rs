//! `backfill --extended`: the second struct column on the sample warehouse, read back
//! from the Delta table: added by a schema change, the five fields untouched, missing
//! games equal to the generator's injected gaps, reruns no-ops, rollback restores.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{Days, NaiveDate};
use completeness::model::extended_column::{EXTENDED_COLUMN, ExtendedColumn, ExtendedCompleteness};
use completeness::samples::{SampleOptions, generate};

use crate::support;

const RANGE: [&str; 4] = ["--start", "2024-12-15", "--end", "2025-02-15"];

type Key = (String, NaiveDate);

fn keys(batch: &RecordBatch) -> Vec<Key> {
    support::strings(batch, "player_lookup")
        .into_iter()
        .zip(support::dates(batch, "game_date"))
        .map(|(p, d)| (p.unwrap(), d.unwrap()))
        .collect()
}

/// Per key, the text of `columns`.
fn text(batch: &RecordBatch, columns: &[&str]) -> BTreeMap<Key, Vec<String>> {
    let options = FormatOptions::default();
    let formatters: Vec<_> = columns
        .iter()
        .map(|c| {
            ArrayFormatter::try_new(batch.column_by_name(c).unwrap().as_ref(), &options).unwrap()
        })
        .collect();
    keys(batch)
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            (
                k,
                formatters.iter().map(|f| f.value(i).to_string()).collect(),
            )
        })
        .collect()
}

fn extended_values(batch: &RecordBatch) -> BTreeMap<Key, Option<ExtendedCompleteness>> {
    let column = batch
        .column_by_name(EXTENDED_COLUMN)
        .expect("the column was added");
    let ext = ExtendedColumn::try_new(column.as_ref(), "test").unwrap();
    keys(batch)
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, ext.get(i)))
        .collect()
}

fn backfill(wh: &Path, runs: &Path, extra: &[&str]) -> serde_json::Value {
    support::cli_json(wh, runs, &[&["backfill"][..], &RANGE, extra].concat())
}

#[test]
fn extended_backfill_adds_the_column_and_leaves_the_five_fields_as_a_plain_backfill() {
    let dir = tempfile::tempdir().unwrap();
    let plain = support::copy_of_samples(&dir.path().join("plain"));
    backfill(&plain, &dir.path().join("plain-runs"), &[]);
    let wh = support::copy_of_samples(&dir.path().join("ext"));
    let runs = dir.path().join("runs");
    let table = support::features_table(&wh);
    let original = support::read_table(&table, None, "game_date, player_lookup");
    let versions = support::delta_versions(&table);

    let report = backfill(&wh, &runs, &["--extended"]);
    assert_eq!(
        support::delta_versions(&table),
        versions + 2,
        "one schema change and one merge"
    );
    let after = support::read_table(&table, None, "game_date, player_lookup");
    let expected = support::read_table(
        &support::features_table(&plain),
        None,
        "game_date, player_lookup",
    );
    // The five fields, read back, are exactly a plain backfill's.
    let five = ["historical_completeness"];
    assert_eq!(text(&after, &five), text(&expected, &five));
    // No other column changed (updated_at aside, on the rows written).
    let schema = original.schema();
    let others: Vec<&str> = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|n| !["historical_completeness", "updated_at"].contains(n))
        .collect();
    assert_eq!(text(&after, &others), text(&original, &others));

    // Every computed record has the extended struct; the report agrees with the table.
    let ext = extended_values(&after);
    let written = ext.values().filter(|v| v.is_some()).count() as u64;
    assert_eq!(Some(written), report["records"]["computed"].as_u64());
    assert_eq!(report["extended"]["changed"], written);
    let with_missing = ext
        .values()
        .flatten()
        .filter(|e| !e.missing_game_dates.is_empty())
        .count();
    assert_eq!(report["extended"]["with_missing_games"], with_missing);
    for e in ext.values().flatten() {
        assert_eq!(
            e.incompleteness_reason.as_deref() == Some("missing_games"),
            !e.missing_game_dates.is_empty()
        );
    }

    // report.html shows the column's reasons and the incomplete records' (issue 25
    // item 3: only the terminal showed them); the data gaps agree with the column.
    let run_id = report["run_id"].as_str().unwrap();
    let page =
        std::fs::read_to_string(runs.join(run_id).join("report").join("report.html")).unwrap();
    assert!(page.contains("Why records fall short (historical_completeness_ext)"));
    assert!(page.contains("Why records are incomplete"));
    let incomplete_with_gaps = report["incomplete_reasons"]["missing_games"]
        .as_u64()
        .unwrap();
    assert!(incomplete_with_gaps <= with_missing as u64);

    // A rerun changes nothing.
    let again = backfill(&wh, &runs, &["--extended"]);
    assert_eq!(again["extended"]["changed"], 0);
    assert_eq!(again["records"]["added"], 0);
    assert!(again["merge"]["table_version"].is_null(), "{again}");
}

/// Each record's missing_game_dates are exactly the injected gaps (the missing day and
/// the dropped rows) of that player in its 60-day window, closed by a later row before it.
#[test]
fn missing_game_dates_are_the_injected_gaps_in_each_window() {
    let truth = generate(&SampleOptions::default()).injected;
    let mut gaps: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    for (p, d, _) in truth.missing_rows.iter().chain(&truth.missing_day_rows) {
        gaps.entry(p.clone()).or_default().insert(*d);
    }
    let dir = tempfile::tempdir().unwrap();
    let wh = support::copy_of_samples(dir.path());
    backfill(&wh, &dir.path().join("runs"), &["--extended"]);
    let table = support::read_table(
        &support::features_table(&wh),
        None,
        "game_date, player_lookup",
    );
    let ext = extended_values(&table);
    let games = support::read_table(
        &wh.join(completeness::model::GAMES_TABLE),
        None,
        "player_lookup, game_date",
    );
    let rows: BTreeSet<Key> = keys(&games).into_iter().collect();
    let mut checked = 0;
    for ((player, day), value) in &ext {
        let Some(value) = value else { continue };
        let window = *day - Days::new(60);
        let expected: Vec<NaiveDate> = gaps
            .get(player)
            .into_iter()
            .flatten()
            .rev()
            .copied()
            .filter(|t| *t >= window && t < day)
            // Known only once a later row of the player exists before the record.
            .filter(|t| {
                rows.range((player.clone(), *t)..(player.clone(), *day))
                    .next()
                    .is_some()
            })
            .collect();
        assert_eq!(value.missing_game_dates, expected, "{player} {day}");
        checked += usize::from(!expected.is_empty());
    }
    assert!(checked > 1000, "{checked} records with injected gaps");
}

#[test]
fn rollback_of_an_extended_run_restores_both_columns() {
    let dir = tempfile::tempdir().unwrap();
    let wh = support::copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = support::features_table(&wh);
    let report = backfill(&wh, &runs, &["--extended"]);
    let version = report["merge"]["table_version"].as_u64().unwrap();
    let before = support::read_table(&table, Some(version - 1), "game_date, player_lookup");
    support::cli_at(&wh, &runs)
        .args(["rollback", report["run_id"].as_str().unwrap()])
        .assert()
        .success();
    let after = support::read_table(&table, None, "game_date, player_lookup");
    let columns = ["historical_completeness", EXTENDED_COLUMN, "updated_at"];
    assert_eq!(text(&after, &columns), text(&before, &columns));
    assert!(extended_values(&after).values().all(Option::is_none));
}
