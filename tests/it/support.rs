//! Shared test helpers: temp warehouses, running the binary, reading tables back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use chrono::NaiveDate;
use completeness::model::days_to_date;

/// The committed sample warehouse.
pub fn sample_warehouse() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-samples")
        .join("warehouse")
}

/// A private copy of the sample warehouse.
pub fn copy_of_samples(dir: &Path) -> PathBuf {
    let to = dir.join("warehouse");
    copy_dir(&sample_warehouse(), &to);
    to
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file below `root` with its bytes, to prove nothing was touched.
pub fn file_snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

/// Number of commits in a Delta table's log.
pub fn delta_versions(table: &Path) -> usize {
    std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count()
}

pub fn features_table(warehouse: &Path) -> PathBuf {
    warehouse.join(completeness::model::FEATURES_TABLE)
}

/// The `completeness` binary with a hermetic environment.
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("completeness").unwrap();
    for var in [
        "COMPLETENESS_WAREHOUSE",
        "COMPLETENESS_RUN_DIR",
        "COMPLETENESS_CONFIG",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// All rows of a Delta table (at `version`, or the latest), sorted by `order_by`.
pub fn read_table(table: &Path, version: Option<u64>, order_by: &str) -> RecordBatch {
    runtime().block_on(async {
        let url = url::Url::from_directory_path(table).unwrap();
        let t = match version {
            Some(v) => deltalake::open_table_with_version(url, v).await.unwrap(),
            None => deltalake::open_table(url).await.unwrap(),
        };
        let ctx = datafusion::prelude::SessionContext::new();
        t.update_datafusion_session(&ctx.state()).unwrap();
        ctx.register_table("t", t.table_provider().await.unwrap())
            .unwrap();
        let df = ctx
            .sql(&format!("SELECT * FROM t ORDER BY {order_by}"))
            .await
            .unwrap();
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.unwrap();
        concat_batches(&schema, &batches).unwrap()
    })
}

/// `player_lookup` values of a batch as strings (whatever string type DataFusion chose).
pub fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let a = arrow::compute::cast(
        batch.column_by_name(column).unwrap(),
        &arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let a = a.as_string::<i32>();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect()
}

pub fn dates(batch: &RecordBatch, column: &str) -> Vec<Option<NaiveDate>> {
    let a = batch
        .column_by_name(column)
        .unwrap()
        .as_primitive::<arrow::datatypes::Date32Type>();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| days_to_date(a.value(i))))
        .collect()
}

pub fn micros(batch: &RecordBatch, column: &str) -> Vec<Option<i64>> {
    let a = batch
        .column_by_name(column)
        .unwrap()
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect()
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The binary pointed at a warehouse and a run-directory root.
pub fn cli_at(warehouse: &Path, runs: &Path) -> assert_cmd::Command {
    let mut cmd = cli();
    cmd.arg("--warehouse")
        .arg(warehouse)
        .arg("--run-dir")
        .arg(runs);
    cmd
}

/// Start `backfill ARGS` parked at `failpoint` (until `release` exists, if given);
/// returns once it is there, with a thread collecting the rest of its stderr.
#[cfg(feature = "test-hooks")]
pub fn spawn_parked(
    wh: &Path,
    runs: &Path,
    args: &[&str],
    failpoint: &str,
    release: Option<&Path>,
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let base = [
        "--warehouse".to_string(),
        wh.display().to_string(),
        "--run-dir".to_string(),
        runs.display().to_string(),
    ];
    let mut full = vec!["backfill"];
    full.extend_from_slice(args);
    spawn_parked_with(&base, &full, failpoint, release)
}

/// [`spawn_parked`] with any global options (`base`) and command line (`args`).
#[cfg(feature = "test-hooks")]
pub fn spawn_parked_with(
    base: &[String],
    args: &[&str],
    failpoint: &str,
    release: Option<&Path>,
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader};
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("completeness"));
    cmd.args(base)
        .args(args)
        .env("COMPLETENESS_FAILPOINT", failpoint)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(path) = release {
        cmd.env("COMPLETENESS_FAILPOINT_RELEASE", path);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let marker = format!("failpoint {failpoint} reached");
    let mut seen = Vec::new();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains(&marker) => break,
            Some(Ok(line)) => seen.push(line),
            Some(Err(_)) => continue,
            None => panic!(
                "the run ended without reaching {failpoint}: {:?}\n{}",
                child.wait(),
                seen.join("\n")
            ),
        }
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    let rest =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    (child, rest)
}

/// Run the binary with `--json ARGS` (expecting success) and parse what it printed.
pub fn cli_json(warehouse: &Path, runs: &Path, args: &[&str]) -> serde_json::Value {
    let out = cli_at(warehouse, runs)
        .arg("--json")
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// Append `batch` to the Delta table at `table` (a writer other than the tool).
pub fn append_rows(table: &Path, batch: RecordBatch) {
    runtime().block_on(async {
        let url = url::Url::from_directory_path(table).unwrap();
        deltalake::open_table(url)
            .await
            .unwrap()
            .write(vec![batch])
            .with_save_mode(deltalake::protocol::SaveMode::Append)
            .await
            .unwrap();
    });
}

/// `completeness` with the location flags `cli_at(warehouse, runs)` passes, as the
/// commands the tool prints for pasting begin (issue 25 item 8).
pub fn program_at(warehouse: &Path, runs: &Path) -> String {
    let quote = |p: &Path| shlex::try_quote(&p.to_string_lossy()).unwrap().into_owned();
    format!(
        "completeness --warehouse {} --run-dir {}",
        quote(warehouse),
        quote(runs)
    )
}

/// The id of the one run under `runs` (fails if there is not exactly one).
pub fn only_run_id(runs: &Path) -> String {
    let ids: Vec<String> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ids.len(), 1, "expected one run directory: {ids:?}");
    ids[0].clone()
}

/// The directory of the one run under `runs`.
pub fn only_run(runs: &Path) -> PathBuf {
    runs.join(only_run_id(runs))
}
