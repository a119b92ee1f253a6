//! Every command the tool suggests is right as printed (issue 17): each test takes the
//! suggestion from the tool's own output, runs it as printed, and checks it does what
//! the line says.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// The first `completeness …` command between backticks in `text` that starts with
/// `prefix`, split into its arguments (without the leading `completeness`).
fn suggested(text: &str, prefix: &str) -> Vec<String> {
    let command = text
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}…` suggested in:\n{text}"));
    command
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

fn stdout_of(wh: &Path, runs: &Path, args: &[&str]) -> String {
    let out = cli_at(wh, runs).args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn run_suggestion(wh: &Path, runs: &Path, args: &[String]) -> String {
    let out = cli_at(wh, runs).args(args).assert();
    let output = out.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "`completeness {}` failed: {stdout}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn summary(wh: &Path, runs: &Path, end: &str, days: &str) -> Value {
    cli_json(
        wh,
        runs,
        &["check", "summary", "--end", end, "--days", days],
    )
}

/// `check summary` names the records still without a struct and the backfill that
/// gives them one; after running it as printed, none is left (the early-season dates
/// included: without `--include-bootstrap` the backfill skips them).
#[test]
fn the_summary_s_backfill_leaves_no_record_without_a_struct() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let window = ["check", "summary", "--end", "2025-11-10", "--days", "21"];
    let before = summary(&wh, &runs, "2025-11-10", "21");
    assert!(before["totals"]["without_struct"].as_u64().unwrap() > 0);
    let text = stdout_of(&wh, &runs, &window);
    let command = suggested(&text, "completeness backfill");
    run_suggestion(&wh, &runs, &command);
    let after = summary(&wh, &runs, "2025-11-10", "21");
    assert_eq!(after["totals"]["without_struct"], 0, "{after}");
    let text = stdout_of(&wh, &runs, &window);
    assert!(
        text.contains("every record in the window has a struct"),
        "{text}"
    );
}

/// A window after the newest data is a warning, never "all good".
#[test]
fn an_empty_window_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let text = stdout_of(
        &sample_warehouse(),
        &runs,
        &["check", "summary", "--end", "2026-06-30", "--days", "30"],
    );
    assert!(text.contains("warning: no feature records"), "{text}");
    assert!(
        !text.contains("every record in the window has a struct"),
        "{text}"
    );
}

/// The dry run's two ways forward, run as printed: `merge --run` applies the plan,
/// and the `backfill` line carries the run's own flags.
#[test]
fn the_dry_run_s_suggestions_carry_its_flags_and_apply_it() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let text = stdout_of(
        &wh,
        &runs,
        &[
            "backfill",
            "--start",
            "2025-10-21",
            "--end",
            "2025-11-05",
            "--include-bootstrap",
            "--dry-run",
        ],
    );
    let again = suggested(&text, "completeness backfill");
    assert!(
        again.contains(&"--include-bootstrap".to_string()),
        "{again:?}"
    );
    assert!(!again.contains(&"--dry-run".to_string()), "{again:?}");
    assert!(
        !text.contains("--include-bootstrap to cover them"),
        "nothing was skipped, so nothing to cover:\n{text}"
    );
    let merge = suggested(&text, "completeness merge");
    let versions = delta_versions(&features_table(&wh));
    let merged = run_suggestion(&wh, &runs, &merge);
    assert!(merged.contains("applied"), "{merged}");
    assert_eq!(delta_versions(&features_table(&wh)), versions + 1);
    let after = summary(&wh, &runs, "2025-11-05", "16");
    assert_eq!(after["totals"]["without_struct"], 0, "{after}");
    // The recompute line, run as printed after the merge, finds nothing left to change.
    let rerun = run_suggestion(&wh, &runs, &again);
    assert_eq!(
        delta_versions(&features_table(&wh)),
        versions + 1,
        "{rerun}"
    );
}

/// `diff --results --current` compares two files: its report names no run and
/// suggests no `merge --run` (there is nothing to merge).
#[test]
fn a_diff_of_files_names_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let wh = sample_warehouse();
    cli_at(&wh, &runs)
        .args([
            "backfill",
            "--dry-run",
            "--start",
            "2026-01-15",
            "--end",
            "2026-01-22",
        ])
        .assert()
        .success();
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let report = dir.path().join("report");
    let out = cli_at(&wh, &runs)
        .args(["diff", "--results"])
        .arg(run.join("results.parquet"))
        .arg("--current")
        .arg(run.join("export").join("features.parquet"))
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!text.contains("run )"), "{text}");
    assert!(text.contains("files compared, not a run"), "{text}");
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(!md.contains("Run ``"), "{md}");
    assert!(!md.contains("merge --run"), "{md}");
}

/// For a date without rows, `check cascade` and `check gaps` advise the same backfill.
#[test]
fn cascade_and_gaps_advise_the_same_backfill_for_a_date() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let wh = sample_warehouse();
    let cascade = cli_at(&wh, &runs)
        .args(["check", "cascade", "--backfill-date", "2025-01-01"])
        .assert()
        .success();
    // The advice is a warning (stderr): the date has no rows to list.
    let warning = String::from_utf8(cascade.get_output().stderr.clone()).unwrap();
    let from_cascade = suggested(&warning, "completeness backfill --start 2025-01-02");
    let gaps = cli_json(
        &wh,
        &runs,
        &[
            "check",
            "gaps",
            "--start",
            "2024-12-01",
            "--end",
            "2025-04-30",
        ],
    );
    let rerun = gaps["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["game_date"] == "2025-01-01")
        .unwrap_or_else(|| panic!("no gap on 2025-01-01: {gaps}"))["rerun"]
        .as_str()
        .unwrap()
        .to_string();
    let from_gaps = suggested(&format!("`{rerun}`"), "completeness backfill");
    assert_eq!(from_cascade, from_gaps);
}
