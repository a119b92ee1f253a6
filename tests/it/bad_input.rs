//! Bad input: exit code 2, a message naming what and where, nothing written.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use predicates::str::contains;

use crate::support::{cli, cli_at, copy_of_samples, file_snapshot};

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn players(v: Vec<Option<&str>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn dates(v: Vec<i32>) -> ArrayRef {
    Arc::new(Date32Array::from(v))
}

fn good_games(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("games.parquet");
    write(
        &p,
        vec![
            ("player_lookup", players(vec![Some("a")])),
            ("game_date", dates(vec![20000])),
        ],
    );
    p
}

/// Run `compute` on a features file; expect exit 2 with `message`, and no output file.
fn compute_fails(dir: &Path, features: &Path, message: &str) {
    let out = dir.join("out.parquet");
    let games = good_games(dir);
    cli()
        .args(["compute", "--features"])
        .arg(features)
        .arg("--games")
        .arg(&games)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains(message))
        .stderr(contains(features.display().to_string()));
    assert!(!out.exists(), "nothing may be written on bad input");
}

#[test]
fn features_without_game_date() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("features.parquet");
    write(
        &f,
        vec![
            ("player_lookup", players(vec![Some("a")])),
            ("gamedate", dates(vec![20000])),
        ],
    );
    compute_fails(
        dir.path(),
        &f,
        "missing column `game_date` (columns present: player_lookup, gamedate)",
    );
}

#[test]
fn game_date_as_a_string_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("features.parquet");
    write(
        &f,
        vec![
            ("player_lookup", players(vec![Some("a")])),
            ("game_date", players(vec![Some("2025-01-01")])),
        ],
    );
    compute_fails(dir.path(), &f, "column `game_date` has type");
}

#[test]
fn null_player_lookup_in_features() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("features.parquet");
    write(
        &f,
        vec![
            ("player_lookup", players(vec![Some("a"), None])),
            ("game_date", dates(vec![20000, 20001])),
        ],
    );
    compute_fails(
        dir.path(),
        &f,
        "NULL player_lookup in feature record at row 1 (game_date 2024-10-05)",
    );
}

#[test]
fn truncated_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("features.parquet");
    write(
        &f,
        vec![
            ("player_lookup", players(vec![Some("a")])),
            ("game_date", dates(vec![20000])),
        ],
    );
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    compute_fails(dir.path(), &f, "not a readable Parquet file");
}

/// Run a backfill against a copy of the samples; expect exit 2 and an untouched warehouse.
fn backfill_fails(args: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let before = file_snapshot(&wh);
    let runs = dir.path().join("runs");
    cli_at(&wh, &runs)
        .arg("backfill")
        .args(args)
        .assert()
        .code(2)
        .stderr(contains(message));
    assert!(file_snapshot(&wh) == before, "warehouse changed");
    assert!(!runs.exists(), "no run directory on bad input");
}

#[test]
fn start_after_end() {
    backfill_fails(
        &["--start", "2026-02-01", "--end", "2026-01-01"],
        "--start 2026-02-01 is after --end 2026-01-01: the range is reversed",
    );
}

#[test]
fn impossible_date() {
    backfill_fails(
        &["--start", "2026-13-01", "--end", "2026-01-22"],
        "invalid date '2026-13-01': expected a calendar date as YYYY-MM-DD",
    );
}

#[test]
fn warehouse_without_feature_table() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("empty-warehouse");
    std::fs::create_dir_all(&wh).unwrap();
    let runs = dir.path().join("runs");
    cli_at(&wh, &runs)
        .args([
            "backfill",
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-22",
            "--dry-run",
        ])
        .assert()
        .code(2)
        .stderr(contains("no Delta table at"))
        .stderr(contains("nba_predictions/ml_feature_store_v2"));
    assert_eq!(
        std::fs::read_dir(&wh).unwrap().count(),
        0,
        "nothing written in the warehouse"
    );
}

/// Operator commands on bad arguments: exit 2, the message, the warehouse untouched.
#[test]
fn operator_commands_reject_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let before = file_snapshot(&wh);
    let cases: [(&[&str], &str); 9] = [
        (
            &[
                "check",
                "incomplete",
                "--start",
                "2026-02-01",
                "--end",
                "2026-01-01",
            ],
            "the range is reversed",
        ),
        (&["check", "summary", "--days", "0"], "--days"),
        (&["check", "summary", "--end", "1850-01-01"], "1850-01-01"),
        (
            &[
                "check",
                "cascade",
                "--backfill-date",
                "2026-01-01",
                "--forward-days",
                "0",
            ],
            "--forward-days 0: must be between 1 and 365",
        ),
        (
            &["spot-check", "--date", "2026-01-22", "--player", "nobody"],
            "player nobody has no record with a historical_completeness struct on 2026-01-22",
        ),
        (
            &["spot-check", "--date", "2019-01-01"],
            "no feature record on 2019-01-01 has a historical_completeness struct",
        ),
        (&["rollback", "../../etc"], "invalid run id"),
        (
            &["views", "--features-table", "nba.t; DROP TABLE x"],
            "is not a valid dataset or table name",
        ),
        (&["report", "daily", "--days", "99999"], "--days"),
    ];
    for (args, message) in cases {
        cli_at(&wh, &runs)
            .args(args)
            .assert()
            .code(2)
            .stderr(contains(message));
    }
    assert!(file_snapshot(&wh) == before, "warehouse changed");
    assert!(!runs.exists(), "no run directory on bad input");
}

/// The run directory on a full file system: a 64 KiB tmpfs (mounting needs root, which
/// this sandbox and its CI have; elsewhere the output-on-/dev/full case of the corpus
/// covers ENOSPC). The run stops with exit 3, names the problem, and leaves nothing.
#[test]
fn disk_full_on_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&runs)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        // No tmpfs: a write to /dev/full is the same ENOSPC, on the compute output.
        let out = dir.path().join("out.parquet");
        std::os::unix::fs::symlink("/dev/full", out.with_extension("parquet.tmp")).unwrap();
        let features = wh.join(completeness::model::FEATURES_TABLE);
        cli()
            .args(["compute", "--features"])
            .arg(&features)
            .arg("--games")
            .arg(&features)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(3)
            .stderr(contains("No space left on device"));
        assert!(!out.exists());
        return;
    }
    let before = file_snapshot(&wh);
    let result = cli_at(&wh, &runs)
        .args(["backfill", "--start", "2026-01-01", "--end", "2026-01-22"])
        .output()
        .unwrap();
    let listing: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let _ = std::process::Command::new("umount").arg(&runs).status();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(file_snapshot(&wh) == before, "warehouse changed");
    assert!(
        listing.is_empty(),
        "a run directory was left behind: {listing:?}"
    );
}
