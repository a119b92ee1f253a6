//! The crash matrix: kill a backfill with SIGKILL at every failpoint (each phase's start,
//! middle and end; the merge once its files are staged, once they are verified, and
//! after its commit), then check that the table is
//! exactly the pre-run or the post-run table, that `--resume` finishes the run, and
//! that the result equals an uninterrupted run's. Also SIGTERM and SIGINT: a clean stop
//! that says how to resume.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::thread::JoinHandle;

use arrow::array::RecordBatch;
use predicates::str::contains;

use crate::support::*;

const RANGE: [&str; 4] = ["--start", "2026-01-01", "--end", "2026-01-22"];
const ORDER: &str = "game_date, player_lookup";

/// The table without `updated_at` (a timestamp of when the run happened).
fn without_updated_at(batch: &RecordBatch) -> RecordBatch {
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| batch.schema().field(i).name() != "updated_at")
        .collect();
    batch.project(&keep).unwrap()
}

/// Row positions whose `updated_at` differs from version 0's.
fn touched(table: &Path) -> Vec<usize> {
    let v0 = micros(&read_table(table, Some(0), ORDER), "updated_at");
    let now = micros(&read_table(table, None, ORDER), "updated_at");
    (0..v0.len()).filter(|&i| v0[i] != now[i]).collect()
}

/// The feature table after an uninterrupted run, and the rows it touched.
fn reference() -> &'static (RecordBatch, Vec<usize>) {
    static REFERENCE: OnceLock<(RecordBatch, Vec<usize>)> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let wh = copy_of_samples(dir.path());
        cli_at(&wh, &dir.path().join("runs"))
            .arg("backfill")
            .args(RANGE)
            .assert()
            .success();
        let table = features_table(&wh);
        (
            without_updated_at(&read_table(&table, None, ORDER)),
            touched(&table),
        )
    })
}

fn run_until(wh: &Path, runs: &Path, failpoint: &str) -> (Child, JoinHandle<String>) {
    spawn_parked(wh, runs, &RANGE, failpoint, None)
}

fn kill_resume_and_compare(failpoint: &str) {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    let pristine = file_snapshot(&wh);
    let (expected, expected_touched) = reference();

    let (mut child, _) = run_until(&wh, &runs, failpoint);
    child.kill().unwrap(); // SIGKILL
    assert!(
        child.wait().unwrap().code().is_none(),
        "{failpoint}: not killed"
    );

    // Exactly the pre-run table (not a byte changed) or exactly the post-run table.
    match delta_versions(&table) {
        1 => assert!(
            file_snapshot(&wh) == pristine,
            "{failpoint}: warehouse changed"
        ),
        2 => assert_eq!(
            &without_updated_at(&read_table(&table, None, ORDER)),
            expected
        ),
        n => panic!("{failpoint}: {n} versions after the kill"),
    }

    let id = only_run_id(&runs);
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &id])
        .assert()
        .success();
    assert_eq!(
        delta_versions(&table),
        2,
        "{failpoint}: not exactly one commit"
    );
    assert_eq!(
        &without_updated_at(&read_table(&table, None, ORDER)),
        expected,
        "{failpoint}: the resumed run differs from an uninterrupted one"
    );
    assert_eq!(
        &touched(&table),
        expected_touched,
        "{failpoint}: updated_at differs"
    );
}

#[test]
fn sigkill_at_every_failpoint_then_resume_equals_an_uninterrupted_run() {
    for failpoint in completeness::failpoint::NAMES {
        kill_resume_and_compare(failpoint);
    }
}

fn stop_with(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let pristine = file_snapshot(&wh);
    let (mut child, stderr) = run_until(&wh, &runs, "diff:written");
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(code), "{signal}");
    assert!(
        file_snapshot(&wh) == pristine,
        "{signal}: warehouse changed"
    );
    let id = only_run_id(&runs);
    let message = stderr.join().unwrap();
    assert!(
        message.contains(&format!("SIG{signal}: stopped run {id}"))
            && message.contains(&format!(
                "{} backfill --resume {id}",
                program_at(&wh, &runs)
            )),
        "{message}"
    );
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &id])
        .assert()
        .success()
        .stdout(contains("applied: "));
    assert_eq!(
        &without_updated_at(&read_table(&features_table(&wh), None, ORDER)),
        &reference().0
    );
}

#[test]
fn sigterm_and_sigint_stop_cleanly_and_the_run_resumes() {
    stop_with("TERM", 143);
    stop_with("INT", 130);
}

#[test]
fn a_merge_that_breaks_an_invariant_is_never_committed() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let table = features_table(&wh);
    let pristine = file_snapshot(&wh);
    // A fault makes the rewrite also write data_hash, a column it must never touch.
    cli_at(&wh, &runs)
        .env("COMPLETENESS_INJECT", "merge:touch-data-hash")
        .arg("backfill")
        .args(RANGE)
        .assert()
        .code(3)
        .stderr(contains("write invariant violated before the commit"))
        .stderr(contains(
            "changed in columns other than historical_completeness, updated_at",
        ))
        .stderr(contains("nothing was committed"));
    assert_eq!(delta_versions(&table), 1, "no commit");
    assert!(
        file_snapshot(&wh) == pristine,
        "not a byte of the warehouse changed"
    );
    // Resumed without the fault, the run merges as an uninterrupted one would.
    cli_at(&wh, &runs)
        .args(["backfill", "--resume", &only_run_id(&runs)])
        .assert()
        .success();
    assert_eq!(delta_versions(&table), 2);
    assert_eq!(
        &without_updated_at(&read_table(&table, None, ORDER)),
        &reference().0
    );
}
