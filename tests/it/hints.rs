//! Every command the tool suggests is right as printed (issue 17): each test takes the
//! suggestion from the tool's own output, runs it as printed, and checks it does what
//! the line says.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// The first `completeness …` command between backticks in `text` that starts with
/// `prefix` once the location flags it carries (`--warehouse`, `--run-dir`, `--config`:
/// the tests' own, see `cli_at`) are left out; its arguments after those flags.
fn suggested(text: &str, prefix: &str) -> Vec<String> {
    let prefix: Vec<String> = shlex::split(prefix).unwrap();
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(shlex::split)
        .map(|words| without_location_flags(&words))
        .find(|words| words.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{}…` suggested in:\n{text}", prefix.join(" ")))
        .split_off(1)
}

/// `completeness` and the words after its leading location flags.
fn without_location_flags(words: &[String]) -> Vec<String> {
    let mut rest = words.iter().skip(1).peekable();
    while rest
        .peek()
        .is_some_and(|w| ["--warehouse", "--run-dir", "--config"].contains(&w.as_str()))
    {
        rest.nth(1);
    }
    words.iter().take(1).chain(rest).cloned().collect()
}

/// A copy of the samples to write to, and a run directory beside it.
fn copy_with_runs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    (dir, wh, runs)
}

/// The newest game_date of the sample feature table, read from the table itself.
fn newest_sample_date() -> chrono::NaiveDate {
    let table = read_table(&features_table(&sample_warehouse()), None, "game_date");
    dates(&table, "game_date")
        .into_iter()
        .flatten()
        .max()
        .unwrap()
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

/// A suggested backfill is a dry run, as the runbook says (issue 25 item 20): run as
/// printed it writes nothing, and the `merge --run` it prints applies it.
fn plan_then_merge(wh: &Path, runs: &Path, text: &str) {
    let command = suggested(text, "completeness backfill");
    assert!(command.contains(&"--dry-run".to_string()), "{command:?}");
    let versions = delta_versions(&features_table(wh));
    let planned = run_suggestion(wh, runs, &command);
    assert_eq!(delta_versions(&features_table(wh)), versions, "{planned}");
    let merge = suggested(&planned, "completeness merge");
    run_suggestion(wh, runs, &merge);
    assert_eq!(delta_versions(&features_table(wh)), versions + 1);
}

/// `check summary` names the records still without a struct and the backfill that
/// gives them one (a dry run, then its merge); after running them as printed, none is
/// left (the early-season dates included: without `--include-bootstrap` the backfill
/// skips them).
#[test]
fn the_summary_s_backfill_leaves_no_record_without_a_struct() {
    let (_dir, wh, runs) = copy_with_runs();
    let window = ["check", "summary", "--end", "2025-11-10", "--days", "21"];
    let before = summary(&wh, &runs, "2025-11-10", "21");
    assert!(before["totals"]["without_struct"].as_u64().unwrap() > 0);
    let text = stdout_of(&wh, &runs, &window);
    plan_then_merge(&wh, &runs, &text);
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
    let (_dir, wh, runs) = copy_with_runs();
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
    let run = only_run(&runs);
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

/// Without `--end`, the checks' windows end at the newest feature record (the samples
/// stop long before today) and say so; the answer is the one for that `--end`.
#[test]
fn default_windows_end_at_the_newest_feature_record() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let wh = sample_warehouse();
    let newest = newest_sample_date();
    for check in ["summary", "incomplete", "gaps"] {
        let out = cli_at(&wh, &runs)
            .args(["--json", "check", check])
            .assert()
            .success();
        let output = out.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let note = format!("--end not given: using {newest}, the newest game_date");
        assert!(stderr.contains(&note), "{check}: {stderr}");
        let defaulted: Value = serde_json::from_slice(&output.stdout).unwrap();
        let explicit = cli_json(&wh, &runs, &["check", check, "--end", &newest.to_string()]);
        assert_eq!(defaulted, explicit, "{check}");
        if check == "summary" {
            // The window holds the data: not the empty one a default of today gave.
            assert!(defaulted["rows_total"].as_u64() > Some(0), "{defaulted}");
        }
    }
}

/// `report daily` writes under `--run-dir` unless `--out` says otherwise, and its
/// default window ends at the data too.
#[test]
fn the_daily_report_goes_under_the_run_dir() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("elsewhere");
    let wh = sample_warehouse();
    let newest = newest_sample_date();
    let out = cli_at(&wh, &runs)
        .current_dir(dir.path())
        .args(["report", "daily"])
        .assert()
        .success();
    let start = newest - chrono::Days::new(29);
    let written = runs.join(format!("daily-{start}_{newest}"));
    let stdout = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(written.join("report.html").is_file(), "{stdout}");
    assert!(written.join("daily.json").is_file(), "{stdout}");
    assert!(stdout.contains(&written.display().to_string()), "{stdout}");
    assert!(!dir.path().join("completeness-reports").exists());
}

/// `check … --sql --end D` on BigQuery only prints text: it needs no credentials, no
/// table and no network. Without --end it must look up where the data ends (so the SQL
/// answers the window the check would, issue 25 item 14), and says how to avoid that.
#[test]
fn sql_on_bigquery_needs_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("completeness.toml");
    std::fs::write(
        &config,
        "kind = \"bigquery\"\n[bigquery]\nproject = \"my-project\"\nlocation = \"US\"\n\
         staging_uri = \"gs://b/completeness\"\n",
    )
    .unwrap();
    let out = cli()
        .env("HOME", dir.path())
        .env("GCE_METADATA_HOST", "127.0.0.1:9")
        .env("GCE_METADATA_IP", "127.0.0.1:9")
        .arg("--config")
        .arg(&config)
        .args(["check", "summary", "--end", "2026-01-22", "--sql"])
        .assert()
        .success();
    let sql = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(
        sql.contains("FROM `my-project.nba_predictions.ml_feature_store_v2`"),
        "{sql}"
    );
    cli()
        .env("HOME", dir.path())
        .env("GCE_METADATA_HOST", "127.0.0.1:9")
        .env("GCE_METADATA_IP", "127.0.0.1:9")
        .arg("--config")
        .arg(&config)
        .args(["check", "summary", "--sql"])
        .assert()
        .code(predicates::ord::ne(0))
        .stderr(predicates::str::contains("pass --end"));
}

/// A plan made before another run of the tool merged the same rows: its merge names
/// that run and the version, and advises a new dry run (the rows are not a stranger's).
#[test]
fn a_plan_overtaken_by_another_run_says_the_table_moved() {
    let (_dir, wh, runs) = copy_with_runs();
    let range = ["--start", "2026-01-20", "--end", "2026-01-22"];
    let plan = cli_json(
        &wh,
        &runs,
        &[&["backfill", "--dry-run"][..], &range].concat(),
    );
    let plan_id = plan["run_id"].as_str().unwrap().to_string();
    let applied = cli_json(&wh, &runs, &[&["backfill"][..], &range].concat());
    let applied_id = applied["run_id"].as_str().unwrap().to_string();
    let version = applied["merge"]["table_version"].as_u64().unwrap();

    let out = cli_at(&wh, &runs)
        .args(["merge", "--run", &plan_id])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("the table moved since this plan (version 0 → 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("run {applied_id} in version {version}")),
        "{stderr}"
    );
    let again = suggested(&stderr, "completeness backfill");
    assert_eq!(
        again,
        [
            "backfill",
            "--start",
            "2026-01-20",
            "--end",
            "2026-01-22",
            "--dry-run"
        ]
    );
    // Nothing of the stale plan was written.
    assert_eq!(delta_versions(&features_table(&wh)), version as usize + 1);
}

/// After a rollback, `merge --run` refuses and names `--reapply`; running that as
/// printed recomputes the range as a new run and applies it: a dry run afterwards finds
/// nothing to change, and the rolled-back run's own plan was not written again.
#[test]
fn a_rolled_back_run_is_reapplied_only_as_a_new_run() {
    let (_dir, wh, runs) = copy_with_runs();
    let range = ["--start", "2026-01-15", "--end", "2026-01-22"];
    let first = cli_json(&wh, &runs, &[&["backfill"][..], &range].concat());
    let run = first["run_id"].as_str().unwrap().to_string();
    cli_at(&wh, &runs)
        .args(["rollback", &run])
        .assert()
        .success();
    let refused = cli_at(&wh, &runs)
        .args(["merge", "--run", &run])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    let reapply = suggested(&stderr, "completeness merge");
    assert_eq!(reapply, ["merge", "--run", run.as_str(), "--reapply"]);

    let versions = delta_versions(&features_table(&wh));
    let out = cli_at(&wh, &runs)
        .arg("--json")
        .args(&reapply)
        .assert()
        .success();
    let again: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_ne!(again["run_id"], first["run_id"], "a new run");
    assert_eq!(again["range"], first["range"]);
    assert_eq!(
        again["merge"]["rows_written"], first["merge"]["rows_written"],
        "the restored rows get their structs again"
    );
    assert_eq!(delta_versions(&features_table(&wh)), versions + 1);
    let check = cli_json(
        &wh,
        &runs,
        &[&["backfill", "--dry-run"][..], &range].concat(),
    );
    assert_eq!(check["records"]["added"], 0, "{check}");
    assert_eq!(check["records"]["changed"], 0, "{check}");
}

/// A rollback refused because rows were rewritten after the run names, as printed, a
/// dry run that shows the counts (split into rows going back to no struct and to an
/// older struct, the rewritten rows, and the line that applies it) and the forced
/// rollback, which then says it overwrites the later write (issue 25, item 7).
#[test]
fn a_refused_rollback_s_advice_works_as_printed() {
    let (_dir, wh, runs) = copy_with_runs();
    let range = ["--start", "2026-01-20", "--end", "2026-01-22"];
    cli_at(&wh, &runs)
        .arg("backfill")
        .args(range)
        .assert()
        .success();
    let run = only_run_id(&runs);
    let table = features_table(&wh);
    runtime().block_on(async {
        let url = url::Url::from_directory_path(&table).unwrap();
        deltalake::open_table(url)
            .await
            .unwrap()
            .update()
            .with_predicate("game_date = '2026-01-21'")
            .with_update("updated_at", "CAST('2030-01-01T00:00:00Z' AS TIMESTAMP)")
            .await
            .unwrap();
    });
    let refused = cli_at(&wh, &runs).args(["rollback", &run]).assert().code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    let dry = suggested(&stderr, "completeness rollback");
    assert!(dry.contains(&"--dry-run".to_string()), "{stderr}");
    let shown = run_suggestion(&wh, &runs, &dry);
    for words in [
        "would restore",
        "back to no struct",
        "to an older struct",
        "rewritten after",
    ] {
        assert!(shown.contains(words), "the dry run says {words}: {shown}");
    }
    let force = suggested(&shown, &format!("completeness rollback {run} --force"));
    assert!(force.contains(&"--force".to_string()), "{shown}");
    let versions = delta_versions(&table);
    let forced = run_suggestion(&wh, &runs, &force);
    assert_eq!(delta_versions(&table), versions + 1);
    assert!(forced.contains("overwritten"), "{forced}");
    assert!(!forced.contains("later commits kept)"), "{forced}");
}

/// `export` then `diff --run R`: the report offers `merge --run R`, and that line, run
/// as printed, applies the run (issue 25, item 1).
#[test]
fn an_exported_run_s_diff_offers_its_merge() {
    let (_dir, wh, runs) = copy_with_runs();
    let range = ["--start", "2026-01-15", "--end", "2026-01-22"];
    let id = stdout_of(&wh, &runs, &[&["-q", "export"][..], &range].concat());
    let exported = stdout_of(&wh, &runs, &[&["export"][..], &range].concat());
    let diff = suggested(&exported, "completeness diff");
    assert_eq!(diff[..2], ["diff", "--run"], "{exported}");
    run_suggestion(&wh, &runs, &diff);
    let text = stdout_of(&wh, &runs, &["diff", "--run", id.trim()]);
    let merge = suggested(&text, "completeness merge");
    assert_eq!(merge, ["merge", "--run", id.trim()]);
    let versions = delta_versions(&features_table(&wh));
    let merged = run_suggestion(&wh, &runs, &merge);
    assert!(merged.contains("applied: "), "{merged}");
    assert_eq!(delta_versions(&features_table(&wh)), versions + 1);
    // The page's note for the records short of ten games, run as printed.
    let page = std::fs::read_to_string(runs.join(id.trim()).join("report/report.html")).unwrap();
    let check = suggested(&page, "completeness check incomplete");
    run_suggestion(&wh, &runs, &check);
}

/// A dry run of bootstrap days only computes nothing; the warning's command, run as
/// printed, covers them (issue 25, item 6).
#[test]
fn the_bootstrap_days_warning_s_command_covers_them() {
    let (_dir, wh, runs) = copy_with_runs();
    let out = cli_at(&wh, &runs)
        .args([
            "backfill",
            "--dry-run",
            "--start",
            "2025-10-21",
            "--end",
            "2025-11-03",
        ])
        .assert()
        .success();
    let warning = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let command = suggested(&warning, "completeness backfill");
    assert!(
        command.contains(&"--include-bootstrap".to_string()),
        "{command:?}"
    );
    assert!(command.contains(&"--dry-run".to_string()), "{command:?}");
    let versions = delta_versions(&features_table(&wh));
    let mut json = vec!["--json".to_string()];
    json.extend(command);
    let report: Value = serde_json::from_str(&run_suggestion(&wh, &runs, &json)).unwrap();
    assert_eq!(report["records"]["computed"], 2446, "{report}");
    assert_eq!(report["status"], "dry_run", "{report}");
    assert_eq!(delta_versions(&features_table(&wh)), versions, "a dry run");
}

/// The report directory `report daily` printed.
fn daily_dir(stdout: &str) -> std::path::PathBuf {
    let html = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.ends_with("report.html"))
        .unwrap_or_else(|| panic!("no report.html in:\n{stdout}"));
    Path::new(html).parent().unwrap().to_path_buf()
}

/// Issue 25 item 20: the daily report's terminal lines carry the page's suggestion, and
/// it is the runbook's: a dry run, then its merge; after both, no record is left
/// without a struct.
#[test]
fn the_daily_report_suggests_a_dry_run_on_the_terminal_and_the_page() {
    let (_dir, wh, runs) = copy_with_runs();
    let args = ["report", "daily", "--end", "2026-01-22", "--days", "10"];
    let text = stdout_of(&wh, &runs, &args);
    let command = suggested(&text, "completeness backfill").join(" ");
    let page = std::fs::read_to_string(daily_dir(&text).join("report.html")).unwrap();
    assert!(
        page.contains(&command),
        "the page's suggestion differs: {command}"
    );
    plan_then_merge(&wh, &runs, &text);
    let after = summary(&wh, &runs, "2026-01-22", "10");
    assert_eq!(after["totals"]["without_struct"], 0, "{after}");
    let text = stdout_of(&wh, &runs, &args);
    assert!(!text.contains(" backfill --start"), "{text}");
}

/// Issue 25 item 20: reports of two windows ending on the same day go to two
/// directories; a second report of the same window says it replaced the first.
#[test]
fn daily_reports_of_two_windows_do_not_replace_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let wh = sample_warehouse();
    let long = daily_dir(&stdout_of(&wh, &runs, &["report", "daily", "--days", "90"]));
    let short = daily_dir(&stdout_of(&wh, &runs, &["report", "daily"]));
    assert_ne!(long, short);
    let json = |dir: &Path| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join("daily.json")).unwrap()).unwrap()
    };
    assert_eq!(json(&long)["start"], "2025-10-25");
    assert_eq!(json(&short)["start"], "2025-12-24");
    let again = cli_at(&wh, &runs)
        .args(["report", "daily"])
        .assert()
        .success();
    let output = again.get_output();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("replaced"), "{said}");
}

/// Run a printed command as an operator pastes it: through a shell, from `cwd`, with
/// nothing in the environment but the shell's own (the binary stands in for
/// `completeness`).
fn paste(command: &str, cwd: &Path) -> std::process::Output {
    let rest = command
        .strip_prefix("completeness ")
        .unwrap_or_else(|| panic!("not a completeness command: {command}"));
    let bin = assert_cmd::cargo::cargo_bin("completeness");
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c")
        .arg(format!("'{}' {rest}", bin.display()))
        .current_dir(cwd);
    for var in [
        "COMPLETENESS_WAREHOUSE",
        "COMPLETENESS_RUN_DIR",
        "COMPLETENESS_CONFIG",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        sh.env_remove(var);
    }
    sh.output().unwrap()
}

/// The first `completeness …` command in backticks that starts with `prefix`.
fn printed(text: &str, prefix: &str) -> String {
    text.split('`')
        .skip(1)
        .step_by(2)
        .find(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}…` printed in:\n{text}"))
        .to_string()
}

/// Issue 25 item 8: the commands a dry run and a check print carry the location flags
/// the operator typed (a config file and a run directory with spaces in their paths,
/// quoted), so pasted from another directory they reach the same warehouse and runs.
#[test]
fn printed_commands_carry_the_location_flags_the_operator_typed() {
    let (dir, wh, _) = copy_with_runs();
    let runs = dir.path().join("my runs");
    let config = dir.path().join("my config.toml");
    std::fs::write(
        &config,
        format!(
            "kind = \"local\"\nwarehouse = {:?}\n",
            wh.display().to_string()
        ),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let flags = |cmd: &mut assert_cmd::Command| {
        cmd.arg("--config")
            .arg(&config)
            .arg("--run-dir")
            .arg(&runs)
            .current_dir(elsewhere.path());
    };
    // A check's suggestion: the dry run that plans the structs the window lacks.
    let mut check = cli();
    flags(&mut check);
    let out = check
        .args(["check", "summary", "--end", "2026-01-22", "--days", "3"])
        .assert()
        .success();
    let said = String::from_utf8_lossy(&out.get_output().stderr).into_owned()
        + &String::from_utf8_lossy(&out.get_output().stdout);
    let plan = said
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|c| c.starts_with("completeness ") && c.contains(" backfill "))
        .unwrap_or_else(|| panic!("no backfill suggested:\n{said}"))
        .to_string();
    assert!(plan.contains("--dry-run"), "{plan}");
    assert!(plan.contains("--config '"), "{plan}");
    let planned = paste(&plan, elsewhere.path());
    let stdout = String::from_utf8_lossy(&planned.stdout).into_owned();
    assert!(
        planned.status.success(),
        "`{plan}` failed: {stdout}\n{}",
        String::from_utf8_lossy(&planned.stderr)
    );
    // The dry run's own `merge --run`, pasted, applies it.
    let merge = printed(&stdout, "completeness --run-dir");
    assert!(merge.contains(" merge --run "), "{merge}");
    let versions = delta_versions(&features_table(&wh));
    let merged = paste(&merge, elsewhere.path());
    assert!(
        merged.status.success(),
        "`{merge}` failed: {}",
        String::from_utf8_lossy(&merged.stderr)
    );
    assert_eq!(delta_versions(&features_table(&wh)), versions + 1);
}

/// Issue 25 item 8: a flag that came from the environment stays out of the printed
/// commands (the pasting shell has it), one typed goes in.
#[test]
fn printed_commands_leave_out_what_came_from_the_environment() {
    let (_dir, wh, runs) = copy_with_runs();
    let out = cli()
        .env("COMPLETENESS_WAREHOUSE", &wh)
        .arg("--run-dir")
        .arg(&runs)
        .args([
            "backfill",
            "--dry-run",
            "--start",
            "2026-01-20",
            "--end",
            "2026-01-22",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let merge = printed(&stdout, "completeness --run-dir");
    assert!(merge.contains(" merge --run "), "{merge}");
    assert!(!merge.contains("--warehouse"), "{merge}");
}
