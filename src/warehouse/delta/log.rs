//! A Delta table's own record of its commits: versions numbered by the log's file
//! names, and the application transactions (`txn`) the tool writes with every commit.
//!
//! delta-rs's history listing skips commits without `commitInfo` (legal in Delta: other
//! writers omit it), so counting its entries mislabels every later version; reading the
//! `_delta_log/<version>.json` files directly cannot. Which runs committed is asked of
//! the `txn` actions instead: a checkpoint keeps the newest `txn` of every application
//! id, so a run is recognised after Delta's log cleanup has removed its commit file.

use std::path::Path;

use deltalake::DeltaTable;
use serde_json::Value;

use crate::error::{Error, Result};

/// Commit-info key holding the run id of a merge.
pub const RUN_ID_KEY: &str = "completeness_run_id";
/// Commit-info key naming the run a rollback undid.
pub const ROLLBACK_OF_KEY: &str = "completeness_rollback_of";
/// The tool's application id: every commit of the tool carries a `txn` for it, with a
/// version one above the last, so two of its commits racing always conflict.
pub const TOOL_APP_ID: &str = "completeness";

/// The application id recording that run `run_id` merged.
pub fn merge_app_id(run_id: &str) -> String {
    format!("completeness-run-{run_id}")
}

/// The application id recording that run `run_id` was rolled back.
pub fn rollback_app_id(run_id: &str) -> String {
    format!("completeness-rollback-{run_id}")
}

/// One commit of a table's history, with what `completeness` tagged it with.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Commit {
    pub version: u64,
    /// Milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub operation: Option<String>,
    /// The run that wrote it (`completeness_run_id`).
    pub run_id: Option<String>,
    /// The run it rolled back (`completeness_rollback_of`).
    pub rollback_of: Option<String>,
    /// Rows it updated (from the commit's operation metrics).
    pub rows_updated: Option<u64>,
}

/// The table's commits whose files the log still holds, newest first, up to the loaded
/// version.
pub fn history(table: &DeltaTable) -> Result<Vec<Commit>> {
    let latest = table.version().unwrap_or(0);
    let dir = log_dir(table)?;
    let entries = std::fs::read_dir(&dir).map_err(Error::io("listing the Delta log", &dir))?;
    let mut versions: Vec<u64> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| commit_version(&e.file_name().to_string_lossy()))
        .filter(|v| *v <= latest)
        .collect();
    versions.sort_unstable_by(|a, b| b.cmp(a));
    versions.into_iter().map(|v| read_commit(&dir, v)).collect()
}

/// `00000000000000000042.json` → 42; checkpoints and other files → None.
fn commit_version(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".json")?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

fn log_dir(table: &DeltaTable) -> Result<std::path::PathBuf> {
    let root = table
        .table_url()
        .to_file_path()
        .map_err(|()| Error::input(format!("{}: not a local Delta table", table.table_url())))?;
    Ok(root.join("_delta_log"))
}

/// One commit file, read line by line (each line one action).
fn read_commit(dir: &Path, version: u64) -> Result<Commit> {
    let path = dir.join(format!("{version:020}.json"));
    let text =
        std::fs::read_to_string(&path).map_err(Error::io("reading a Delta commit", &path))?;
    let mut commit = Commit {
        version,
        timestamp: None,
        operation: None,
        run_id: None,
        rollback_of: None,
        rows_updated: None,
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let action: Value = serde_json::from_str(line)
            .map_err(|e| Error::input(format!("{}: not a Delta commit ({e})", path.display())))?;
        if let Some(info) = action.get("commitInfo") {
            let text = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_string);
            commit.timestamp = info.get("timestamp").and_then(Value::as_i64);
            commit.operation = text("operation");
            commit.run_id = text(RUN_ID_KEY);
            commit.rollback_of = text(ROLLBACK_OF_KEY);
            commit.rows_updated = info
                .get("operationMetrics")
                .and_then(|m| m.get("num_target_rows_updated"))
                .and_then(Value::as_u64);
        }
    }
    Ok(commit)
}

/// Whether the table (at its loaded version) holds a `txn` for `app_id`.
pub async fn has_transaction(table: &DeltaTable, app_id: &str) -> Result<bool> {
    Ok(transaction_version(table, app_id).await?.is_some())
}

/// The version of the newest `txn` for `app_id`, if any.
pub async fn transaction_version(table: &DeltaTable, app_id: &str) -> Result<Option<i64>> {
    let context = format!("reading the transactions of {}", table.table_url());
    let snapshot = table.snapshot().map_err(Error::delta(context.clone()))?;
    snapshot
        .transaction_version(table.log_store().as_ref(), app_id)
        .await
        .map_err(Error::delta(context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_commit_files_have_versions() {
        assert_eq!(commit_version("00000000000000000042.json"), Some(42));
        assert_eq!(
            commit_version("00000000000000000010.checkpoint.parquet"),
            None
        );
        assert_eq!(commit_version("_last_checkpoint"), None);
        assert_eq!(commit_version("42.json"), None);
    }
}
