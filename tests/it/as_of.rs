//! `backfill --as-of created_at` on the sample warehouse: the generator's late-arriving
//! day must come out as the main reason records differ, and nothing is written.

use completeness::samples::{SampleOptions, generate};
use serde_json::Value;

use crate::support;

#[test]
fn as_of_dry_run_reports_the_late_arriving_rows_and_writes_nothing() {
    let truth = generate(&SampleOptions::default()).injected;
    let late_day = truth.late_days[0];
    let dir = tempfile::tempdir().unwrap();
    let wh = support::copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let before = support::file_snapshot(&wh);

    let args = ["backfill", "--as-of", "created_at", "--start", "2024-11-06"];
    let doc: Value = support::cli_json(&wh, &runs, &[&args[..], &["--end", "2026-01-22"]].concat());
    assert_eq!(support::file_snapshot(&wh), before, "nothing written");
    assert!(!runs.exists(), "no run directory");

    let features = support::read_table(&support::features_table(&wh), None, "game_date");
    assert_eq!(doc["records"], features.num_rows());
    let differ = doc["differ"].as_u64().unwrap();
    assert!(differ > 1000, "{doc}");
    let top = &doc["late_dates"][0];
    assert_eq!(top["game_date"], late_day.to_string(), "{top}");
    let days = top["days_after_game"].as_i64().unwrap();
    assert!((14..=29).contains(&days), "{top}");
    // The label pairs and per-record reasons account for every differing record.
    let labels: u64 = doc["label_changes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(labels, differ);
    for example in doc["examples"].as_array().unwrap() {
        assert_ne!(example["then"], example["now"]);
        assert!(!example["late_rows"].as_array().unwrap().is_empty());
    }

    // The terminal form names the late day first.
    let out = support::cli_at(&wh, &runs)
        .args(args)
        .args(["--end", "2026-01-22"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let why = text
        .lines()
        .skip_while(|l| !l.contains("why:"))
        .nth(2)
        .unwrap();
    assert!(
        why.trim_start().starts_with(&late_day.to_string()),
        "{text}"
    );
}

#[test]
fn as_of_cannot_resume_or_write_a_report() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [&["--resume", "x"][..], &["--report", "r"]] {
        support::cli_at(&support::sample_warehouse(), dir.path())
            .args(["backfill", "--as-of", "created_at"])
            .args(extra)
            .assert()
            .code(2);
    }
    support::cli_at(&support::sample_warehouse(), dir.path())
        .args([
            "backfill",
            "--as-of",
            "updated_at",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("created_at"));
}
