//! A write between export and merge is never overwritten; it is reported as a conflict.

use completeness::backfill::{BackfillBuilder, StopAfter};
use completeness::dates::DateRange;
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
