//! `runs`: what has been run against this warehouse, from two sources that can each be
//! incomplete: the run directories (every run, dry runs included, if they were kept)
//! and, on a local warehouse, the feature table's history (every commit, even from
//! another machine). On BigQuery the table keeps no history of who wrote it: the run
//! directories' manifests say which MERGE job wrote a run and which rolled it back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::model::FEATURES_TABLE;
use crate::model::count::thousands;
use crate::model::dates::DateRange;
use crate::run::manifest::{Compute, Manifest, Phase};
use crate::warehouse::delta::log::history;
use crate::warehouse::{LocalWarehouse, Warehouse};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub range: Option<DateRange>,
    pub dry_run: Option<bool>,
    pub rows_written: Option<u64>,
    /// Rows the merge left alone because another writer changed them after the export.
    pub conflicts: Option<u64>,
    /// The version the run committed to the feature table.
    pub table_version: Option<u64>,
    pub rolled_back_in: Option<u64>,
    /// Where the run computed the structs (`None`: known from a commit only).
    pub compute: Option<Compute>,
    /// On BigQuery: the MERGE job that wrote the run, and the job that rolled it back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_job: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_job: Option<String>,
    /// exported · dry run · merged · rolled back · no changes · incomplete · commit only
    pub status: String,
}

/// Every run known from `run_root` or (locally) the feature table's history, newest first.
pub async fn list(warehouse: &Warehouse, run_root: &Path) -> Result<Vec<RunSummary>> {
    let mut runs: BTreeMap<String, RunSummary> = BTreeMap::new();
    for (_, m) in run_dirs(run_root)? {
        runs.insert(m.run_id.clone(), from_manifest(&m));
    }
    if let Warehouse::Local(w) = warehouse {
        add_history(w, &mut runs).await?;
    }
    let mut out: Vec<RunSummary> = runs.into_values().map(finish_status).collect();
    out.reverse(); // ids start with their UTC time: newest first
    Ok(out)
}

/// The runs the Delta table's commits name, and the rollbacks of them.
async fn add_history(
    warehouse: &LocalWarehouse,
    runs: &mut BTreeMap<String, RunSummary>,
) -> Result<()> {
    let table = warehouse.open_table(FEATURES_TABLE).await?;
    for commit in history(&table)? {
        if let Some(id) = &commit.run_id {
            let run = runs.entry(id.clone()).or_insert_with(|| RunSummary {
                run_id: id.clone(),
                created_at: commit.timestamp.and_then(DateTime::from_timestamp_millis),
                status: "commit only (no run directory)".into(),
                ..Default::default()
            });
            run.table_version = Some(commit.version);
            run.rows_written = run.rows_written.or(commit.rows_updated);
        }
        if let Some(run) = commit.rollback_of.as_ref().and_then(|id| runs.get_mut(id)) {
            run.rolled_back_in = Some(commit.version);
        }
    }
    Ok(())
}

/// The run directories under `run_root` with their manifests. Directories without a
/// readable manifest are not runs of this tool and are left out.
pub fn run_dirs(run_root: &Path) -> Result<Vec<(PathBuf, Manifest)>> {
    let Ok(entries) = std::fs::read_dir(run_root) else {
        return Ok(Vec::new()); // no run directory yet
    };
    let mut out = Vec::new();
    for entry in entries {
        let dir = entry.map_err(Error::io("listing runs", run_root))?.path();
        if let Ok(m) = Manifest::load(&dir.join("manifest.json")) {
            out.push((dir, m));
        }
    }
    Ok(out)
}

fn from_manifest(m: &Manifest) -> RunSummary {
    let merge = m.merge.as_ref();
    let last = m.phases.keys().max();
    let status = match last {
        _ if m.dry_run && merge.is_none() && !m.is_done(Phase::Diff) => {
            match m.is_done(Phase::Export) {
                true => format!("exported: next `diff --run {}`", m.run_id),
                false => format!("incomplete dry run (backfill --resume {})", m.run_id),
            }
        }
        _ if m.dry_run && merge.is_none() => "dry run".to_string(),
        Some(Phase::Merge) if m.is_done(Phase::Merge) => "merged".to_string(),
        Some(p) => format!("incomplete: last phase {p:?} (backfill --resume)").to_lowercase(),
        None => "created".to_string(),
    };
    let bigquery = m.bigquery.as_ref();
    RunSummary {
        run_id: m.run_id.clone(),
        created_at: Some(m.created_at),
        range: Some(m.range),
        dry_run: Some(m.dry_run),
        rows_written: merge.map(|r| r.rows_written),
        conflicts: merge.map(|r| r.conflicts),
        table_version: merge.and_then(|r| r.table_version),
        rolled_back_in: None,
        compute: Some(m.compute),
        merge_job: bigquery
            .filter(|_| merge.is_some())
            .and_then(|b| b.jobs.iter().rev().find(|j| j.contains("_merge")).cloned()),
        rollback_job: bigquery.and_then(|b| b.rollback_job.clone()),
        status,
    }
}

fn finish_status(mut run: RunSummary) -> RunSummary {
    if let Some(v) = run.rolled_back_in {
        run.status = format!("rolled back in version {v}");
    } else if let Some(job) = &run.rollback_job {
        run.status = format!("rolled back by BigQuery job {job}");
    } else if run.status == "merged" && run.merge_job.is_some() {
        run.status = "merged by one BigQuery MERGE".into();
    } else if run.status == "merged" && run.table_version.is_none() {
        run.status = match run.conflicts.unwrap_or(0) {
            0 => "merged: no changes, no commit".into(),
            n => format!("merged: nothing written, all {n} changes conflicted"),
        };
    }
    run
}

/// The runs as a terminal table that fits `width` (one run per block when it cannot).
pub fn render(runs: &[RunSummary], width: Option<usize>) -> String {
    if runs.is_empty() {
        return format!(
            "no runs yet (start with `{COMPLETENESS} backfill --start … --end … --dry-run`)\n"
        );
    }
    let headers = [
        "run_id",
        "created",
        "range",
        "rows_written",
        "conflicts",
        "version",
        "computed",
        "status",
    ];
    let opt = |v: Option<u64>| v.map(thousands).unwrap_or_else(|| "-".into());
    let rows = runs
        .iter()
        .map(|r| {
            vec![
                r.run_id.clone(),
                r.created_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "-".into()),
                r.range
                    .map(|g| format!("{} – {}", g.start, g.end))
                    .unwrap_or_else(|| "-".into()),
                opt(r.rows_written),
                opt(r.conflicts),
                opt(r.table_version),
                r.compute.map_or("-", |c| c.name()).to_string(),
                r.status.clone(),
            ]
        })
        .collect();
    let columns = crate::ops::check::table::Columns {
        headers: headers.map(String::from).to_vec(),
        rows,
        numeric: vec![false, false, false, true, true, true, false, false],
    };
    // The creation time and the compute mode go first: the id holds the time.
    crate::ops::check::table::fit(&columns, width, &["created", "computed"])
}
