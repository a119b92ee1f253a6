//! The write path's safety net, one regression test per finding of the outside review
//! (issue 15): each reproduces a way the earlier write path lost or corrupted data.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, RecordBatch, TimestampMicrosecondArray};
use predicates::str::contains;
use serde_json::Value;

use crate::support::*;

/// `(player, date)` of a feature record.
type Key = (String, String);
/// `(struct as text, updated_at)` of a feature record.
type Record = (String, Option<i64>);

/// `(player, date) -> [(struct as text, updated_at)]` of every feature record, the
/// values of a duplicated key sorted.
fn rows_multi(wh: &Path) -> BTreeMap<Key, Vec<Record>> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for (key, value) in rows_list(wh) {
        out.entry(key).or_default().push(value);
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// `(player, date) -> (struct as text, updated_at)` of every feature record.
fn rows(wh: &Path) -> BTreeMap<Key, Record> {
    rows_list(wh).into_iter().collect()
}

fn rows_list(wh: &Path) -> Vec<(Key, Record)> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let batch = read_table(&features_table(wh), None, "game_date, player_lookup");
    let column = batch.column_by_name("historical_completeness").unwrap();
    let format = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default()).unwrap();
    let players = strings(&batch, "player_lookup");
    let days = dates(&batch, "game_date");
    let updated = micros(&batch, "updated_at");
    (0..batch.num_rows())
        .map(|i| {
            let key = (players[i].clone().unwrap(), days[i].unwrap().to_string());
            (key, (format.value(i).to_string(), updated[i]))
        })
        .collect()
}

fn run_id_of(out: &assert_cmd::assert::Assert) -> String {
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    report["run_id"].as_str().unwrap().to_string()
}

/// A dry-run backfill of `start..=end`; its run id.
fn dry_run(wh: &Path, runs: &Path, start: &str, end: &str) -> String {
    let out = cli_at(wh, runs)
        .args([
            "--json",
            "backfill",
            "--start",
            start,
            "--end",
            end,
            "--dry-run",
        ])
        .assert()
        .success();
    run_id_of(&out)
}

fn in_range(key: &(String, String), start: &str, end: &str) -> bool {
    key.1.as_str() >= start && key.1.as_str() <= end
}

/// Finding 1: commits without `commitInfo` (legal in Delta; other writers omit it) made
/// the history listing skip them, so every later version was mislabelled and `rollback`
/// undid the wrong run.
#[test]
fn a_commit_without_commit_info_does_not_make_rollback_undo_the_wrong_run() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let before = rows(&wh);
    let a = run_id_of(
        &cli_at(&wh, &runs)
            .args([
                "--json",
                "backfill",
                "--start",
                "2026-01-01",
                "--end",
                "2026-01-22",
            ])
            .assert()
            .success(),
    );
    cli_at(&wh, &runs)
        .args(["backfill", "--start", "2025-12-01", "--end", "2025-12-31"])
        .assert()
        .success();
    let after_b = rows(&wh);
    // Another writer's commit with only an application transaction.
    let log = features_table(&wh).join("_delta_log");
    let next = delta_versions(&features_table(&wh));
    std::fs::write(
        log.join(format!("{next:020}.json")),
        "{\"txn\":{\"appId\":\"someone-else\",\"version\":7}}\n",
    )
    .unwrap();

    cli_at(&wh, &runs).args(["rollback", &a]).assert().success();
    let now = rows(&wh);
    for (key, value) in &now {
        if in_range(key, "2026-01-01", "2026-01-22") {
            assert_eq!(
                Some(value),
                before.get(key),
                "January is back as before A: {key:?}"
            );
        } else {
            assert_eq!(Some(value), after_b.get(key), "run B is kept: {key:?}");
        }
    }
}

/// Append a copy of each record of `days` with a new `updated_at`: another writer
/// duplicating keys after the export.
fn duplicate(wh: &Path, days: &[&str], stamp_us: i64) -> usize {
    let table = features_table(wh);
    let all = read_table(&table, None, "game_date, player_lookup");
    let keep: Vec<u32> = dates(&all, "game_date")
        .iter()
        .enumerate()
        .filter(|(_, d)| days.contains(&d.unwrap().to_string().as_str()))
        .map(|(i, _)| i as u32)
        .collect();
    let picked =
        arrow::compute::take_record_batch(&all, &arrow::array::UInt32Array::from(keep)).unwrap();
    let schema = completeness::model::features_schema();
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            if f.name() == "updated_at" {
                std::sync::Arc::new(
                    TimestampMicrosecondArray::from(vec![stamp_us; picked.num_rows()])
                        .with_timezone("UTC"),
                ) as std::sync::Arc<dyn Array>
            } else {
                arrow::compute::cast(picked.column_by_name(f.name()).unwrap(), f.data_type())
                    .unwrap()
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema, columns).unwrap();
    let n = batch.num_rows();
    append_rows(&table, batch);
    n
}

/// Finding 2: another writer's duplicate keys were counted per table row, underflowing
/// the conflict count, listing keys twice and flagging the tool's own correct commit
/// as an invariant violation, which was then rolled back.
#[test]
fn another_writers_duplicate_keys_are_conflicts_and_the_rest_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let run = dry_run(&wh, &runs, "2026-01-15", "2026-01-22");
    let duplicated = duplicate(&wh, &["2026-01-20", "2026-01-21"], 1_900_000_000_000_000);
    assert!(duplicated > 100);
    let before = rows_multi(&wh);
    let out = cli_at(&wh, &runs)
        .args(["--json", "merge", "--run", &run])
        .assert()
        .code(1);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(runs.join(&run).join("manifest.json")).unwrap())
            .unwrap();
    let changes = manifest["rows"]["changes"].as_u64().unwrap();
    let merge = &report["merge"];
    let (written, conflicts) = (
        merge["rows_written"].as_u64().unwrap(),
        merge["conflicts"].as_u64().unwrap(),
    );
    assert_eq!(written + conflicts, changes, "{merge}");
    assert!(written > 0 && conflicts > 0, "{merge}");
    // Each conflicting key once; every one on a duplicated day.
    let keys = merge["conflict_keys"].as_array().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for k in keys {
        assert!(seen.insert(k.to_string()), "{k} listed twice");
        let day = k[1].as_str().unwrap();
        assert!(day == "2026-01-20" || day == "2026-01-21", "{k}");
    }
    // The commit stands: rows on the other days carry the run's structs now; the
    // duplicated days are as the other writer left them.
    let after = rows_multi(&wh);
    let changed = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .count();
    assert_eq!(changed as u64, written);
}

/// Finding 2, its edge: when every change conflicts, nothing is written, no commit is
/// made and the run says so (the empty MERGE source once failed to plan).
#[test]
fn when_every_change_conflicts_nothing_is_committed_and_the_run_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let run = dry_run(&wh, &runs, "2026-01-20", "2026-01-20");
    // Another writer rewrites every record of the day (a new updated_at on each).
    let table = features_table(&wh);
    runtime().block_on(async {
        let t = deltalake::open_table(url::Url::from_directory_path(&table).unwrap())
            .await
            .unwrap();
        t.update()
            .with_predicate("game_date = '2026-01-20'")
            .with_update("updated_at", "CAST('2031-01-01T00:00:00Z' AS TIMESTAMP)")
            .await
            .unwrap();
    });
    let versions = delta_versions(&table);
    let out = cli_at(&wh, &runs)
        .args(["--json", "merge", "--run", &run])
        .assert()
        .code(1);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["merge"]["rows_written"], 0, "{report}");
    assert!(report["merge"]["conflicts"].as_u64() > Some(0));
    assert_eq!(delta_versions(&table), versions, "no commit");
}

/// Finding 4: `merge --run` applied a plan whose upstream rows had changed since its
/// export: the structs were stale the moment they were written.
#[test]
fn a_plan_whose_games_changed_since_its_export_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let run = dry_run(&wh, &runs, "2025-01-02", "2025-03-02");
    // The missing day's rows arrive upstream after the dry run.
    let data = completeness::samples::generate(&completeness::samples::SampleOptions::default());
    crate::gaps::append_game_rows(&wh, &data.injected.missing_day_rows);
    let before = rows(&wh);
    cli_at(&wh, &runs)
        .args(["merge", "--run", &run])
        .assert()
        .code(2)
        .stderr(contains("changed since"))
        .stderr(contains("2025-01-01"))
        .stderr(contains(format!(
            "{} backfill --start 2025-01-02 --end 2025-03-02",
            program_at(&wh, &runs)
        )));
    assert_eq!(rows(&wh), before, "nothing written");
    // --allow-stale applies it anyway.
    cli_at(&wh, &runs)
        .args(["merge", "--run", &run, "--allow-stale"])
        .assert()
        .success();
    assert_ne!(rows(&wh), before);
}

/// Finding 4 on `--resume`: a run stopped before its merge, resumed after the games
/// changed, is refused the same way.
#[test]
#[cfg(feature = "test-hooks")]
fn a_resumed_run_whose_games_changed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let range = ["--start", "2025-01-02", "--end", "2025-02-15"];
    let (mut child, _rest) = spawn_parked(&wh, &runs, &range, "merge:started", None);
    child.kill().unwrap();
    child.wait().unwrap();
    let run = only_run_id(&runs);
    let data = completeness::samples::generate(&completeness::samples::SampleOptions::default());
    crate::gaps::append_game_rows(&wh, &data.injected.missing_day_rows);
    let before = rows(&wh);
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &run])
        .assert()
        .code(2)
        .stderr(contains("changed since"));
    assert_eq!(rows(&wh), before);
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &run, "--allow-stale"])
        .assert()
        .success();
}

/// Finding 8: nothing stopped two processes from resuming (or merging) one run at once.
#[test]
fn a_second_process_on_the_same_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let run = dry_run(&wh, &runs, "2026-01-20", "2026-01-22");
    let before = rows(&wh);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(runs.join(&run).join(".lock"))
        .unwrap();
    lock.try_lock().unwrap(); // another process holds the run
    cli_at(&wh, &runs)
        .args(["merge", "--run", &run])
        .assert()
        .code(2)
        .stderr(contains("is in use by another completeness process"));
    assert_eq!(rows(&wh), before, "nothing written");
    drop(lock);
    cli_at(&wh, &runs)
        .args(["merge", "--run", &run])
        .assert()
        .success();
}

/// Finding 8: exported files stayed forever. A merged run drops them; a dry run keeps
/// them for `merge --run`.
#[test]
fn a_merged_run_drops_its_exports_and_a_dry_run_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let range = ["--start", "2026-01-20", "--end", "2026-01-22"];
    let dry = run_id_of(
        &cli_at(&wh, &runs)
            .args(["--json", "backfill", "--dry-run"])
            .args(range)
            .assert()
            .success(),
    );
    assert!(runs.join(&dry).join("export/games.parquet").is_file());
    cli_at(&wh, &runs)
        .args(["merge", "--run", &dry])
        .assert()
        .success();
    assert!(
        !runs.join(&dry).join("export").exists(),
        "merged: exports removed"
    );
    assert!(runs.join(&dry).join("report/report.json").is_file());
}

/// Finding 8: `updated_at` was the moment the process started, not the merge: a long
/// run stamped rows with a time before its own export.
#[test]
fn updated_at_is_the_time_of_the_merge() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let run = run_id_of(
        &cli_at(&wh, &runs)
            .args([
                "--json",
                "backfill",
                "--start",
                "2026-01-01",
                "--end",
                "2026-01-22",
            ])
            .assert()
            .success(),
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(runs.join(&run).join("manifest.json")).unwrap())
            .unwrap();
    let at = |phase: &str| {
        chrono::DateTime::parse_from_rfc3339(manifest["phases"][phase]["at"].as_str().unwrap())
            .unwrap()
            .timestamp_micros()
    };
    // `at` of a finished phase is when it finished: the merge began after the diff.
    let diff_done = at("diff");
    let stamps: std::collections::BTreeSet<i64> = rows(&wh)
        .values()
        .filter_map(|(_, u)| *u)
        .filter(|u| *u > 1_790_000_000_000_000)
        .collect();
    let written = *stamps.iter().max().unwrap();
    assert!(
        written >= diff_done,
        "updated_at {written} is before the diff ended ({diff_done})"
    );
}

/// Finding 8: an error after the commit said "nothing committed". It now says the
/// merge is committed, and `--resume` finishes the run without merging again.
#[cfg(feature = "test-hooks")]
#[test]
fn an_error_after_the_commit_says_the_merge_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    cli_at(&wh, &runs)
        .env("COMPLETENESS_INJECT", "report:fail-after-commit")
        .args(["backfill", "--start", "2026-01-20", "--end", "2026-01-22"])
        .assert()
        .code(3)
        .stderr(contains("the merge itself was committed as version 1"))
        .stderr(contains(format!(
            "{} backfill --resume",
            program_at(&wh, &runs)
        )));
    assert_eq!(delta_versions(&table), 2);
    let run = only_run_id(&runs);
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &run])
        .assert()
        .success();
    assert_eq!(delta_versions(&table), 2, "no second commit");
}

/// The rewrite copies untouched column chunks byte for byte and verifies them itself;
/// this checks its result with independent code (`commit_rows::compare`: every row of
/// the removed and added files, sorted in Arrow's row format): the same rows, nothing
/// different outside the struct and `updated_at`.
#[test]
fn a_full_backfill_changes_no_other_column_of_any_row() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    cli_at(&wh, &dir.path().join("runs"))
        .args(["backfill", "--start", "2024-10-22", "--end", "2026-01-22"])
        .assert()
        .success();
    let table = features_table(&wh);
    let url = url::Url::from_directory_path(&table).unwrap();
    let comparison = runtime().block_on(async {
        let before = deltalake::open_table_with_version(url.clone(), 0)
            .await
            .unwrap();
        let after = deltalake::open_table(url).await.unwrap();
        completeness::warehouse::delta::commit_rows::compare(
            &before,
            &after,
            &["historical_completeness", "updated_at"],
        )
        .unwrap()
    });
    assert!(comparison.rows_removed > 40_000, "{comparison:?}");
    assert_eq!(comparison.rows_added, comparison.rows_removed);
    assert_eq!(comparison.rows_changed, 0, "{comparison:?}");
    // The oracle sees a change outside those columns.
    let strict = runtime().block_on(async {
        let url = url::Url::from_directory_path(&table).unwrap();
        let before = deltalake::open_table_with_version(url.clone(), 0)
            .await
            .unwrap();
        let after = deltalake::open_table(url).await.unwrap();
        completeness::warehouse::delta::commit_rows::compare(&before, &after, &["updated_at"])
            .unwrap()
    });
    assert!(strict.rows_changed > 40_000, "{strict:?}");
}

/// `merge --run` of a run already applied says so and writes nothing; after the run's
/// rollback it refuses, rather than printing "merged" and exiting 0 (issue 17).
#[test]
fn a_plan_knows_it_was_applied_or_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    let run = dry_run(&wh, &runs, "2026-01-10", "2026-01-22");
    cli_at(&wh, &runs)
        .args(["merge", "--run", &run])
        .assert()
        .success();
    assert_eq!(delta_versions(&table), 2);
    cli_at(&wh, &runs)
        .args(["merge", "--run", &run])
        .assert()
        .success()
        .stdout(contains(
            "already applied in Delta version 1; nothing was written now",
        ));
    assert_eq!(delta_versions(&table), 2, "no second commit");
    cli_at(&wh, &runs)
        .args(["rollback", &run])
        .assert()
        .success();
    assert_eq!(delta_versions(&table), 3);
    cli_at(&wh, &runs)
        .args(["merge", "--run", &run])
        .assert()
        .code(2)
        .stderr(contains(format!("run {run} was rolled back in version 2")))
        .stderr(contains(format!(
            "{} backfill --start 2026-01-10 --end 2026-01-22",
            program_at(&wh, &runs)
        )));
    assert_eq!(delta_versions(&table), 3, "nothing written");
}
