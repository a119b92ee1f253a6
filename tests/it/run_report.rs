//! The words around a run (issue 25, items 1, 4, 5, 6, 10, 11, 12, 13): the header of
//! every run report says what happened, each count says what it counts, and nothing
//! is cut off without saying so. Each test runs the binary on a copy of the samples.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

/// What one invocation printed.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: not JSON:\n{}\n{}", self.stdout, self.stderr))
    }
}

fn run(wh: &Path, runs: &Path, args: &[&str]) -> Ran {
    let out = cli_at(wh, runs).args(args).output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A copy of the samples and a run directory beside it.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    (dir, wh, runs)
}

/// The run's report files: report.md and the HTML subtitle.
fn report_files(runs: &Path, run: &str) -> (String, String) {
    let dir = runs.join(run).join("report");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let subtitle = html
        .split("<p class=\"subtitle\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap()
        .to_string();
    (md, subtitle)
}

fn run_dirs(runs: &Path) -> Vec<String> {
    match std::fs::read_dir(runs) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

const JANUARY: [&str; 4] = ["--start", "2026-01-01", "--end", "2026-01-22"];

/// Item 1: `export` then `diff --run R` wrote nothing: the header, report.md and the
/// HTML subtitle say it is a dry run (an export is one) and never "applied", the JSON
/// status says `dry_run`, and the way to apply it is offered. Its merge then says how
/// many rows it wrote in which version.
#[test]
fn an_exported_and_diffed_run_says_it_was_not_applied() {
    let (_dir, wh, runs) = setup();
    let exported = run(&wh, &runs, &[&["--json", "export"][..], &JANUARY].concat());
    let id = exported.json()["run_id"].as_str().unwrap().to_string();
    let diffed = run(&wh, &runs, &["diff", "--run", &id]);
    assert_eq!(diffed.code, 0, "{}", diffed.stderr);
    let header = diffed.stdout.lines().take(2).collect::<Vec<_>>().join("\n");
    assert!(header.contains("dry run: nothing was written"), "{header}");
    assert!(!header.contains("applied"), "{header}");
    assert!(
        diffed
            .stdout
            .contains(&format!("`{} merge --run {id}`", program_at(&wh, &runs))),
        "{}",
        diffed.stdout
    );
    let (md, subtitle) = report_files(&runs, &id);
    assert!(md.contains("dry run: nothing was written"), "{md}");
    assert!(!md.contains("applied"), "{md}");
    assert!(
        subtitle.contains("dry run: nothing was written"),
        "{subtitle}"
    );
    let doc = run(&wh, &runs, &["--json", "diff", "--run", &id]).json();
    assert_eq!(doc["status"], "dry_run", "{doc}");
    assert_eq!(doc["dry_run"], true, "nothing was written: {doc}");

    let merged = run(&wh, &runs, &["merge", "--run", &id]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert!(
        merged
            .stdout
            .contains("applied: 3,860 rows written in Delta version 1"),
        "{}",
        merged.stdout
    );
    let (md, subtitle) = report_files(&runs, &id);
    assert!(md.contains("applied: 3,860 rows written"), "{md}");
    assert!(
        subtitle.contains("applied: 3,860 rows written"),
        "{subtitle}"
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(runs.join(&id).join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["status"], "applied", "{report}");
}

/// Item 1: a rerun with no change says "nothing to write", not "applied".
#[test]
fn a_rerun_without_changes_says_nothing_to_write() {
    let (_dir, wh, runs) = setup();
    let range = ["--start", "2026-01-20", "--end", "2026-01-22"];
    run(&wh, &runs, &[&["backfill"][..], &range].concat());
    let again = run(&wh, &runs, &[&["backfill"][..], &range].concat());
    assert_eq!(again.code, 0, "{}", again.stderr);
    let header = again.stdout.lines().take(2).collect::<Vec<_>>().join("\n");
    assert!(header.contains("nothing to write"), "{header}");
    assert!(!header.contains("applied"), "{header}");
    let doc = run(&wh, &runs, &[&["--json", "backfill"][..], &range].concat()).json();
    assert_eq!(doc["status"], "nothing_to_write", "{doc}");
    let id = doc["run_id"].as_str().unwrap();
    let (md, subtitle) = report_files(&runs, id);
    assert!(md.contains("nothing to write"), "{md}");
    assert!(subtitle.contains("nothing to write"), "{subtitle}");
}

/// Items 1 and 4: a plan overtaken by one of our own later runs: every change
/// conflicts. The header says "not applied: all N changes conflicted"; stdout, the
/// report's CONFLICTS card and its note name the run that rewrote the rows, and nobody
/// is called "someone else".
#[test]
fn a_plan_overtaken_by_our_own_run_says_not_applied_and_names_the_run() {
    let (_dir, wh, runs) = setup();
    let range = ["--start", "2026-01-20", "--end", "2026-01-22"];
    let plan = run(
        &wh,
        &runs,
        &[&["--json", "backfill", "--dry-run"][..], &range].concat(),
    );
    let plan_id = plan.json()["run_id"].as_str().unwrap().to_string();
    let changes = plan.json()["records"]["added"].as_u64().unwrap();
    let applied = run(&wh, &runs, &[&["--json", "backfill"][..], &range].concat()).json();
    let applied_id = applied["run_id"].as_str().unwrap().to_string();
    let version = applied["merge"]["table_version"].as_u64().unwrap();

    let merged = run(&wh, &runs, &["merge", "--run", &plan_id]);
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    let header = merged.stdout.lines().take(2).collect::<Vec<_>>().join("\n");
    assert!(
        header.contains(&format!("not applied: all {changes} changes conflicted")),
        "{header}"
    );
    assert!(!merged.stdout.contains("someone else"), "{}", merged.stdout);
    let named = format!("run {applied_id} (version {version})");
    assert!(merged.stdout.contains(&named), "{}", merged.stdout);
    let html = std::fs::read_to_string(runs.join(&plan_id).join("report/report.html")).unwrap();
    assert!(
        !html.contains("someone else"),
        "report.html blames a stranger"
    );
    let card = html
        .split("<div class=\"label\">conflicts</div>")
        .nth(1)
        .and_then(|s| s.split("</div></div>").next())
        .unwrap_or_default()
        .to_string();
    assert!(card.contains(&named), "the CONFLICTS card: {card}");
    let notes = html.split("class=\"notes\"").nth(1).unwrap_or_default();
    assert!(notes.contains(&named), "the notes: {notes}");
    let doc = run(&wh, &runs, &["--json", "merge", "--run", &plan_id]);
    // A plan merged (with every change conflicting) is merged: asked again, it says so.
    assert_eq!(doc.json()["status"], "already_applied", "{}", doc.stdout);
    let report: Value = serde_json::from_slice(
        &std::fs::read(runs.join(&plan_id).join("report/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["status"], "all_conflicted", "{report}");
    assert_eq!(
        report["merge"]["runs_since_plan"][0],
        serde_json::json!([applied_id, version]),
        "{report}"
    );
}

/// Item 5: `merge --run R` twice: the second says once that R was already applied
/// and prints no "rows written"; its JSON says `already_applied` and 0 rows written
/// now, and the run's own report still records what its merge wrote.
#[test]
fn a_second_merge_says_already_applied_once() {
    let (_dir, wh, runs) = setup();
    let plan = run(
        &wh,
        &runs,
        &[&["--json", "backfill", "--dry-run"][..], &JANUARY].concat(),
    );
    let id = plan.json()["run_id"].as_str().unwrap().to_string();
    run(&wh, &runs, &["merge", "--run", &id]);
    let again = run(&wh, &runs, &["merge", "--run", &id]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.stdout.matches("already applied").count(),
        1,
        "{}",
        again.stdout
    );
    assert!(!again.stdout.contains("rows written"), "{}", again.stdout);
    assert!(!again.stdout.contains("merged:"), "{}", again.stdout);
    let doc = run(&wh, &runs, &["--json", "merge", "--run", &id]).json();
    assert_eq!(doc["already_applied"], true, "{doc}");
    assert_eq!(doc["status"], "already_applied", "{doc}");
    assert_eq!(doc["merge"]["rows_written"], 0, "{doc}");
    assert_eq!(doc["merge"]["table_version"], 1, "{doc}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(runs.join(&id).join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["merge"]["rows_written"], 3860, "{report}");
    assert_eq!(report["status"], "applied", "{report}");
}

/// Item 6: a window after the data: a warning that says so, no merge offered, no run
/// directory left; JSON says `nothing_to_compute`.
#[test]
fn a_window_after_the_data_warns_and_offers_no_merge() {
    let (_dir, wh, runs) = setup();
    for extra in [&["--dry-run"][..], &[]] {
        let args = [
            &["backfill", "--start", "2030-01-01", "--end", "2030-01-31"][..],
            extra,
        ]
        .concat();
        let ran = run(&wh, &runs, &args);
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        assert!(
            ran.stderr
                .contains("warning: no feature records in 2030-01-01 – 2030-01-31"),
            "{}",
            ran.stderr
        );
        assert!(
            ran.stderr
                .contains("after the newest game_date, 2026-01-22"),
            "{}",
            ran.stderr
        );
        assert!(!ran.stdout.contains("merge --run"), "{}", ran.stdout);
        assert!(!ran.stdout.contains("report:"), "{}", ran.stdout);
        assert!(ran.stdout.contains("nothing to compute"), "{}", ran.stdout);
        assert!(run_dirs(&runs).is_empty(), "{:?}", run_dirs(&runs));
    }
    let doc = run(
        &wh,
        &runs,
        &[
            "--json",
            "backfill",
            "--dry-run",
            "--start",
            "2030-01-01",
            "--end",
            "2030-01-31",
        ],
    )
    .json();
    assert_eq!(doc["status"], "nothing_to_compute", "{doc}");
    assert!(
        doc["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("after the newest game_date"),
        "{doc}"
    );
}

/// Item 6: a window of bootstrap days only: the warning counts the records skipped and
/// names `--include-bootstrap`; no merge is offered and no run directory is left.
#[test]
fn a_window_of_bootstrap_days_only_warns_and_names_include_bootstrap() {
    let (_dir, wh, runs) = setup();
    let ran = run(
        &wh,
        &runs,
        &[
            "backfill",
            "--dry-run",
            "--start",
            "2025-10-21",
            "--end",
            "2025-11-03",
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("all 2,446 records in range are on bootstrap days"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("--include-bootstrap"), "{}", ran.stderr);
    assert!(!ran.stdout.contains("merge --run"), "{}", ran.stdout);
    assert!(run_dirs(&runs).is_empty(), "{:?}", run_dirs(&runs));
}

/// Item 10: `RUN=$(completeness -q export …)` gets the run id, and only that.
#[test]
fn quiet_export_prints_the_run_id() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let ran = run(
        &sample_warehouse(),
        &runs,
        &[&["-q", "export"][..], &JANUARY].concat(),
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout.trim(), run_dirs(&runs)[0], "{}", ran.stdout);
    assert_eq!(ran.stdout.lines().count(), 1, "{}", ran.stdout);
}

/// Item 11: a merge with more conflicts than it lists says how many more, on stderr and
/// in JSON (`conflict_keys_truncated`).
#[test]
fn conflict_keys_cut_short_say_so() {
    let (_dir, wh, runs) = setup();
    let plan = run(
        &wh,
        &runs,
        &[&["--json", "backfill", "--dry-run"][..], &JANUARY].concat(),
    );
    let id = plan.json()["run_id"].as_str().unwrap().to_string();
    run(&wh, &runs, &[&["backfill"][..], &JANUARY].concat());
    let merged = run(&wh, &runs, &["--json", "merge", "--run", &id]);
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    let doc = merged.json();
    let merge = &doc["merge"];
    assert_eq!(merge["conflicts"], 3860, "{merge}");
    assert_eq!(merge["conflict_keys"].as_array().unwrap().len(), 100);
    assert_eq!(merge["conflict_keys_truncated"], true, "{merge}");
    assert_eq!(
        merged.stderr.matches("conflict: ").count(),
        10,
        "{}",
        merged.stderr
    );
    assert!(
        merged.stderr.contains("… and 3,850 more"),
        "{}",
        merged.stderr
    );
}

/// Item 12: the run report's bootstrap count says what it counts (records labelled
/// BOOTSTRAP, so not complete), and it gives the is_bootstrap count `check summary`
/// gives, in the terminal, JSON and the chart legend.
#[test]
fn the_bootstrap_counts_say_what_they_count() {
    let (_dir, wh, runs) = setup();
    let ran = run(&wh, &runs, &[&["backfill"][..], &JANUARY].concat());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let summary = cli_json(
        &wh,
        &runs,
        &["check", "summary", "--end", "2026-01-22", "--days", "22"],
    );
    let flagged = summary["totals"]["bootstrap"].as_u64().unwrap();
    assert!(flagged > 0, "{summary}");
    let id = run_dirs(&runs)[0].clone();
    let report: Value =
        serde_json::from_slice(&std::fs::read(runs.join(&id).join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["after_flags"]["is_bootstrap"], flagged, "{report}");
    assert!(
        ran.stdout.contains("bootstrap, not complete 0"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!("is_bootstrap {flagged}")),
        "{}",
        ran.stdout
    );
    let html = std::fs::read_to_string(runs.join(&id).join("report/report.html")).unwrap();
    // The legend leaves out parts with no records; a bootstrap part, when shown, says
    // it is of records not complete.
    assert!(!html.contains(">Bootstrap "), "legend");
    assert!(!html.contains(">Bootstrap 0.0%"), "legend");
}

/// Item 13: `diff --results --current` is a comparison of two files: its header says
/// so (not "dry run") with the range of the records compared, `--json` has
/// `range{start,end}`, and a `report:` line says where `--report DIR` wrote.
#[test]
fn a_diff_of_files_says_what_it_is_and_where_its_report_went() {
    let (dir, wh, runs) = setup();
    let plan = run(
        &wh,
        &runs,
        &[&["--json", "backfill", "--dry-run"][..], &JANUARY].concat(),
    );
    let id = plan.json()["run_id"].as_str().unwrap().to_string();
    let results = runs.join(&id).join("results.parquet");
    let current = runs.join(&id).join("export").join("features.parquet");
    let report = dir.path().join("cmp");
    let out = cli_at(&wh, &runs)
        .args(["diff", "--results"])
        .arg(&results)
        .arg("--current")
        .arg(&current)
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let header = text.lines().take(2).collect::<Vec<_>>().join("\n");
    assert!(!header.contains("dry run"), "{header}");
    assert!(header.contains("2026-01-01 → 2026-01-22"), "{header}");
    assert!(header.contains("comparison of two files"), "{header}");
    assert!(
        text.contains(&format!("report: {}", report.join("report.html").display())),
        "{text}"
    );
    let out = cli_at(&wh, &runs)
        .args(["--json", "diff", "--results"])
        .arg(&results)
        .arg("--current")
        .arg(&current)
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        doc["range"],
        serde_json::json!({"start": "2026-01-01", "end": "2026-01-22"}),
        "{doc}"
    );
    assert_eq!(doc["status"], "file_comparison", "{doc}");
}
