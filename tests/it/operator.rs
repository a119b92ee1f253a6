//! The operator tools on a copy of the sample warehouse after a full backfill: every
//! figure a check prints is recounted here straight from the table's rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use completeness::model::HistoricalCompleteness;
use completeness::model::completeness_column::CompletenessColumn;
use completeness::model::count::thousands;
use predicates::str::contains;

use crate::support::cli_json as json;
use crate::support::*;

const FULL: [&str; 4] = ["--start", "2024-10-22", "--end", "2026-01-22"];

struct Backfilled {
    _dir: tempfile::TempDir,
    wh: PathBuf,
    runs: PathBuf,
    run_id: String,
}

fn backfilled() -> Backfilled {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let out = cli_at(&wh, &runs)
        .args(["--json", "backfill"])
        .args(FULL)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let run_id = report["run_id"].as_str().unwrap().to_string();
    Backfilled {
        _dir: dir,
        wh,
        runs,
        run_id,
    }
}

/// Every feature record: key → stored struct.
fn records(wh: &Path) -> BTreeMap<(NaiveDate, String), Option<HistoricalCompleteness>> {
    let batch = read_table(&features_table(wh), None, "game_date, player_lookup");
    let column = batch.column_by_name("historical_completeness").unwrap();
    let structs = CompletenessColumn::try_new(column.as_ref(), "test").unwrap();
    let players = strings(&batch, "player_lookup");
    let days = dates(&batch, "game_date");
    (0..batch.num_rows())
        .map(|i| {
            (
                (days[i].unwrap(), players[i].clone().unwrap()),
                structs.get(i),
            )
        })
        .collect()
}

fn is_gap(h: &HistoricalCompleteness) -> bool {
    !h.is_complete && !h.is_bootstrap
}

#[test]
fn summary_incomplete_and_cascade_agree_with_the_table() {
    let b = backfilled();
    let all = records(&b.wh);
    let (start, end) = (d("2025-12-24"), d("2026-01-22"));
    let window: Vec<_> = all
        .iter()
        .filter(|((day, _), _)| (start..=end).contains(day))
        .collect();

    // check summary: totals and every per-date total.
    let summary = json(
        &b.wh,
        &b.runs,
        &["check", "summary", "--end", "2026-01-22", "--days", "30"],
    );
    let with: Vec<&HistoricalCompleteness> =
        window.iter().filter_map(|(_, h)| h.as_ref()).collect();
    let t = &summary["totals"];
    assert_eq!(t["total_features"], with.len());
    assert_eq!(t["complete"], with.iter().filter(|h| h.is_complete).count());
    assert_eq!(
        t["bootstrap"],
        with.iter().filter(|h| h.is_bootstrap).count()
    );
    assert_eq!(t["incomplete"], with.iter().filter(|h| is_gap(h)).count());
    assert_eq!(t["without_struct"], window.len() - with.len());
    let mut per_date: BTreeMap<String, usize> = BTreeMap::new();
    for ((day, _), h) in &window {
        if h.is_some() {
            *per_date.entry(day.to_string()).or_default() += 1;
        }
    }
    let rows = summary["rows"].as_array().unwrap();
    assert_eq!(rows.len(), per_date.len());
    assert!(
        rows[0]["game_date"].as_str() > rows[1]["game_date"].as_str(),
        "newest first"
    );
    for row in rows {
        assert_eq!(
            row["total_features"],
            per_date[row["game_date"].as_str().unwrap()]
        );
    }

    // check incomplete: exactly the data-gap records, with their totals.
    let incomplete = json(
        &b.wh,
        &b.runs,
        &["check", "incomplete", "--start", FULL[1], "--end", FULL[3]],
    );
    let listed: BTreeSet<(String, String)> = incomplete["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["game_date"].as_str().unwrap().into(),
                r["player_lookup"].as_str().unwrap().into(),
            )
        })
        .collect();
    let gaps: BTreeSet<(String, String)> = all
        .iter()
        .filter(|(_, h)| h.as_ref().is_some_and(is_gap))
        .map(|((day, p), _)| (day.to_string(), p.clone()))
        .collect();
    assert!(!gaps.is_empty());
    assert_eq!(listed, gaps);
    let missing: i64 = all
        .values()
        .flatten()
        .filter(|h| is_gap(h))
        .map(|h| h.games_expected - h.games_found)
        .sum();
    assert_eq!(incomplete["totals"]["total_games_missing"], missing);
    assert_eq!(incomplete["totals"]["count"], gaps.len());

    // check cascade on a date with games: the records that list it.
    let day = d("2025-01-03");
    let cascade = json(
        &b.wh,
        &b.runs,
        &["check", "cascade", "--backfill-date", "2025-01-03"],
    );
    let used = all
        .iter()
        .filter(|((g, _), h)| {
            *g > day
                && *g <= d("2025-01-24")
                && h.as_ref()
                    .is_some_and(|h| h.contributing_game_dates.contains(&day))
        })
        .count();
    assert!(used > 0);
    assert_eq!(cascade["totals"]["count"], used);
    assert!(cascade["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn cascade_on_the_injected_missing_day_warns_and_counts_spanning_windows() {
    let b = backfilled();
    let all = records(&b.wh);
    let missing_day = d("2025-01-01"); // the generator drops every game row of this day
    cli_at(&b.wh, &b.runs)
        .args(["check", "cascade", "--backfill-date", "2025-01-01"])
        .assert()
        .success()
        .stderr(contains("2025-01-01 has no rows in player_game_summary"))
        .stderr(contains("cannot be detected"));
    let cascade = json(
        &b.wh,
        &b.runs,
        &["check", "cascade", "--backfill-date", "2025-01-01"],
    );
    let spanning = all
        .keys()
        .filter(|(g, _)| *g > missing_day && *g <= d("2025-01-22"))
        .count();
    assert!(spanning > 0);
    assert_eq!(cascade["totals"]["count"], 0);
    assert_eq!(cascade["totals"]["upstream_rows_on_date"], 0);
    assert_eq!(cascade["totals"]["records_window_spans_date"], spanning);
}

#[test]
fn spot_check_passes_after_a_backfill_and_fails_on_a_corrupted_struct() {
    let b = backfilled();
    cli_at(&b.wh, &b.runs)
        .args(["spot-check", "--count", "20", "--seed", "1"])
        .assert()
        .success()
        .stdout(contains("20 passed, 0 warned, 0 failed"));

    // Corrupt one stored struct: games_found one lower than it should be.
    let (day, player) = records(&b.wh)
        .into_iter()
        .find(|((day, _), h)| *day == d("2026-01-22") && h.is_some())
        .unwrap()
        .0;
    runtime().block_on(async {
        let url = url::Url::from_directory_path(features_table(&b.wh)).unwrap();
        let t = deltalake::open_table(url).await.unwrap();
        let h = "historical_completeness";
        t.update()
            .with_predicate(format!("player_lookup = '{player}' AND game_date = '{day}'"))
            .with_update(
                h,
                format!(
                    "named_struct('games_found', {h}.games_found - 1, 'games_expected', {h}.games_expected, \
                     'is_complete', {h}.is_complete, 'is_bootstrap', {h}.is_bootstrap, \
                     'contributing_game_dates', {h}.contributing_game_dates)"
                ),
            )
            .await
            .unwrap();
    });
    cli_at(&b.wh, &b.runs)
        .args([
            "spot-check",
            "--date",
            "2026-01-22",
            "--all-players",
            "--seed",
            "1",
        ])
        .assert()
        .code(1)
        .stdout(contains(format!("FAIL  {player}")))
        .stdout(contains("FAIL  games_found"))
        .stdout(contains("1 failed"));
}

#[test]
fn rollback_restores_the_pre_backfill_rows_in_one_commit() {
    let b = backfilled();
    let table = features_table(&b.wh);
    let versions = delta_versions(&table);
    let before = read_table(&table, Some(0), "game_date, player_lookup");
    assert_ne!(before, read_table(&table, None, "game_date, player_lookup"));

    // A dry run of the rollback writes nothing.
    cli_at(&b.wh, &b.runs)
        .args(["rollback", &b.run_id, "--dry-run"])
        .assert()
        .success();
    assert_eq!(delta_versions(&table), versions);

    let report = json(&b.wh, &b.runs, &["rollback", &b.run_id]);
    assert_eq!(delta_versions(&table), versions + 1);
    assert_eq!(report["rows_restored"], report["rows_in_run"]);
    assert_eq!(read_table(&table, None, "game_date, player_lookup"), before);

    // Twice is an error, and so are a dry run and an unknown id.
    cli_at(&b.wh, &b.runs)
        .args(["rollback", &b.run_id])
        .assert()
        .code(2)
        .stderr(contains("already rolled back"));
    let dry = json(
        &b.wh,
        &b.runs,
        &[
            "backfill",
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-22",
            "--dry-run",
        ],
    );
    cli_at(&b.wh, &b.runs)
        .args(["rollback", dry["run_id"].as_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("was a dry run"));
    cli_at(&b.wh, &b.runs)
        .args(["rollback", "20990101T000000Z-000000"])
        .assert()
        .code(2)
        .stderr(contains("unknown run"));
    assert_eq!(delta_versions(&table), versions + 1);

    // runs lists all of it.
    let runs = json(&b.wh, &b.runs, &["runs"]);
    let by_id = |id: &str| {
        runs.as_array()
            .unwrap()
            .iter()
            .find(|r| r["run_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(&b.run_id)["rolled_back_in"], versions as u64);
    assert_eq!(by_id(dry["run_id"].as_str().unwrap())["status"], "dry run");
}

#[test]
fn rollback_refuses_rows_rewritten_after_the_run_unless_forced() {
    let b = backfilled();
    let table = features_table(&b.wh);
    let ((day, player), _) = records(&b.wh)
        .into_iter()
        .find(|((day, _), _)| *day == d("2026-01-21"))
        .unwrap();
    runtime().block_on(async {
        let url = url::Url::from_directory_path(&table).unwrap();
        deltalake::open_table(url)
            .await
            .unwrap()
            .update()
            .with_predicate(format!(
                "player_lookup = '{player}' AND game_date = '{day}'"
            ))
            .with_update("updated_at", "CAST('2030-01-01T00:00:00Z' AS TIMESTAMP)")
            .await
            .unwrap();
    });
    let versions = delta_versions(&table);
    // The input was fine: the rollback ran and found rows it must not restore (exit 1).
    cli_at(&b.wh, &b.runs)
        .args(["rollback", &b.run_id])
        .assert()
        .code(1)
        .stderr(contains("refusing"))
        .stderr(contains(format!("{player} {day}")))
        .stderr(contains("--force"));
    assert_eq!(
        delta_versions(&table),
        versions,
        "a refused rollback wrote something"
    );

    let report = json(&b.wh, &b.runs, &["rollback", &b.run_id, "--force"]);
    assert_eq!(report["rows_changed_since"], 1);
    assert_eq!(report["rows_restored"], report["rows_in_run"]);
    assert_eq!(
        read_table(&table, None, "game_date, player_lookup"),
        read_table(&table, Some(0), "game_date, player_lookup")
    );
}

/// A page that loads nothing: no URL, script, stylesheet link or embedded source.
fn assert_self_contained(page: &str) {
    for needle in [
        "http:", "https:", "//cdn", "<script", "<link", "src=", "url(", "@import",
    ] {
        assert!(!page.contains(needle), "report.html references `{needle}`");
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), page.matches("</svg>").count());
    assert!(
        page.matches("<svg").count() >= 2,
        "expected the share chart and the histogram"
    );
}

#[test]
fn backfill_and_daily_reports_are_self_contained_pages_with_charts() {
    let b = backfilled();
    let run_report = b.runs.join(&b.run_id).join("report");
    let page = std::fs::read_to_string(run_report.join("report.html")).unwrap();
    assert_self_contained(&page);
    assert!(page.contains(&b.run_id));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_report.join("report.json")).unwrap()).unwrap();
    let histogram: u64 = report["games_found_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(histogram, report["records"]["computed"].as_u64().unwrap());

    let out = b._dir.path().join("daily");
    let args = ["--end", "2026-01-22", "--days", "30"];
    cli_at(&b.wh, &b.runs)
        .args(["report", "daily", "--out"])
        .arg(&out)
        .args(args)
        .assert()
        .success()
        .stdout(contains("report.html"));
    assert_self_contained(&std::fs::read_to_string(out.join("report.html")).unwrap());
    let daily: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("daily.json")).unwrap()).unwrap();
    let summary = json(&b.wh, &b.runs, &[&["check", "summary"][..], &args].concat());
    assert_eq!(daily["totals"], summary["totals"]);
    let found: u64 = daily["games_found_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(found, summary["totals"]["total_features"].as_u64().unwrap());
}

/// Issue 25 item 22: a key file that yields no token is one sentence with the fix, as a
/// credentials problem (not the raw object_store text under "configuration").
#[test]
fn doctor_says_in_one_sentence_why_there_is_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.json");
    std::fs::write(&key, r#"{"type": "service_account"}"#).unwrap();
    let config = dir.path().join("completeness.toml");
    std::fs::write(
        &config,
        format!(
            "kind = \"bigquery\"\n[bigquery]\nproject = \"my-project\"\nlocation = \"US\"\n\
             staging_uri = \"gs://bucket/x\"\n[gcs]\ncredentials = \"{}\"\n",
            key.display()
        ),
    )
    .unwrap();
    let out = cli()
        .arg("--config")
        .arg(&config)
        .arg("doctor")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("credentials"))
        .unwrap_or_else(|| panic!("no credentials line: {text}"));
    assert!(line.contains("FAIL"), "{text}");
    assert!(line.contains(&key.display().to_string()), "{text}");
    assert!(line.len() < 200, "{} characters: {line}", line.len());
    assert!(!text.contains("Generic GCS error"), "{text}");
    assert!(text.contains("fix: "), "{text}");
}

/// Issue 25 item 14: `--json` with `--sql` is one JSON document (the check, the
/// dialect and every statement), not raw SQL.
#[test]
fn sql_under_json_is_one_json_document() {
    let runs = tempfile::tempdir().unwrap();
    let doc = json(
        &sample_warehouse(),
        runs.path(),
        &["check", "summary", "--end", "2026-01-22", "--sql"],
    );
    assert_eq!(doc["check"], "summary");
    assert_eq!(doc["dialect"], "datafusion");
    let statements = doc["statements"].as_array().unwrap();
    assert!(!statements.is_empty(), "{doc}");
    assert_eq!(statements[0]["query"], "daily_summary");
    let sql = statements[0]["sql"].as_str().unwrap();
    assert!(sql.contains("FROM features"), "{sql}");
    assert!(sql.contains("DATE '2026-01-22'"), "{sql}");
}

/// Issue 25 item 14: without `--end`, `--sql` prints the SQL of the window the check
/// itself answers (ending at the newest game_date), not one ending today.
#[test]
fn sql_without_end_answers_the_window_of_the_check() {
    let runs = tempfile::tempdir().unwrap();
    let wh = sample_warehouse();
    for check in ["gaps", "incomplete", "summary"] {
        let answer = json(&wh, runs.path(), &["check", check]);
        let end = answer["params"]["end"].as_str().unwrap().to_string();
        assert_eq!(end, "2026-01-22", "{check}: {answer}");
        let sql = cli_at(&wh, runs.path())
            .args(["check", check, "--sql"])
            .assert()
            .success()
            .stderr(contains("using 2026-01-22"))
            .get_output()
            .stdout
            .clone();
        let sql = String::from_utf8(sql).unwrap();
        let start = answer["params"]["start"].as_str().unwrap();
        for date in [start, end.as_str()] {
            assert!(
                sql.contains(&format!("DATE '{date}'")),
                "{check}: {date} not in\n{sql}"
            );
        }
        let today = chrono::Utc::now().date_naive().to_string();
        assert!(!sql.contains(&today), "{check}: today {today} in\n{sql}");
    }
}

/// Issue 25 item 14: a cascade date after the data says so, and suggests no backfill
/// of a date that has no games.
#[test]
fn cascade_after_the_data_says_so() {
    let runs = tempfile::tempdir().unwrap();
    let out = cli_at(&sample_warehouse(), runs.path())
        .args(["check", "cascade", "--backfill-date", "2030-01-01"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("after the data"), "{text}");
    assert!(text.contains("2026-01-22"), "the newest game_date: {text}");
    assert!(!text.contains(" backfill --start"), "{text}");
    assert!(!text.contains("cannot be detected"), "{text}");
}

/// Issue 25 item 2: on a warehouse never backfilled, every check says first how many
/// records of its window have no struct (it printed "0 incomplete records" and nothing
/// else), with the counts straight from the table.
#[test]
fn every_check_says_first_how_many_records_have_no_struct() {
    let runs = tempfile::tempdir().unwrap();
    let wh = sample_warehouse();
    let all = records(&wh);
    let without = |from: &str, to: &str| {
        all.iter()
            .filter(|((day, _), h)| (d(from)..=d(to)).contains(day) && h.is_none())
            .count()
    };
    for (args, from, to) in [
        (
            &[
                "check",
                "incomplete",
                "--start",
                "2025-12-24",
                "--end",
                "2026-01-22",
            ][..],
            "2025-12-24",
            "2026-01-22",
        ),
        (
            &["check", "summary", "--end", "2026-01-22", "--days", "30"][..],
            "2025-12-24",
            "2026-01-22",
        ),
        (
            &[
                "check",
                "gaps",
                "--start",
                "2025-12-24",
                "--end",
                "2026-01-22",
            ][..],
            "2025-12-24",
            "2026-01-22",
        ),
        (
            &["check", "cascade", "--backfill-date", "2026-01-10"][..],
            "2026-01-11",
            "2026-01-31",
        ),
    ] {
        let n = without(from, to);
        assert!(n > 1000, "{args:?}: {n}");
        let doc = json(&wh, runs.path(), args);
        assert_eq!(doc["coverage"]["without_struct"], n, "{args:?}: {doc}");
        let out = cli_at(&wh, runs.path()).args(args).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let second = text.lines().nth(1).unwrap_or_default();
        let count = thousands(n as u64);
        assert!(
            second.starts_with("warning: ") && second.contains(&format!("{count} of ")),
            "{args:?}: the line after the title must say {count} have no struct:\n{text}"
        );
        assert!(second.contains("none of them counts as complete"), "{text}");
    }
}

/// Issue 25 item 2: the daily page of a warehouse never backfilled leads with the
/// records that have no struct, and its complete share is of every record: it read
/// "COMPLETE 100.0%, DATA GAPS 0" with 15,779 records uncomputed.
#[test]
fn the_daily_page_counts_records_without_a_struct_as_not_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("daily");
    let wh = sample_warehouse();
    cli_at(&wh, &dir.path().join("runs"))
        .args([
            "report",
            "daily",
            "--end",
            "2026-01-22",
            "--days",
            "90",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let daily: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("daily.json")).unwrap()).unwrap();
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let without = daily["coverage"]["without_struct"].as_u64().unwrap();
    let all = daily["coverage"]["records"].as_u64().unwrap();
    assert!(without * 2 > all, "{daily}");
    let first_card = page.split("<div class=\"card\">").nth(1).unwrap();
    assert!(first_card.contains("no struct yet"), "{first_card}");
    assert!(first_card.contains(&thousands(without)), "{first_card}");
    let complete = daily["totals"]["complete"].as_u64().unwrap();
    let share = format!("{:.1}%", complete as f64 * 100.0 / all as f64);
    assert!(
        page.contains(&format!("<div class=\"value\">{share}</div>")),
        "{share}"
    );
    assert!(
        !page.contains(">100.0%<"),
        "a headline of 100% with most records uncomputed"
    );
    // The notes lead with them too, and the first one is the warning.
    let notes = page.split("<li>").nth(1).unwrap();
    assert!(notes.starts_with("warning: "), "{notes}");
}

/// Issue 25 item 3: early in a season most records are INCOMPLETE with nothing missing;
/// the summary, the page and the run say why and call only missing games data gaps
/// (they said "82–92% incomplete (data gaps)").
#[test]
fn early_season_records_are_not_called_data_gaps() {
    let b = backfilled();
    let summary = json(
        &b.wh,
        &b.runs,
        &["check", "summary", "--end", "2025-11-10", "--days", "20"],
    );
    let t = &summary["totals"];
    let incomplete = t["incomplete"].as_u64().unwrap();
    let reasons = &t["incomplete_by_reason"];
    let early = reasons["early_season"].as_u64().unwrap();
    let gaps = t["data_gaps"].as_u64().unwrap();
    assert!(incomplete > 500, "{t}");
    assert!(early * 10 > incomplete * 9, "{t}");
    assert_eq!(reasons["missing_games"], gaps);
    let counted: u64 = ["missing_games", "early_season", "dnp_inactive", "absence"]
        .iter()
        .map(|k| reasons[k].as_u64().unwrap())
        .sum();
    assert_eq!(counted, incomplete, "{t}");
    // Per date, the data gaps add up to the total.
    let per_date: u64 = summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data_gaps"].as_u64().unwrap())
        .sum();
    assert_eq!(per_date, gaps);
    let out = cli_at(&b.wh, &b.runs)
        .args(["check", "summary", "--end", "2025-11-10", "--days", "20"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!text.contains("(data gaps)"), "{text}");
    assert!(
        text.contains(&format!("{} early season", thousands(early))),
        "{text}"
    );

    // The run's report says why too: terminal, report.json, report.md, report.html.
    let report_dir = b.runs.join(&b.run_id).join("report");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report_dir.join("report.json")).unwrap()).unwrap();
    let reasons = &report["incomplete_reasons"];
    assert!(reasons["early_season"].as_u64() > Some(1000), "{reasons}");
    let by_date: u64 = report["by_date"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data_gaps"].as_u64().unwrap())
        .sum();
    assert_eq!(reasons["missing_games"], by_date);
    let md = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    assert!(md.contains("## Why records are incomplete"), "{md}");
    let page = std::fs::read_to_string(report_dir.join("report.html")).unwrap();
    assert!(
        page.contains("Why records are incomplete"),
        "the reasons on the page"
    );
    assert!(!page.contains("neither: a data gap"), "the old legend");
    assert!(
        !page.contains("in a season&#39;s first weeks"),
        "the old legend"
    );
}

/// Issue 25 item 3: the daily page's data gaps do not rise with the early-season
/// records a `--include-bootstrap` backfill adds (1,107 → 2,666 before).
#[test]
fn an_include_bootstrap_backfill_adds_no_data_gaps_to_the_daily_page() {
    let b = backfilled();
    let daily = |name: &str| -> serde_json::Value {
        let out = b._dir.path().join(name);
        cli_at(&b.wh, &b.runs)
            .args([
                "report",
                "daily",
                "--end",
                "2026-01-22",
                "--days",
                "90",
                "--out",
            ])
            .arg(&out)
            .assert()
            .success();
        serde_json::from_slice(&std::fs::read(out.join("daily.json")).unwrap()).unwrap()
    };
    let before = daily("before");
    cli_at(&b.wh, &b.runs)
        .args([
            "backfill",
            "--start",
            "2025-10-21",
            "--end",
            "2025-11-03",
            "--include-bootstrap",
        ])
        .assert()
        .success();
    let after = daily("after");
    let (t0, t1) = (&before["totals"], &after["totals"]);
    assert!(
        t1["incomplete"].as_u64() > t0["incomplete"].as_u64(),
        "{t0}\n{t1}"
    );
    let early = |t: &serde_json::Value| t["incomplete_by_reason"]["early_season"].as_u64().unwrap();
    assert!(early(t1) > early(t0) + 500, "{t0}\n{t1}");
    // Data gaps are the records missing a game: a handful, not the early season.
    let gaps = |t: &serde_json::Value| t["data_gaps"].as_u64().unwrap();
    assert!(gaps(t1) < gaps(t0) + 50, "{t0}\n{t1}");
    let page = std::fs::read_to_string(b._dir.path().join("after").join("report.html")).unwrap();
    let card = page
        .split("<div class=\"card\">")
        .find(|c| c.contains(">data gaps<"))
        .unwrap();
    assert!(
        card.contains(&format!(
            "<div class=\"value\">{}</div>",
            thousands(gaps(t1))
        )),
        "{card}"
    );
}
