//! What the backends' operations report, in the same types for both.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::run::manifest::Snapshot;

/// What an export pinned and wrote.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ExportMetrics {
    pub num_feature_rows: u64,
    pub num_game_rows: u64,
    pub snapshot: Snapshot,
    pub season_starts: BTreeMap<i32, NaiveDate>,
    /// Set when there is no schedule table and the known season starts are used.
    pub schedule_missing: bool,
}

/// What a merge did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct MergeMetrics {
    /// Rows in changes.parquet.
    pub num_changes: u64,
    /// Rows updated in the table.
    pub num_rows_written: u64,
    /// Rows left alone because someone rewrote them after the export.
    pub num_conflicts: u64,
    /// First keys of the conflicting rows.
    pub conflict_keys: Vec<(String, NaiveDate)>,
    /// The table version the merge read.
    pub read_version: u64,
    /// The version committed; `None` when nothing was written.
    pub table_version: Option<u64>,
    /// The BigQuery job that committed the merge (a BigQuery warehouse).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    pub merge_time_ms: u64,
    /// Milliseconds per step of a local merge: `read`, `write`, `verify`, `commit`.
    pub steps_ms: BTreeMap<String, u64>,
}
