//! The acceptance path on a copy of the sample warehouse: dry run, January, full range,
//! rerun; checked record by record against the oracle and the pre-run table.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use completeness::model::completeness_column::CompletenessColumn;
use completeness::model::dates::SeasonCalendar;
use predicates::str::contains;

use crate::oracle::{GameRow, oracle};
use crate::support::*;

fn backfill(wh: &Path, runs: &Path, args: &[&str]) -> serde_json::Value {
    cli_json(wh, runs, &[&["backfill"], args].concat())
}

/// Game rows of the sample warehouse, by player, for the oracle.
fn games_by_player(wh: &Path) -> HashMap<String, Vec<GameRow>> {
    let games = read_table(
        &wh.join(completeness::model::GAMES_TABLE),
        None,
        "player_lookup, game_date",
    );
    let mut by: HashMap<String, Vec<GameRow>> = HashMap::new();
    for (p, d) in strings(&games, "player_lookup")
        .into_iter()
        .zip(dates(&games, "game_date"))
    {
        if let Some(p) = p.clone() {
            by.entry(p.clone()).or_default().push((Some(p), d));
        }
    }
    by
}

#[test]
fn dry_run_then_january_then_full_range_then_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    let v0 = delta_versions(&table);
    let before = file_snapshot(&wh);

    // 1. A dry run touches no file of the warehouse.
    let report = backfill(
        &wh,
        &runs,
        &["--start", "2026-01-01", "--end", "2026-01-22", "--dry-run"],
    );
    assert!(
        file_snapshot(&wh) == before,
        "a dry run changed the warehouse"
    );
    assert_eq!(report["dry_run"], true);
    assert!(
        report["records"]["added"].as_u64().unwrap() > 1000,
        "{report}"
    );

    // 2. January: exactly one new version.
    let report = backfill(
        &wh,
        &runs,
        &["--start", "2026-01-01", "--end", "2026-01-22"],
    );
    assert_eq!(delta_versions(&table), v0 + 1);
    assert_eq!(report["merge"]["conflicts"], 0);
    let written = report["merge"]["rows_written"].as_u64().unwrap();
    let r = &report["records"];
    assert_eq!(
        written,
        r["added"].as_u64().unwrap() + r["changed"].as_u64().unwrap()
    );

    // 3. The full range: one more.
    let report = backfill(
        &wh,
        &runs,
        &["--start", "2024-10-22", "--end", "2026-01-22"],
    );
    assert_eq!(delta_versions(&table), v0 + 2);
    assert!(report["records"]["skipped_bootstrap"].as_u64().unwrap() > 0);

    check_table_against_oracle(&wh, (d("2024-10-22"), d("2026-01-22")));

    // 4. A third identical run: no version, nothing added or changed.
    let report = backfill(
        &wh,
        &runs,
        &["--start", "2024-10-22", "--end", "2026-01-22"],
    );
    assert_eq!(delta_versions(&table), v0 + 2);
    assert_eq!(report["records"]["added"], 0);
    assert_eq!(report["records"]["changed"], 0);
    assert_eq!(report["merge"]["rows_written"], 0);
}

/// Every record in range off bootstrap dates equals the oracle; every other column and
/// every other record equals the pre-run table; updated_at changed exactly where the
/// struct did.
fn check_table_against_oracle(wh: &Path, range: (NaiveDate, NaiveDate)) {
    let table = features_table(wh);
    let order = "game_date, player_lookup";
    let before = read_table(&table, Some(0), order);
    let after = read_table(&table, None, order);
    assert_eq!(
        before.num_rows(),
        after.num_rows(),
        "records inserted or deleted"
    );
    for field in before.schema().fields() {
        let name = field.name();
        if name == "historical_completeness" || name == "updated_at" {
            continue;
        }
        let (a, b) = (
            before.column_by_name(name).unwrap(),
            after.column_by_name(name).unwrap(),
        );
        assert!(a.as_ref() == b.as_ref(), "column {name} changed");
    }
    let games = games_by_player(wh);
    let calendar = season_calendar(wh);
    let players = strings(&after, "player_lookup");
    let days = dates(&after, "game_date");
    let old = CompletenessColumn::try_new(
        before
            .column_by_name("historical_completeness")
            .unwrap()
            .as_ref(),
        "before",
    )
    .unwrap();
    let new = CompletenessColumn::try_new(
        after
            .column_by_name("historical_completeness")
            .unwrap()
            .as_ref(),
        "after",
    )
    .unwrap();
    let (old_at, new_at) = (micros(&before, "updated_at"), micros(&after, "updated_at"));
    let mut checked = 0;
    for i in 0..after.num_rows() {
        let (p, day) = (players[i].clone().unwrap(), days[i].unwrap());
        let covered = range.0 <= day && day <= range.1 && !calendar.is_bootstrap_date(day);
        if covered {
            let expected = oracle(&p, day, games.get(&p).map(Vec::as_slice).unwrap_or(&[]));
            assert_eq!(new.get(i).as_ref(), Some(&expected), "{p} {day}");
            checked += 1;
        } else {
            assert_eq!(
                new.get(i),
                old.get(i),
                "{p} {day} is outside the run but changed"
            );
        }
        assert_eq!(
            old.get(i) != new.get(i),
            old_at[i] != new_at[i],
            "{p} {day}: updated_at must change exactly with the struct"
        );
    }
    assert!(checked > 30_000, "only {checked} records checked");
}

fn season_calendar(wh: &Path) -> SeasonCalendar {
    let schedule = read_table(
        &wh.join(completeness::model::SCHEDULE_TABLE),
        None,
        "game_date",
    );
    // Production's rule, by hand: the first final (status 3) regular-season game.
    let batches = std::slice::from_ref(&schedule);
    let regular = completeness::io::columns::bools(batches, "is_regular_season").unwrap();
    let status = completeness::io::columns::i64s(batches, "game_status").unwrap();
    let days = dates(&schedule, "game_date");
    let mut starts = std::collections::BTreeMap::new();
    for ((regular, status), day) in regular.iter().zip(status).zip(days) {
        if *regular == Some(true) && status == Some(3) {
            let day = day.unwrap();
            starts
                .entry(completeness::model::dates::season_year(day))
                .or_insert(day);
        }
    }
    SeasonCalendar::from_schedule(starts)
}

#[test]
fn terminal_summary_of_a_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    cli_at(&wh, &dir.path().join("runs"))
        .args([
            "backfill",
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-22",
            "--dry-run",
        ])
        .assert()
        .success()
        .stdout(contains("records in range"))
        .stdout(contains("dry run: nothing was written"))
        .stderr(contains("export:"));
}

/// The manifest's phase times come from the builder's clock (`with_now`), as the
/// `updated_at` it writes does: one clock per run, replaceable in tests.
#[test]
fn phase_times_follow_the_builder_clock() {
    use completeness::pipeline::backfill::BackfillBuilder;
    use completeness::warehouse::LocalWarehouse;
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let range =
        completeness::model::dates::DateRange::new(d("2026-01-20"), d("2026-01-22")).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2030-06-01T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let outcome = runtime()
        .block_on(async {
            let wh = LocalWarehouse::open(sample_warehouse().to_str().unwrap())?;
            BackfillBuilder::new(wh, &runs, range)
                .with_dry_run(true)
                .with_now(at)
                .await
        })
        .unwrap();
    assert!(!outcome.manifest.phases.is_empty());
    for (phase, record) in &outcome.manifest.phases {
        assert_eq!(record.at, at, "{phase:?}");
    }
}

/// The files a run writes and reads back whole (the exports, the changes) hold plain
/// strings, not the views a table scan gives (every read cast them back, a copy of each
/// string), in row groups of at most 65,536 rows, a multiple of the cores: read (and
/// written) one group per core, where one group was read on one.
#[test]
fn run_files_are_plain_strings_in_a_row_group_per_core() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    cli_at(&sample_warehouse(), &runs)
        .args([
            "backfill",
            "--start",
            "2024-10-22",
            "--end",
            "2026-01-22",
            "--dry-run",
        ])
        .assert()
        .success();
    let run = only_run(&runs);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for file in [
        "export/features.parquet",
        "export/games.parquet",
        "changes.parquet",
    ] {
        let reader = std::fs::File::open(run.join(file)).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(reader).unwrap();
        for field in builder.schema().fields() {
            assert!(
                !matches!(field.data_type(), arrow::datatypes::DataType::Utf8View),
                "{file}: {field:?}"
            );
        }
        let groups = builder.metadata().row_groups();
        let rows: i64 = groups.iter().map(|g| g.num_rows()).sum();
        assert!(rows > 0, "{file}: no rows");
        assert_eq!(
            groups.len() % cores,
            0,
            "{file}: {} groups, {cores} cores",
            groups.len()
        );
        assert!(groups.iter().all(|g| g.num_rows() <= 65_536), "{file}");
    }
}
