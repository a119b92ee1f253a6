//! `runs --prune`: finished runs' directories go, interrupted runs and directories that
//! are not runs stay, and `--dry-run` deletes nothing.

use std::path::Path;

use crate::support::*;

fn run_dirs(runs: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A run of `export` is a plan that has not been looked at yet: listed as exported with
/// the next step, never merged by a resume, pruned like any finished run (issue 25,
/// item 9); an interrupted run is kept for `--resume`.
#[cfg(feature = "test-hooks")]
#[test]
fn prune_removes_finished_runs_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let range = ["--start", "2026-01-20", "--end", "2026-01-22"];
    // A dry run, a merged run, an export ...
    for args in [
        &["backfill", "--dry-run"][..],
        &["backfill"][..],
        &["export"][..],
    ] {
        cli_at(&wh, &runs).args(args).args(range).assert().success();
    }
    let listed = cli_json(&wh, &runs, &["runs"]);
    let exported = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"].as_str().unwrap().starts_with("exported"))
        .unwrap_or_else(|| panic!("the export is listed as exported: {listed}"));
    let export_id = exported["run_id"].as_str().unwrap().to_string();
    assert!(
        exported["status"]
            .as_str()
            .unwrap()
            .contains(&format!("diff --run {export_id}")),
        "{exported}"
    );
    // ... and a run killed in its compute phase.
    let (mut child, _) = spawn_parked(&wh, &runs, &range, "compute:started", None);
    child.kill().unwrap();
    child.wait().unwrap();
    let unfinished = cli_json(&wh, &runs, &["runs"])
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"].as_str().unwrap().starts_with("incomplete"))
        .expect("the killed run is incomplete")["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::create_dir_all(runs.join("notes")).unwrap();
    std::fs::write(runs.join("notes").join("keep.txt"), "mine").unwrap();
    let before = run_dirs(&runs);
    assert_eq!(before.len(), 5, "{before:?}");

    // A resumed export is a dry run: the table is not written.
    let versions = delta_versions(&features_table(&wh));
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &export_id])
        .assert()
        .success();
    assert_eq!(delta_versions(&features_table(&wh)), versions, "no merge");

    // Recent runs are kept by default.
    let kept = cli_json(&wh, &runs, &["runs", "--prune"]);
    assert_eq!(kept["removed"].as_array().unwrap().len(), 0, "{kept}");
    // --dry-run lists the three finished runs and deletes nothing.
    let listed = cli_json(
        &wh,
        &runs,
        &["runs", "--prune", "--keep-days", "0", "--dry-run"],
    );
    assert_eq!(listed["removed"].as_array().unwrap().len(), 3, "{listed}");
    assert_eq!(run_dirs(&runs), before);

    let pruned = cli_at(&wh, &runs)
        .args(["runs", "--prune", "--keep-days", "0"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&pruned.get_output().stdout).into_owned();
    assert!(text.contains("removed 3 run directories"), "{text}");
    assert!(
        text.contains(&format!("kept {unfinished}: not finished")),
        "{text}"
    );
    assert_eq!(
        run_dirs(&runs),
        vec![unfinished.clone(), "notes".to_string()]
    );
    // The kept run still resumes.
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &unfinished])
        .assert()
        .success();
}
