//! A write between export and merge is never overwritten; it is reported as a conflict.

use completeness::model::dates::DateRange;
use completeness::pipeline::backfill::{BackfillBuilder, StopAfter};
use completeness::warehouse::LocalWarehouse;
use predicates::str::contains;

use crate::support::*;

#[test]
fn row_rewritten_after_export_is_left_alone_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    let range = DateRange::new(d("2026-01-01"), d("2026-01-22")).unwrap();

    // Export, compute and diff, but stop before the merge.
    let rt = runtime();
    let outcome = rt
        .block_on(async {
            BackfillBuilder::new(LocalWarehouse::open(wh.to_str().unwrap())?, &runs, range)
                .with_stop_after(StopAfter::Diff)
                .await
        })
        .unwrap();
    let changes = read_parquet_file(&outcome.run_dir.join("changes.parquet"));
    let player = strings(&changes, "player_lookup")[0].clone().unwrap();
    let day = dates(&changes, "game_date")[0].unwrap();

    // Someone else rewrites that row.
    let stamp = "2030-01-01T00:00:00Z";
    rt.block_on(async {
        let url = url::Url::from_directory_path(&table).unwrap();
        let t = deltalake::open_table(url).await.unwrap();
        t.update()
            .with_predicate(format!(
                "player_lookup = '{player}' AND game_date = '{day}'"
            ))
            .with_update("updated_at", format!("CAST('{stamp}' AS TIMESTAMP)"))
            .await
            .unwrap();
    });
    let version_before_merge = delta_versions(&table);

    // The merge skips it, says so, and exits 1.
    cli_at(&wh, &runs)
        .args(["merge", "--run", &outcome.run_id])
        .assert()
        .code(1)
        .stderr(contains(format!("conflict: {player} {day}")))
        .stderr(contains("rerun the backfill"));
    assert_eq!(delta_versions(&table), version_before_merge + 1);
    // `runs` shows the conflict beside the rows written.
    let listed = cli_json(&wh, &runs, &["runs"]);
    let run = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == outcome.run_id.as_str())
        .unwrap();
    assert_eq!(run["conflicts"], 1, "{run}");

    let after = read_table(&table, None, "game_date, player_lookup");
    let players = strings(&after, "player_lookup");
    let days = dates(&after, "game_date");
    let at = micros(&after, "updated_at");
    let i = (0..after.num_rows())
        .find(|&i| players[i].as_deref() == Some(player.as_str()) && days[i] == Some(day))
        .unwrap();
    let expected = chrono::DateTime::parse_from_rfc3339(stamp)
        .unwrap()
        .timestamp_micros();
    assert_eq!(
        at[i],
        Some(expected),
        "the concurrent write was overwritten"
    );

    // The next run picks the row up.
    cli_at(&wh, &runs)
        .args(["backfill", "--start", "2026-01-01", "--end", "2026-01-22"])
        .assert()
        .success();
    let after = read_table(&table, None, "game_date, player_lookup");
    assert_ne!(micros(&after, "updated_at")[i], Some(expected));
}

fn read_parquet_file(path: &std::path::Path) -> arrow::array::RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// Rewrite `updated_at` of some keys, as another writer would.
fn rewrite(table: &std::path::Path, keys: &[(String, chrono::NaiveDate)], stamp: &str) {
    let predicate = keys
        .iter()
        .map(|(p, d)| format!("(player_lookup = '{p}' AND game_date = '{d}')"))
        .collect::<Vec<_>>()
        .join(" OR ");
    runtime().block_on(async {
        let url = url::Url::from_directory_path(table).unwrap();
        deltalake::open_table(url)
            .await
            .unwrap()
            .update()
            .with_predicate(predicate)
            .with_update("updated_at", format!("CAST('{stamp}' AS TIMESTAMP)"))
            .await
            .unwrap();
    });
}

/// Append copies of the first record on `day` under a new player, with no struct.
fn append_newcomer(table: &std::path::Path, day: chrono::NaiveDate) -> String {
    use arrow::array::{Array, StringArray, new_null_array};
    use std::sync::Arc;
    let all = read_table(table, None, "game_date, player_lookup");
    let i = dates(&all, "game_date")
        .iter()
        .position(|d| *d == Some(day))
        .unwrap();
    let row = all.slice(i, 1);
    let schema = completeness::model::features_schema();
    let columns = schema
        .fields()
        .iter()
        .map(|f| match f.name().as_str() {
            "player_lookup" => Arc::new(StringArray::from(vec!["zz_newcomer"])) as Arc<dyn Array>,
            "historical_completeness" => new_null_array(f.data_type(), 1),
            name => arrow::compute::cast(row.column_by_name(name).unwrap(), f.data_type()).unwrap(),
        })
        .collect();
    let batch = arrow::array::RecordBatch::try_new(schema, columns).unwrap();
    append_rows(table, batch);
    "zz_newcomer".into()
}

#[test]
#[cfg(feature = "test-hooks")]
fn rewrites_and_appends_between_export_and_merge_are_kept_and_picked_up_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    let release = dir.path().join("release");
    let range = ["--start", "2026-01-01", "--end", "2026-01-22"];

    // The run has exported and diffed; it waits before reading its changes.
    let (mut child, stderr) = spawn_parked(&wh, &runs, &range, "merge:started", Some(&release));
    let run_dir = only_run(&runs);
    let changes = read_parquet_file(&run_dir.join("changes.parquet"));
    let (players, days) = (
        strings(&changes, "player_lookup"),
        dates(&changes, "game_date"),
    );
    let keys: Vec<_> = (0..3)
        .map(|i| (players[i].clone().unwrap(), days[i].unwrap()))
        .collect();
    rewrite(&table, &keys, "2030-01-01T00:00:00Z");
    let newcomer = append_newcomer(&table, d("2026-01-15"));
    std::fs::write(&release, b"").unwrap();

    assert_eq!(child.wait().unwrap().code(), Some(1), "conflicts exit 1");
    let message = stderr.join().unwrap();
    for (p, day) in &keys {
        assert!(
            message.contains(&format!("conflict: {p} {day}")),
            "{message}"
        );
    }
    let after = read_table(&table, None, "game_date, player_lookup");
    let (ps, ds, at) = (
        strings(&after, "player_lookup"),
        dates(&after, "game_date"),
        micros(&after, "updated_at"),
    );
    let stamp = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .timestamp_micros();
    for (p, day) in &keys {
        let i = (0..after.num_rows())
            .find(|&i| ps[i].as_ref() == Some(p) && ds[i] == Some(*day))
            .unwrap();
        assert_eq!(
            at[i],
            Some(stamp),
            "{p} {day}: the concurrent rewrite was overwritten"
        );
    }
    let struct_of = |batch: &arrow::array::RecordBatch, player: &str| {
        let column = batch.column_by_name("historical_completeness").unwrap();
        let structs = completeness::model::completeness_column::CompletenessColumn::try_new(
            column.as_ref(),
            "t",
        )
        .unwrap();
        let ps = strings(batch, "player_lookup");
        (0..batch.num_rows())
            .find(|&i| ps[i].as_deref() == Some(player))
            .map(|i| structs.get(i))
    };
    assert_eq!(
        struct_of(&after, &newcomer),
        Some(None),
        "the appended record is there, untouched"
    );

    // The next run covers the rewritten rows and the appended record.
    cli_at(&wh, &runs)
        .arg("backfill")
        .args(range)
        .assert()
        .success();
    let last = read_table(&table, None, "game_date, player_lookup");
    assert!(
        matches!(struct_of(&last, &newcomer), Some(Some(_))),
        "the appended record got its struct"
    );
    let at = micros(&last, "updated_at");
    for (p, day) in &keys {
        let i = (0..last.num_rows()).find(|&i| ps[i].as_ref() == Some(p) && ds[i] == Some(*day));
        assert_ne!(
            i.and_then(|i| at[i]),
            Some(stamp),
            "{p} {day} still not covered"
        );
    }
}

#[test]
#[cfg(feature = "test-hooks")]
fn two_overlapping_backfills_never_overwrite_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    let release = dir.path().join("release");

    // A is about to commit its MERGE; B, overlapping, runs to the end first.
    let a_range = ["--start", "2026-01-01", "--end", "2026-01-22"];
    let (mut a, a_err) = spawn_parked(&wh, &runs, &a_range, "merge:verified", Some(&release));
    cli_at(&wh, &runs)
        .args(["backfill", "--start", "2026-01-10", "--end", "2026-01-22"])
        .assert()
        .success();
    let after_b = read_table(&table, None, "game_date, player_lookup");
    std::fs::write(&release, b"").unwrap();
    let code = a.wait().unwrap().code();
    let message = a_err.join().unwrap();

    // B's rows keep B's updated_at whatever A did; A either lost the race cleanly
    // (no commit, a clear error) or committed only rows B did not write.
    let now = read_table(&table, None, "game_date, player_lookup");
    assert_eq!(
        now.num_rows(),
        after_b.num_rows(),
        "rows inserted or deleted"
    );
    let (b_at, now_at) = (micros(&after_b, "updated_at"), micros(&now, "updated_at"));
    let b_days = dates(&after_b, "game_date");
    for i in 0..now.num_rows() {
        if b_days[i].is_some_and(|day| day >= d("2026-01-10")) {
            assert_eq!(
                now_at[i], b_at[i],
                "row {i}: B's write was overwritten by A"
            );
        }
    }
    match code {
        Some(0) => assert_eq!(delta_versions(&table), 3),
        Some(3) => assert!(
            message.contains("another writer committed") && message.contains("--resume"),
            "A failed without saying why and what to do: {message}"
        ),
        other => panic!("A ended with {other:?}: {message}"),
    }

    // A rerun of A's range finishes the job; nothing is missing afterwards.
    cli_at(&wh, &runs)
        .arg("backfill")
        .args(a_range)
        .assert()
        .success();
    let rerun = cli_at(&wh, &runs)
        .args(["--json", "backfill"])
        .args(a_range)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&rerun).unwrap();
    assert_eq!(report["records"]["added"], 0);
    assert_eq!(report["records"]["changed"], 0);
}
